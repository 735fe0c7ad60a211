"""就医时使用家庭共济 at the doors a relative uses (docs/rules.md §6.2): accepting an offer in the
API and on the wallet page may make the choice in the same step, and the answer says what the
standing choice now is; the wallet shows the switch beside the quotas, and the API sets it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from gongji.core.clock import ManualClock
from gongji.kernel.context import Context
from gongji.kernel.sms import LogSmsGateway
from gongji.mutual_aid.service import authorizations, grants
from support.api import key, make_client, person_headers, post
from support.world import ELDER, at, build_context, insured, person_actor, relate, run

SON, MOTHER = "P620100000001", "P370100000001"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
OFF = {"use_mutual_aid": False, "chosen": False}


@pytest.fixture
def family(engine: Engine, tmp_path: Path) -> Iterator[tuple[TestClient, Context]]:
    clock = ManualClock(at("2026-03-02 10:00:00"))
    ctx = build_context(engine, clock)
    insured(ctx, SON, current=180_000, earlier=620_000, name="张建国")
    insured(ctx, MOTHER, region="370100", insutype="390", name="王桂兰", born=ELDER)
    relate(ctx, SON, MOTHER, "parent")
    with make_client(ctx, clock, tmp_path) as client:
        yield client, ctx


def _offer(ctx: Context, amount_fen: int = 10_000) -> str:
    son = person_actor(SON)
    return run(ctx, lambda uow: grants.offer(ctx, uow, son, MOTHER, amount_fen)).id


def test_the_api_accepts_with_or_without_the_choice(family: tuple[TestClient, Context]) -> None:
    client, ctx = family
    mother = person_headers(ctx, MOTHER)
    plain = post(client, f"/api/v1/grants/{_offer(ctx)}/accept", mother)
    assert plain.status_code == 200, plain.text
    assert (plain.json()["state"], plain.json()["mutual_aid"]) == ("active", OFF)
    assert client.get("/api/v1/wallet", headers=mother).json()["mutual_aid"] == OFF

    chosen = post(
        client, f"/api/v1/grants/{_offer(ctx, 5_000)}/accept", mother, {"use_mutual_aid": True}
    )
    assert chosen.json()["mutual_aid"] == {"use_mutual_aid": True, "chosen": True}
    wallet = client.get("/api/v1/wallet", headers=mother).json()
    assert wallet["mutual_aid"] == {"use_mutual_aid": True, "chosen": True}
    assert wallet["received_total"] == "150.00"

    bad = post(client, f"/api/v1/grants/{_offer(ctx, 1_000)}/accept", mother, {"use": True})
    assert bad.status_code == 422  # an unknown field is refused, nothing accepted
    offers = client.get("/api/v1/wallet", headers=mother).json()["offers_to_me"]
    assert [o["amount"] for o in offers] == ["10.00"]


def test_the_api_switch_sets_the_standing_choice(family: tuple[TestClient, Context]) -> None:
    client, ctx = family
    mother = person_headers(ctx, MOTHER)
    put = {"headers": {**mother, **key()}}
    on = client.put("/api/v1/wallet/mutual-aid", json={"use_mutual_aid": True}, **put)
    assert on.json() == {"use_mutual_aid": True, "chosen": True}
    again = client.put("/api/v1/wallet/mutual-aid", json={"use_mutual_aid": True}, **put)
    assert again.headers.get("Idempotency-Replayed") == "true"
    off = client.put(
        "/api/v1/wallet/mutual-aid", json={"use_mutual_aid": False}, headers={**mother, **key()}
    )
    assert off.json() == {"use_mutual_aid": False, "chosen": True}
    history = client.get("/api/v1/wallet/history", headers=mother).json()["events"]
    assert [e["kind"] for e in history][-2:] == ["mutual_aid_on", "mutual_aid_off"]


def _csrf(page: Any) -> str:
    found = _CSRF.search(page.text)
    assert found is not None, page.text[:300]
    return found.group(1)


def _sign_in(client: TestClient, ctx: Context, psn_no: str) -> None:
    mobile = f"138{abs(hash(psn_no)) % 10**8:08d}"
    client.post("/login/code", data={"csrf_token": _csrf(client.get("/login")), "mobile": mobile})
    sms = ctx.sms
    assert isinstance(sms, LogSmsGateway)
    form = {"csrf_token": _csrf(client.get("/login?step=code")), "code": sms.last_code(mobile)}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 303


def test_the_wallet_page_asks_on_accepting_and_shows_the_switch(
    family: tuple[TestClient, Context],
) -> None:
    client, ctx = family
    _sign_in(client, ctx, MOTHER)
    first, second = _offer(ctx), _offer_later(ctx)
    home = client.get("/wallet")
    assert "同时开启“就医时使用家庭共济”" in home.text and 'name="use_mutual_aid"' in home.text
    assert 'id="choice-state"><strong>未开启' in home.text

    plain = client.post(
        f"/wallet/offers/{first}/accept", data={"csrf_token": _csrf(home)}, follow_redirects=False
    )
    assert plain.headers["location"].endswith("/wallet?done=accepted")
    ticked = client.post(
        f"/wallet/offers/{second}/accept",
        data={"csrf_token": _csrf(home), "use_mutual_aid": "1"},
        follow_redirects=False,
    )
    assert ticked.headers["location"].endswith("/wallet?done=accepted_mutual_aid_on")
    after = client.get("/wallet?done=accepted_mutual_aid_on")
    assert "已接收共济额度；就医时将使用家庭共济" in after.text
    assert 'id="choice-state"><strong>已开启' in after.text

    for back, lands in (("/wallet/authorizations", "/wallet/authorizations"), ("//x", "/wallet")):
        switched = client.post(
            "/wallet/settings/mutual-aid",
            data={"csrf_token": _csrf(after), "use_mutual_aid": "0", "back": back},
            follow_redirects=False,
        )
        assert switched.headers["location"].endswith(f"{lands}?done=mutual_aid_off")
    assert 'id="choice-state"><strong>未开启' in client.get("/wallet").text
    son = person_actor(SON)
    run(ctx, lambda uow: authorizations.bind(ctx, uow, son, MOTHER, None))
    page = client.get("/wallet/authorizations")  # the switch beside what she was authorized
    assert 'id="choice-state"><strong>未开启' in page.text
    assert "亲属开启“就医时使用家庭共济”后才会使用" in page.text


def _offer_later(ctx: Context) -> str:
    """A second offer the same day, by a second relative (one open offer per pair)."""
    insured(ctx, "P620100000002", earlier=50_000, name="李秀英")
    relate(ctx, "P620100000002", MOTHER, "parent")
    wife = person_actor("P620100000002")
    return run(ctx, lambda uow: grants.offer(ctx, uow, wife, MOTHER, 2_000)).id
