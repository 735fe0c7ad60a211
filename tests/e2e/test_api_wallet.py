"""The wallet story through HTTP, and bad input: every refusal is a 4xx with a code, changes
nothing, and nothing ever answers 500. On both databases.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from gongji.core.clock import ManualClock
from gongji.kernel.context import Context
from gongji.ledger.check import check_ledger
from gongji.store.tables import ledger_transfers
from gongji.store.tables_people import grants, relationships
from support.api import key, make_client, operator_headers, person_headers, post
from support.world import (
    ELDER,
    IDS,
    PAYMENT_PIN,
    at,
    build_context,
    insured,
    record_kinship,
    set_payment_password,
)

SON, MOTHER = "P620100000001", "P370100000001"


@pytest.fixture
def story(engine: Engine, tmp_path: Path) -> Iterator[tuple[TestClient, Context]]:
    clock = ManualClock(at("2026-03-02 10:00:00"))
    ctx = build_context(engine, clock)
    insured(ctx, SON, current=180_000, earlier=620_000, name="张建国")
    insured(ctx, MOTHER, region="370100", insutype="390", name="王桂兰", born=ELDER)
    record_kinship(ctx, SON, MOTHER, "parent")
    set_payment_password(ctx, SON)
    with make_client(ctx, clock, tmp_path) as client:
        yield client, ctx


def _counts(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as connection:
        return tuple(  # type: ignore[return-value]
            connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (ledger_transfers, grants, relationships)
        )


def test_a_son_shares_money_with_his_mother(story: tuple[TestClient, Context]) -> None:
    client, ctx = story
    son, mother = person_headers(ctx, SON), person_headers(ctx, MOTHER)
    id_number, name = IDS[MOTHER]
    proposed = post(
        client, "/api/v1/relationships", son, {"id_number": id_number, "name": name, "kind": "父母"}
    )
    assert proposed.status_code == 201, proposed.text
    relationship_id = proposed.json()["id"]
    confirmed = post(client, f"/api/v1/relationships/{relationship_id}/confirm", mother)
    assert confirmed.json()["status"] == "active"

    offered = post(
        client,
        "/api/v1/grants",
        son,
        {"recipient": MOTHER, "amount": "500.00", "payment_password": PAYMENT_PIN},
    )
    assert offered.status_code == 201, offered.text
    assert offered.json()["expires_at"] == "2026-03-02T22:00:00+00:00"  # 06:00 Shanghai
    wallet = client.get("/api/v1/wallet", headers=son).json()
    assert wallet["personal_account"] == {
        "region": "620100",
        "this_year": "1800.00",
        "earlier_years": "6200.00",
        "earmarked": "500.00",
        "available": "7500.00",
    }
    assert wallet["today"]["grants_left"] == 2
    offers = client.get("/api/v1/wallet", headers=mother).json()["offers_to_me"]
    assert [o["amount"] for o in offers] == ["500.00"]

    accepted = post(client, f"/api/v1/grants/{offered.json()['id']}/accept", mother)
    assert accepted.json()["state"] == "active"
    mine = client.get("/api/v1/wallet", headers=mother).json()
    assert mine["received_total"] == "500.00" and mine["personal_account"] is None
    history = client.get("/api/v1/wallet/history?limit=2", headers=son).json()
    assert [e["kind"] for e in history["events"]] == ["wallet_opened", "payment_password_set"]
    assert history["next_cursor"] is not None
    assert check_ledger(ctx.engine).ok


def test_idempotency_key_replays_the_offer(story: tuple[TestClient, Context]) -> None:
    client, ctx = story
    son, mother = person_headers(ctx, SON), person_headers(ctx, MOTHER)
    id_number, name = IDS[MOTHER]
    relationship = post(
        client,
        "/api/v1/relationships",
        son,
        {"id_number": id_number, "name": name, "kind": "parent"},
    )
    post(client, f"/api/v1/relationships/{relationship.json()['id']}/confirm", mother)
    headers = {**son, **key()}
    first = client.post(
        "/api/v1/grants",
        json={"recipient": MOTHER, "amount": "10.00", "payment_password": PAYMENT_PIN},
        headers=headers,
    )
    again = client.post(
        "/api/v1/grants",
        json={"recipient": MOTHER, "amount": "10.00", "payment_password": PAYMENT_PIN},
        headers=headers,
    )
    other = client.post(
        "/api/v1/grants",
        json={"recipient": MOTHER, "amount": "11.00", "payment_password": PAYMENT_PIN},
        headers=headers,
    )
    assert first.json() == again.json() and again.headers["Idempotency-Replayed"] == "true"
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        (
            "/api/v1/grants",
            {"recipient": MOTHER, "amount": "1e3", "payment_password": PAYMENT_PIN},
            "amount_not_a_number",
        ),
        (
            "/api/v1/grants",
            {"recipient": MOTHER, "amount": "-5", "payment_password": PAYMENT_PIN},
            "amount_negative",
        ),
        (
            "/api/v1/grants",
            {"recipient": MOTHER, "amount": "0.001", "payment_password": PAYMENT_PIN},
            "amount_too_precise",
        ),
        (
            "/api/v1/grants",
            {"recipient": MOTHER, "amount": 12.5, "payment_password": PAYMENT_PIN},
            "amount_float_refused",
        ),
        (
            "/api/v1/grants",
            {"recipient": MOTHER, "amount": "2000.01", "payment_password": PAYMENT_PIN},
            "grant_amount_exceeds_limit",
        ),
        (
            "/api/v1/grants",
            {"recipient": "P999", "amount": "1.00", "payment_password": PAYMENT_PIN},
            "not_found",
        ),
        ("/api/v1/grants", {"recipient": MOTHER}, "request_invalid"),
        ("/api/v1/grants", {"recipient": MOTHER, "amount": "1.00"}, "payment_password_required"),
        (
            "/api/v1/grants",
            {"recipient": MOTHER, "amount": "1.00", "payment_password": "258014"},
            "payment_password_wrong",
        ),
        (
            "/api/v1/grants",
            {"recipient": MOTHER, "amount": "1.00", "payment_password": "25801x"},
            "payment_password_malformed",
        ),
        (
            "/api/v1/authorizations",
            {"recipient": MOTHER, "payment_password": "000000"},
            "payment_password_wrong",
        ),
        ("/api/v1/grants", ["not", "an", "object"], "request_invalid"),
        (
            "/api/v1/relationships",
            {"id_number": "620102199001011235", "name": "王桂兰", "kind": "parent"},
            "relative_not_found",
        ),
        (
            "/api/v1/relationships",
            {"id_number": "12345", "name": "王桂兰", "kind": "parent"},
            "request_invalid",
        ),
        (
            "/api/v1/relationships",
            {"id_number": "X" * 18, "name": "王桂兰", "kind": "cousin"},
            "kinship_kind_unknown",
        ),
        ("/api/v1/grants/G-unknown/accept", {}, "not_found"),
        ("/api/v1/wallet/open", {"place_of_use": "999999"}, "region_unknown"),
        ("/api/v1/wallet/open", {"place_of_use": "620100"}, "wallet_already_open"),
    ],
)
def test_bad_input_is_refused_with_a_code_and_changes_nothing(
    story: tuple[TestClient, Context], path: str, body: object, code: str
) -> None:
    client, ctx = story
    son = person_headers(ctx, SON)
    before = _counts(ctx.engine)
    answer = client.post(path, json=body, headers={**son, **key()})
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.json()["code"] == code
    assert answer.json()["message"]
    assert _counts(ctx.engine) == before


def test_malformed_json_oversized_bodies_and_no_token(story: tuple[TestClient, Context]) -> None:
    client, ctx = story
    son = {**person_headers(ctx, SON), **key(), "Content-Type": "application/json"}
    broken = client.post("/api/v1/grants", content=b'{"recipient": ', headers=son)
    assert (broken.status_code, broken.json()["code"]) == (422, "request_invalid")
    huge = client.post("/api/v1/grants", content=b"{" + b" " * (2 << 20) + b"}", headers=son)
    assert (huge.status_code, huge.json()["code"]) == (413, "request_too_large")
    anonymous = client.get("/api/v1/wallet")
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "unauthorized")
    english = client.get("/api/v1/wallet", headers={"Accept-Language": "en"})
    assert english.json()["message"].isascii()


def test_operators_review_freeze_and_run_the_expiry_job(story: tuple[TestClient, Context]) -> None:
    client, ctx = story
    risk = operator_headers(ctx, "risk1", "risk_officer")
    son = person_headers(ctx, SON)
    frozen = post(
        client, f"/api/v1/admin/wallets/{MOTHER}/freeze", risk, {"reason": "疑似虚假共济"}
    )
    assert frozen.json()["status"] == "frozen"
    refused = post(client, f"/api/v1/admin/wallets/{MOTHER}/freeze", son, {"reason": "x"})
    assert refused.status_code == 403
    clerk = operator_headers(ctx, "clerk1", "clerk")
    ran = client.post("/api/v1/admin/jobs/expire-grants/run", headers=clerk)
    assert ran.json() == {"job": "expire-grants", "processed": 0}
    policy = client.get("/api/v1/admin/policy/371400?at=2026-03-02", headers=clerk).json()
    assert policy["values"]["mutual_aid_earlier_years_only"] == "True"
    assert "371400" in policy["sources"]["mutual_aid_earlier_years_only"]
    late = {"now": "2026-03-02T22:30:00+08:00"}
    assert client.put("/api/v1/test/clock", json=late).status_code == 401  # even in tests' mode
    assert client.put("/api/v1/test/clock", json=late, headers=son).status_code == 403
    clock = client.put("/api/v1/test/clock", json=late, headers=clerk)
    assert clock.status_code == 200
