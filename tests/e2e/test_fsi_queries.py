"""The queries a HIS repairs its state with (5201–5204) and 3202 detail reconciliation,
through HTTP on both databases, over the outpatient visit of support/fsi_visits.py: CF001
settled (800.00), CF002 revoked."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from support.fsi import SON, His, build_his, envelope, fill, ids
from support.fsi_visits import (
    REGISTER,
    REVOKE_SECOND,
    UPLOAD_FIRST,
    UPLOAD_SECOND,
    VISIT_INFO,
    golden,
    refused,
    settle_batch,
)

MSG = "H62010000001202603021000004"  # + 3 digits


@pytest.fixture
def his(engine: Engine, tmp_path: Path) -> Iterator[His]:
    built = build_his(engine, tmp_path)
    with built.client:
        yield built


def send(his: His, infno: str, input_: dict[str, Any], n: int, values: dict[str, str]) -> Any:
    answer = his.call(fill(envelope(infno, input_, f"{MSG}{n:03d}"), values)).json()
    assert answer["infcode"] == 0, answer["err_msg"]
    return answer["output"]


@pytest.fixture
def values(his: His) -> dict[str, str]:
    made = ids()
    made["<mdtrt_id>"] = send(his, "2201", REGISTER, 1, made)["data"]["mdtrt_id"]
    send(his, "2203", VISIT_INFO, 2, made)
    send(his, "2204", UPLOAD_FIRST, 3, made)
    send(his, "2204", UPLOAD_SECOND, 4, made)
    send(his, "2205", REVOKE_SECOND, 5, made)
    made["<setl_id>"] = send(his, "2207", settle_batch(), 6, made)["setlinfo"]["setl_id"]
    return made


def test_5201_to_5204_describe_the_visit(his: His, values: dict[str, str]) -> None:
    visit = {"data": {"psn_no": SON, "mdtrt_id": "<mdtrt_id>"}}
    listed = golden(his, "5201", envelope("5201", {"data": {"psn_no": SON}}, f"{MSG}010"), values)
    assert [v["mdtrt_state"] for v in listed["mdtrtinfo"]] == ["open"]
    diagnoses = golden(his, "5202", envelope("5202", visit, f"{MSG}011"), values)
    assert diagnoses["diseinfo"][0]["diag_code"] == "J06.900"
    settlement = {"data": {"psn_no": SON, "setl_id": "<setl_id>"}}
    found = golden(his, "5203", envelope("5203", settlement, f"{MSG}012"), values)
    assert found["setlinfo"]["acct_pay"] == Decimal("638.00")
    lines = golden(his, "5204", envelope("5204", visit, f"{MSG}013"), values)
    assert [line["fee_state"] for line in lines["feedetail"]] == ["settled", "settled", "revoked"]
    paid = send(his, "5204", settlement, 14, values)
    assert [line["med_list_codg"] for line in paid["feedetail"]] == ["TA", "TX"]


def test_3202_compares_settlement_by_settlement(his: His, values: dict[str, str]) -> None:
    period = {"stmt_begndate": "2026-03-02", "stmt_enddate": "2026-03-02"}
    line = {"setl_id": "<setl_id>", "medfee_sumamt": "800.00", "fund_pay_sumamt": "122.00",
            "acct_pay": "638.00"}  # fmt: skip
    balanced = golden(
        his, "3202", envelope("3202", {"data": period, "detail": [line]}, f"{MSG}020"), values
    )
    assert balanced["stmtinfo"]["stmt_rslt"] == "0"
    wrong = {**line, "acct_pay": "600.00"}
    stranger = {"setl_id": "S0000000000000000000000", "medfee_sumamt": -10, "fund_pay_sumamt": 0,
                "acct_pay": 0}  # fmt: skip
    unbalanced = send(his, "3202", {"data": period, "detail": [wrong, stranger]}, 21, values)
    assert unbalanced["stmtinfo"]["stmt_rslt"] == "1"
    assert [d["setl_id"] for d in unbalanced["amounts_differ"]] == [values["<setl_id>"]]
    assert [d["setl_id"] for d in unbalanced["institution_only"]] == [stranger["setl_id"]]


def test_queries_see_only_the_institutions_own(his: His, values: dict[str, str]) -> None:
    other = {**values, "<mdtrt_id>": "M0000000000000000000000"}
    visit = {"data": {"psn_no": SON, "mdtrt_id": "<mdtrt_id>"}}
    refused(his, envelope("5202", visit, f"{MSG}030"), other, "visit_not_found")
    wrong_person = {"data": {"psn_no": "P620100000002", "mdtrt_id": "<mdtrt_id>"}}
    refused(his, envelope("5204", wrong_person, f"{MSG}031"), values, "visit_not_found")
    refused(his, envelope("5203", {"data": {"setl_id": "S1"}}, f"{MSG}032"), values, "not_found")
    bad = {"data": {"stmt_begndate": "2026-03-02", "stmt_enddate": "2026-03-02"},
           "detail": [{"setl_id": "<setl_id>", "medfee_sumamt": "x"}]}  # fmt: skip
    err = refused(his, envelope("3202", bad, f"{MSG}033"), values, "amount_not_a_number")
    assert "detail[0].medfee_sumamt" in err
