"""/api/v1/premiums over HTTP, on both databases: the son pays his mother's resident premium,
the Idempotency-Key replays it, a second payment under a new key is 409, bad bodies are 4xx with
a code, and each side lists what it paid or what was paid for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from gongji.core.clock import ManualClock
from gongji.kernel.context import Context
from gongji.store.tables import ledger_transfers
from gongji.store.tables_clearing import premium_payments
from support.api import key, make_client, person_headers, post
from support.world import (
    ELDER,
    PAYMENT_PIN,
    at,
    build_context,
    insured,
    relate,
    set_payment_password,
)

SON, MOTHER, STRANGER = "P620100000001", "P370100000001", "P370100000009"
PATH = "/api/v1/premiums"


@pytest.fixture
def story(engine: Engine, tmp_path: Path) -> Iterator[tuple[TestClient, Context]]:
    clock = ManualClock(at("2026-03-02 10:00:00"))
    ctx = build_context(engine, clock)
    insured(ctx, SON, current=180_000, earlier=620_000, name="张建国")
    insured(ctx, MOTHER, region="370100", insutype="390", name="王桂兰", born=ELDER)
    insured(ctx, STRANGER, region="370100", insutype="390", name="赵四")
    relate(ctx, SON, MOTHER, "parent")
    for payer in (SON, MOTHER, STRANGER):
        set_payment_password(ctx, payer)
    with make_client(ctx, clock, tmp_path) as client:
        yield client, ctx


def _written(engine: Engine) -> tuple[int, int]:
    with engine.connect() as connection:
        return tuple(  # type: ignore[return-value]
            connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (premium_payments, ledger_transfers)
        )


def _order(**changes: Any) -> dict[str, Any]:
    body = {
        "psn_no": MOTHER,
        "year": 2026,
        "kind": "resident",
        "source": "own_account",
        "payment_password": PAYMENT_PIN,
    }
    return {k: v for k, v in {**body, **changes}.items() if v is not None}


def test_the_son_pays_and_both_see_it(story: tuple[TestClient, Context]) -> None:
    client, ctx = story
    son, mother = person_headers(ctx, SON), person_headers(ctx, MOTHER)
    headers = {**son, **key()}
    paid = client.post(PATH, json=_order(), headers=headers)
    assert paid.status_code == 201, paid.text
    answer = paid.json()
    assert {k: answer[k] for k in ("psn_no", "payer", "kind", "source", "region", "amount")} == {
        "psn_no": MOTHER,
        "payer": SON,
        "kind": "resident",
        "source": "own_account",
        "region": "370100",
        "amount": "400.00",
    }
    assert answer["draws"] == [{"kind": "own", "source_id": SON, "amount": "400.00"}]
    replay = client.post(PATH, json=_order(), headers=headers)
    assert replay.status_code == 201
    assert replay.headers.get("Idempotency-Replayed") == "true"
    assert replay.json() == answer
    wallet = client.get("/api/v1/wallet", headers=son).json()
    assert wallet["personal_account"]["available"] == "7600.00"

    again = post(client, PATH, son, _order())
    assert again.status_code == 409
    assert again.json()["code"] == "premium_already_paid"
    assert "2026" in again.json()["message"] and "居民医保" in again.json()["message"]

    for viewer in (son, mother):
        listed = client.get(PATH, headers=viewer)
        assert listed.status_code == 200
        assert [(p["psn_no"], p["payer"], p["amount"]) for p in listed.json()] == [
            (MOTHER, SON, "400.00")
        ]
    assert client.get(PATH, headers=person_headers(ctx, STRANGER)).json() == []


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({"psn_no": STRANGER}, 400, "relationship_not_active"),
        ({"psn_no": SON, "kind": "long_term_care"}, 400, "premium_own_account_for_self"),
        ({"year": 2025}, 400, "premium_year_invalid"),
        ({"source": "grants"}, 400, "premium_quota_insufficient"),
        ({"kind": "dental"}, 422, "request_invalid"),
        ({"source": "cash"}, 422, "request_invalid"),
        ({"year": None}, 422, "request_invalid"),
        ({"amount": "1.00"}, 422, "request_invalid"),
    ],
)
def test_bad_orders_are_refused_and_write_nothing(
    story: tuple[TestClient, Context], changes: dict[str, Any], status: int, code: str
) -> None:
    client, ctx = story
    before = _written(ctx.engine)
    answer = post(client, PATH, person_headers(ctx, SON), _order(**changes))
    assert answer.status_code == status, answer.text
    assert answer.json()["code"] == code
    assert _written(ctx.engine) == before


def test_a_key_is_required_and_only_persons_pay(story: tuple[TestClient, Context]) -> None:
    client, ctx = story
    missing = client.post(PATH, json=_order(), headers=person_headers(ctx, SON))
    assert missing.status_code == 400
    assert missing.json()["code"] == "idempotency_key_required"
    anonymous = client.post(PATH, json=_order(), headers=key())
    assert anonymous.status_code == 401
    assert _written(ctx.engine)[0] == 0
