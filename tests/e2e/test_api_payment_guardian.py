"""/api/v1 for the payment password (docs/rules.md §16) and guardian mode (§17), on both
databases: set it, be asked for it before an offer, an authorization and a premium, reset it
with the SMS code and the ID number; a mother lets her son fetch her e-voucher and read her
wallet, then revokes it. The password is never in an answer nor in the idempotency record."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from gongji.core.clock import ManualClock
from gongji.kernel.context import Context
from gongji.kernel.sms import LogSmsGateway
from gongji.people.service.credentials_lookup import Presented, identify_presented
from gongji.store.tables_access import idempotency_keys
from support.api import key, make_client, person_headers, post
from support.world import ELDER, IDS, at, build_context, insured, relate, run

SON, MOTHER = "P620100000001", "P370100000001"
PIN, NEW_PIN = "470193", "581302"


@pytest.fixture
def story(engine: Engine, tmp_path: Path) -> Iterator[tuple[TestClient, Context, str]]:
    clock = ManualClock(at("2026-03-02 10:00:00"))
    ctx = build_context(engine, clock)
    insured(ctx, SON, current=180_000, earlier=620_000, name="张建国")
    insured(ctx, MOTHER, current=20_000, earlier=10_000, name="王桂兰", born=ELDER)
    relationship_id = relate(ctx, SON, MOTHER, "parent")
    with make_client(ctx, clock, tmp_path) as client:
        yield client, ctx, relationship_id


def test_the_payment_password_over_http(story: tuple[TestClient, Context, str]) -> None:
    client, ctx, _ = story
    son = person_headers(ctx, SON)
    offer = {"recipient": MOTHER, "amount": "100.00"}
    assert client.get("/api/v1/payment-password", headers=son).json() == {
        "is_set": False,
        "required": True,
        "locked_until": None,
        "set_at": None,
    }
    refused = post(client, "/api/v1/grants", son, offer)
    assert (refused.status_code, refused.json()["code"]) == (403, "payment_password_not_set")
    assert "设置" in refused.json()["message"]

    weak = client.put(
        "/api/v1/payment-password",
        json={"new_payment_password": "123456", "repeat_payment_password": "123456"},
        headers=son,
    )
    assert (weak.status_code, weak.json()["code"]) == (400, "payment_password_weak")
    made = client.put(
        "/api/v1/payment-password",
        json={"new_payment_password": PIN, "repeat_payment_password": PIN},
        headers=son,
    )
    assert made.status_code == 200 and made.json()["is_set"] is True
    assert PIN not in made.text

    asked = post(client, "/api/v1/grants", son, offer)
    assert (asked.status_code, asked.json()["code"]) == (403, "payment_password_required")
    wrong = post(client, "/api/v1/grants", son, {**offer, "payment_password": "470194"})
    assert (wrong.status_code, wrong.json()["code"]) == (403, "payment_password_wrong")
    assert wrong.json()["detail"] == {"attempts_left": 4}
    headers = {**son, **key()}
    given = client.post("/api/v1/grants", json={**offer, "payment_password": PIN}, headers=headers)
    assert given.status_code == 201, given.text
    assert PIN not in given.text
    replay = client.post("/api/v1/grants", json={**offer, "payment_password": PIN}, headers=headers)
    assert replay.headers.get("Idempotency-Replayed") == "true"
    with ctx.engine.connect() as connection:
        stored = connection.execute(select(idempotency_keys)).mappings().all()
    assert stored and all(PIN not in str(dict(row)) for row in stored)

    bound = post(
        client, "/api/v1/authorizations", son, {"recipient": MOTHER, "payment_password": PIN}
    )
    assert bound.status_code == 201, bound.text
    premium = {"psn_no": MOTHER, "year": 2026, "kind": "long_term_care", "source": "own_account"}
    unpaid = post(client, "/api/v1/premiums", son, premium)
    assert unpaid.json()["code"] == "payment_password_required"
    paid = post(client, "/api/v1/premiums", son, {**premium, "payment_password": PIN})
    assert paid.status_code == 201, paid.text


def test_locked_then_reset_by_sms_code_and_id_number(
    story: tuple[TestClient, Context, str],
) -> None:
    client, ctx, _ = story
    son = person_headers(ctx, SON)
    body = {"new_payment_password": PIN, "repeat_payment_password": PIN}
    assert client.put("/api/v1/payment-password", json=body, headers=son).status_code == 200
    offer = {"recipient": MOTHER, "amount": "1.00", "payment_password": "000001"}
    codes = [post(client, "/api/v1/grants", son, offer).json()["code"] for _ in range(6)]
    assert codes == ["payment_password_wrong"] * 4 + ["payment_password_locked"] * 2
    locked = post(client, "/api/v1/grants", son, {**offer, "payment_password": PIN})
    assert (locked.status_code, locked.json()["code"]) == (429, "payment_password_locked")
    assert client.get("/api/v1/payment-password", headers=son).json()["locked_until"]

    sent = client.post("/api/v1/payment-password/reset-code", headers=son)
    assert sent.status_code == 200 and "*" in sent.json()["mobile_masked"]
    sms = ctx.sms
    assert isinstance(sms, LogSmsGateway)
    code = sms.last_code(f"138{abs(hash(SON)) % 10**8:08d}")
    assert code is not None and code not in sent.text
    reset = {
        "code": code,
        "id_number": IDS[MOTHER][0],  # not his
        "new_payment_password": NEW_PIN,
        "repeat_payment_password": NEW_PIN,
    }
    refused = client.post("/api/v1/payment-password/reset", json=reset, headers=son)
    assert (refused.status_code, refused.json()["code"]) == (403, "payment_reset_refused")
    reset["id_number"] = IDS[SON][0]
    done = client.post("/api/v1/payment-password/reset", json=reset, headers=son)
    assert done.status_code == 200 and done.json()["locked_until"] is None
    given = post(client, "/api/v1/grants", son, {**offer, "payment_password": NEW_PIN})
    assert given.status_code == 201, given.text


def test_a_mother_lets_her_son_fetch_her_voucher_then_revokes_it(
    story: tuple[TestClient, Context, str],
) -> None:
    client, ctx, relationship_id = story
    son, mother = person_headers(ctx, SON), person_headers(ctx, MOTHER)
    voucher_path = f"/api/v1/guardians/held/{MOTHER}/voucher"
    wallet_path = f"/api/v1/guardians/held/{MOTHER}/wallet"
    before = client.post(voucher_path, headers=son)
    assert (before.status_code, before.json()["code"]) == (403, "guardian_not_allowed")
    # only the holder grants, from her side of the relationship
    granted = post(client, "/api/v1/guardians", mother, {"relationship_id": relationship_id})
    assert granted.status_code == 201, granted.text
    consent = granted.json()
    assert (consent["holder"], consent["guardian"], consent["other_name"]) == (MOTHER, SON, "张**")
    listed = client.get("/api/v1/guardians", headers=son).json()
    assert [c["holder"] for c in listed["held"]] == [MOTHER] and listed["given"] == []

    shown = client.post(voucher_path, headers=son)
    assert shown.status_code == 200, shown.text
    token = shown.json()["token"]
    found = run(ctx, lambda uow: identify_presented(ctx, uow, Presented("01", token)))
    assert found.psn_no == MOTHER
    wallet = client.get(wallet_path, headers=son).json()
    assert wallet["psn_no"] == MOTHER and wallet["personal_account"]["available"] == "300.00"
    history = client.get("/api/v1/wallet/history?limit=100", headers=mother).json()
    assert "guardian_voucher_shown" in [e["kind"] for e in history["events"]]

    not_his = post(client, f"/api/v1/guardians/{consent['id']}/revoke", son)
    assert not_his.status_code == 404
    revoked = post(client, f"/api/v1/guardians/{consent['id']}/revoke", mother)
    assert revoked.json()["end_reason"] == "revoked"
    for refused in (client.post(voucher_path, headers=son), client.get(wallet_path, headers=son)):
        assert (refused.status_code, refused.json()["code"]) == (403, "guardian_not_allowed")
