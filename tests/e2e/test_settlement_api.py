"""/api/v1/settlements over HTTP, signed by institutions (docs/signing.md), on both databases:
the full round trip (quote, settle, get, list, reverse), idempotency per request id, every bad
input refused with a code and a Chinese message and nothing written, and the signing refusals.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from gongji.settlement.store import settlements_repo
from gongji.store.tables import ledger_transfers
from gongji.store.tables_settlements import accumulators, settlements
from support.credentials import card
from support.desk import PHARMACY
from support.till import BASE, MOTHER, SON, Counter, mother_bill, open_counter
from support.world import choose_mutual_aid, give, run


@pytest.fixture
def counter(engine: Engine, tmp_path: Path) -> Iterator[Counter]:
    with open_counter(engine, tmp_path) as opened:
        yield opened


def written(engine: Engine) -> tuple[int, int, int]:
    """Rows that a settlement writes: settlements, ledger transfers, accumulators."""
    with engine.connect() as connection:
        return tuple(  # type: ignore[return-value]
            connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (settlements, ledger_transfers, accumulators)
        )


# --- the round trip -----------------------------------------------------------------------


def test_quote_settle_get_list_and_reverse(counter: Counter) -> None:
    grant_id = counter.give(SON, MOTHER, 50_000)
    till = counter.pharmacy
    before = written(counter.ctx.engine)

    # 390 × 41 (illustrative): no deductible, ratio 50 %. 2 × 60.00 class A = 120.00: the fund
    # pays 60.00, the mother's 60.00 comes from her son's grant (she has no account of her own).
    quoted = till.post(f"{BASE}/quote", mother_bill(None))
    assert quoted.status_code == 200, quoted.text
    figures = quoted.json()
    assert (figures["medfee_sumamt"], figures["fund_pay_sumamt"], figures["psn_part_amt"]) == (
        "120.00",
        "60.00",
        "60.00",
    )
    assert (figures["acct_pay"], figures["acct_mulaid_pay"], figures["psn_cash_pay"]) == (
        "60.00",
        "60.00",
        "0.00",
    )
    assert figures["draws"] == [
        {"kind": "grant", "contributor_region": "620100", "amount": "60.00"}
    ]
    assert written(counter.ctx.engine) == before  # a quote moves nothing
    assert counter.received(MOTHER) == 50_000

    settled = till.post(BASE, mother_bill("jn-1"))
    assert settled.status_code == 201, settled.text
    made = settled.json()
    setl_id = made["setl_id"]
    assert made["kind"] == "settlement" and made["fixmedins_code"] == PHARMACY
    assert (made["insuplc_admdvs"], made["mdtrtarea_admvs"], made["setl_date"]) == (
        "370100",
        "370100",
        "2026-03-02",
    )
    assert {k: made[k] for k in ("medfee_sumamt", "fund_pay_sumamt", "acct_mulaid_pay")} == {
        "medfee_sumamt": "120.00",
        "fund_pay_sumamt": "60.00",
        "acct_mulaid_pay": "60.00",
    }
    assert made["items"][0]["det_item_fee_sumamt"] == "120.00"
    assert [(d["kind"], d["source_id"], d["amount"]) for d in made["draws"]] == [
        ("grant", grant_id, "60.00")
    ]
    assert counter.received(MOTHER) == 44_000

    fetched = till.get(f"{BASE}/{setl_id}")
    assert fetched.status_code == 200
    assert fetched.json() == made

    counter.clock.advance(timedelta(minutes=5))
    undone = till.post(f"{BASE}/{setl_id}/reverse", {"request_id": "jn-1-r"})
    assert undone.status_code == 201, undone.text
    reversal = undone.json()
    assert reversal["kind"] == "reversal" and reversal["reverses"] == setl_id
    assert (reversal["medfee_sumamt"], reversal["acct_mulaid_pay"]) == ("-120.00", "-60.00")
    assert counter.received(MOTHER) == 50_000
    used = run(
        counter.ctx,
        lambda uow: settlements_repo.read_accumulator(
            uow.connection, MOTHER, 2026, "390", "outpatient"
        ),
    )
    assert used == (0, 0)

    listed = till.get(f"{BASE}?date=2026-03-02")
    assert listed.status_code == 200
    day = listed.json()
    assert [(s["setl_id"], s["kind"]) for s in day["settlements"]] == [
        (setl_id, "settlement"),
        (reversal["setl_id"], "reversal"),
    ]
    assert day["truncated"] is False
    assert till.get(f"{BASE}?date=2026-03-01").json()["settlements"] == []


def test_the_son_pays_from_his_own_account_at_the_hospital(counter: Counter) -> None:
    # 310 × 11 (illustrative): deductible 500.00. 100.00 class A: all deductible, own account.
    body = {
        "request_id": "h-1",
        **card(SON, cert_type="03"),
        "med_type": "11",
        "lines": [{"item_code": "TA", "quantity": "1", "unit_price": "100.00"}],
    }
    answer = counter.hospital.post(BASE, body)
    assert answer.status_code == 201, answer.text
    made = answer.json()
    assert (made["act_pay_dedc"], made["acct_pay"], made["psn_cash_pay"], made["balc"]) == (
        "100.00",
        "100.00",
        "0.00",
        "7900.00",
    )
    assert counter.available(SON) == 790_000


def test_use_mutual_aid_overrides_the_patients_standing_choice_for_one_bill(
    counter: Counter,
) -> None:
    give(counter.ctx, SON, MOTHER, 50_000, choosing=False)  # accepted; she has not chosen

    def family_part(request_id: str, **choice: bool) -> str:
        answer = counter.pharmacy.post(f"{BASE}/quote", mother_bill(request_id, **choice))
        assert answer.status_code == 200, answer.text
        return str(answer.json()["acct_mulaid_pay"])

    assert family_part("c-1") == "0.00"
    assert family_part("c-2", use_mutual_aid=True) == "60.00"
    choose_mutual_aid(counter.ctx, MOTHER)
    assert family_part("c-3") == "60.00"
    assert family_part("c-4", use_mutual_aid=False) == "0.00"


def test_the_same_request_id_answers_the_same_settlement(counter: Counter) -> None:
    first = counter.pharmacy.post(BASE, mother_bill("dup"))
    again = counter.pharmacy.post(BASE, mother_bill("dup"))
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    count = written(counter.ctx.engine)
    changed = mother_bill(
        "dup", lines=[{"item_code": "TA", "quantity": "3", "unit_price": "60.00"}]
    )
    refused = counter.pharmacy.post(BASE, changed)
    assert refused.status_code == 422
    assert refused.json()["code"] == "settlement_request_reused"
    assert "dup" in refused.json()["message"]
    assert written(counter.ctx.engine) == count
    # The same request id at another institution is another request.
    other = counter.hospital.post(BASE, mother_bill("dup", med_type="11"))
    assert other.status_code == 201, other.text
    assert other.json()["setl_id"] != first.json()["setl_id"]


def test_a_reversal_is_idempotent_and_only_once(counter: Counter) -> None:
    setl_id = counter.pharmacy.post(BASE, mother_bill("r-1")).json()["setl_id"]
    first = counter.pharmacy.post(f"{BASE}/{setl_id}/reverse", {"request_id": "r-1-r"})
    again = counter.pharmacy.post(f"{BASE}/{setl_id}/reverse", {"request_id": "r-1-r"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    twice = counter.pharmacy.post(f"{BASE}/{setl_id}/reverse", {"request_id": "r-1-r2"})
    assert twice.status_code == 409
    assert twice.json()["code"] == "settlement_already_reversed"
    reversal_id = first.json()["setl_id"]
    of_reversal = counter.pharmacy.post(f"{BASE}/{reversal_id}/reverse", {"request_id": "r-1-rr"})
    assert of_reversal.status_code == 400
    assert of_reversal.json()["code"] == "settlement_not_reversible"


def test_concurrent_duplicates_make_one_settlement(counter: Counter) -> None:
    counter.give(SON, MOTHER, 10_000)
    answers: list[Any] = []
    barrier = threading.Barrier(6)

    def send() -> None:
        barrier.wait()
        answers.append(counter.pharmacy.post(BASE, mother_bill("same")))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [201] * 6, [a.text for a in answers]
    assert len({a.json()["setl_id"] for a in answers}) == 1
    assert written(counter.ctx.engine)[0] == 1
    assert counter.received(MOTHER) == 10_000 - 6_000


# --- bad input: a 4xx with a code and a Chinese message, nothing written --------------------


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({"lines": [{"item_code": "NOPE", "quantity": "1", "unit_price": "1.00"}]}, 400,
         "item_unknown"),
        ({"lines": [{"item_code": "TA", "quantity": "-1", "unit_price": "1.00"}]}, 400,
         "item_quantity_invalid"),
        ({"lines": [{"item_code": "TA", "quantity": "0", "unit_price": "1.00"}]}, 400,
         "item_quantity_invalid"),
        ({"lines": [{"item_code": "TA", "quantity": "9999999", "unit_price": "1.00"}]}, 400,
         "item_quantity_invalid"),
        ({"lines": [{"item_code": "TA", "quantity": "1e3", "unit_price": "1.00"}]}, 400,
         "item_quantity_invalid"),
        ({"lines": [{"item_code": "TA", "quantity": "1", "unit_price": "1.005"}]}, 400,
         "amount_too_precise"),
        ({"lines": [{"item_code": "TA", "quantity": "1", "unit_price": "abc"}]}, 400,
         "amount_not_a_number"),
        ({"lines": [{"item_code": "TA", "quantity": "1", "unit_price": "-1.00"}]}, 400,
         "amount_negative"),
        ({"lines": [{"item_code": "TA", "quantity": "1", "unit_price": 1.5}]}, 400,
         "amount_float_refused"),
        ({"med_type": "21"}, 400, "med_type_not_allowed"),
        ({"mdtrt_cert_no": None}, 400, "mdtrt_cert_required"),
        ({"psn_name": None}, 400, "psn_name_required"),
        ({"mdtrt_cert_type": "99"}, 400, "mdtrt_cert_type_unknown"),
        ({"psn_no": "P000000000000"}, 400, "person_not_identified"),
        ({"med_type": None}, 422, "request_invalid"),
        ({"lines": []}, 422, "request_invalid"),
        ({"lines": [{"item_code": "TA", "quantity": "1"}]}, 422, "request_invalid"),
        ({"request_id": None}, 422, "request_invalid"),
        ({"surprise": 1}, 422, "request_invalid"),
    ],
)  # fmt: skip
def test_bad_bills_are_refused_and_write_nothing(
    counter: Counter, changes: dict[str, Any], status: int, code: str
) -> None:
    counter.give(SON, MOTHER, 10_000)
    before = written(counter.ctx.engine)
    body = {k: v for k, v in {**mother_bill("bad"), **changes}.items() if v is not None}
    for path in (BASE, f"{BASE}/quote"):
        if path != BASE and "request_id" not in body:
            continue  # a quote needs no request id
        answer = counter.pharmacy.post(path, body)
        assert answer.status_code == status, answer.text
        refusal = answer.json()
        assert refusal["code"] == code
        assert any("\u4e00" <= ch <= "\u9fff" for ch in refusal["message"]), refusal
    assert written(counter.ctx.engine) == before
    assert counter.received(MOTHER) == 10_000


# --- signing and ownership ----------------------------------------------------------------


def test_what_is_refused_first_not_json_then_the_signature_then_the_body(
    counter: Counter,
) -> None:
    """The route's lean handler (api/signed_write_route.py) keeps FastAPI's order."""
    till, json_type = counter.pharmacy, {"Content-Type": "application/json"}
    not_json = till.client.post(BASE, content=b"{nope", headers=json_type)  # unsigned, too
    assert (not_json.status_code, not_json.json()["detail"]["fields"]) == (
        422, [{"loc": ["body", "1"], "type": "json_invalid"}],
    )  # fmt: skip
    unsigned = till.client.post(BASE, content=b'{"surprise": 1}', headers=json_type)
    assert (unsigned.status_code, unsigned.json()["code"]) == (401, "signature_missing")
    headers = till.headers("POST", BASE, b"", nonce="empty-body-nonce-01")
    empty = till.client.post(BASE, content=b"", headers=headers)
    assert (empty.status_code, empty.json()["detail"]["fields"]) == (
        422, [{"loc": ["body"], "type": "missing"}],
    )  # fmt: skip
    replay = till.client.post(BASE, content=b"", headers=headers)
    assert (replay.status_code, replay.json()["code"]) == (401, "signature_replayed")


@pytest.mark.parametrize(
    "body",
    [
        b'{"request_id": ' + b"1" * 5000 + b"}",  # more digits than Python converts
        b"[" * 100_000 + b"]" * 100_000,  # deeper than the decoder recurses
    ],
    ids=["a 5000-digit number", "nesting 100 000 deep"],
)
def test_json_the_decoder_will_not_build_is_refused_as_malformed(
    counter: Counter, body: bytes
) -> None:
    """Not a 500 with a traceback (the signed route) nor FastAPI's bare 400 (the quote): the
    request is malformed, said so in Chinese, and nothing is written."""
    till, json_type = counter.pharmacy, {"Content-Type": "application/json"}
    before = written(counter.ctx.engine)
    signed = till.client.post(BASE, content=body, headers=json_type)
    assert (signed.status_code, signed.json()["code"]) == (422, "request_invalid"), signed.text
    assert signed.json()["detail"]["fields"] == [{"loc": ["body", "0"], "type": "json_invalid"}]
    quoted = till.client.post(f"{BASE}/quote", content=body, headers=json_type)
    assert (quoted.status_code, quoted.json()["code"]) == (400, "request_invalid"), quoted.text
    assert quoted.json()["message"] == "请求格式不正确"
    assert written(counter.ctx.engine) == before


def test_signing_refusals(counter: Counter) -> None:
    till = counter.pharmacy
    before = written(counter.ctx.engine)
    raw = json.dumps(mother_bill("s-1")).encode()
    tampered = json.dumps(mother_bill("s-1", psn_name="张建国")).encode()
    answer = till.client.post(BASE, content=tampered, headers=till.headers("POST", BASE, raw))
    assert (answer.status_code, answer.json()["code"]) == (401, "signature_invalid")

    stale = till.post(BASE, mother_bill("s-1"), skew_s=-301)
    assert (stale.status_code, stale.json()["code"]) == (401, "signature_expired")
    assert written(counter.ctx.engine) == before

    headers = till.headers("POST", BASE, raw, nonce="replayed-nonce-0001")
    first = till.client.post(BASE, content=raw, headers=headers)
    assert first.status_code == 201, first.text
    replay = till.client.post(BASE, content=raw, headers=headers)
    assert (replay.status_code, replay.json()["code"]) == (401, "signature_replayed")

    # A refused settlement spends its nonce all the same: its replay is a replay.
    bad = json.dumps(
        mother_bill("s-2", lines=[{"item_code": "NOPE", "quantity": "1", "unit_price": "1.00"}])
    ).encode()
    headers = till.headers("POST", BASE, bad, nonce="refused-nonce-0001")
    refused = till.client.post(BASE, content=bad, headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (400, "item_unknown")
    replay = till.client.post(BASE, content=bad, headers=headers)
    assert (replay.status_code, replay.json()["code"]) == (401, "signature_replayed")

    # So does a signed body the route cannot read (a field of the wrong type).
    unreadable = json.dumps({**mother_bill("s-3"), "lines": "none"}).encode()
    headers = till.headers("POST", BASE, unreadable, nonce="invalid-nonce-0001")
    invalid = till.client.post(BASE, content=unreadable, headers=headers)
    assert (invalid.status_code, invalid.json()["code"]) == (422, "request_invalid")
    replay = till.client.post(BASE, content=unreadable, headers=headers)
    assert (replay.status_code, replay.json()["code"]) == (401, "signature_replayed")

    unsigned = till.client.post(BASE, content=raw, headers={"Content-Type": "application/json"})
    assert (unsigned.status_code, unsigned.json()["code"]) == (401, "signature_missing")

    other_path = f"{BASE}/quote"
    misdirected = till.client.post(other_path, content=raw, headers=till.headers("POST", BASE, raw))
    assert (misdirected.status_code, misdirected.json()["code"]) == (401, "signature_invalid")
    assert written(counter.ctx.engine)[0] == before[0] + 1


def test_an_institution_sees_and_reverses_only_its_own(counter: Counter) -> None:
    setl_id = counter.pharmacy.post(BASE, mother_bill("own-1")).json()["setl_id"]
    peek = counter.hospital.get(f"{BASE}/{setl_id}")
    assert (peek.status_code, peek.json()["code"]) == (404, "not_found")
    undo = counter.hospital.post(f"{BASE}/{setl_id}/reverse", {"request_id": "theirs"})
    assert (undo.status_code, undo.json()["code"]) == (404, "not_found")
    assert counter.hospital.get(f"{BASE}?date=2026-03-02").json()["settlements"] == []
    mine = counter.pharmacy.get(f"{BASE}?date=2026-03-02").json()["settlements"]
    assert [s["setl_id"] for s in mine] == [setl_id]
    still = counter.pharmacy.get(f"{BASE}/{setl_id}")
    assert still.status_code == 200
    assert (
        run(counter.ctx, lambda uow: settlements_repo.reversal_of(uow.connection, setl_id)) is None
    )
