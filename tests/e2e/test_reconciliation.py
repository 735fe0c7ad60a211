"""Reconciliation through REST (docs/rules.md §11), on both databases: totals compared with what an
institution reports, and its detail list compared both ways.

The hospital's day, 2026-03-02 (all outpatient, 11):
  S1  the son, 100.00 class A, all under his deductible: fund 0.00, account 100.00 (310)
  S2  the mother, 80.00 class A: 390 × 11 has no deductible, ratio 50 %: fund 40.00, her
      son's grant 40.00 (390)
  S3  the son, 30.00 class A: fund 0.00, account 30.00 (310) — then reversed (R3)
The pharmacy sells the mother 10.00 of TA the same day: never part of the hospital's figures.
So the hospital's totals: 3 settlements − 1 reversal = 2; medfee 180.00; fund 40.00; acct 140.00.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from gongji.settlement.service import settlement
from support.desk import HOSPITAL, PHARMACY, bill
from support.fsi import MOTHER, SON, His, build_his
from support.world import run

DAY = "stmt_begndate=2026-03-02&stmt_enddate=2026-03-02"


@pytest.fixture
def day(engine: Engine, tmp_path: Path) -> Iterator[tuple[His, dict[str, str]]]:
    his = build_his(engine, tmp_path)
    ctx = his.ctx

    def settle(psn_no: str, request_id: str, price_fen: int, institution: str = HOSPITAL) -> str:
        med_type = "11" if institution == HOSPITAL else "41"
        request = bill(
            psn_no, request_id, ("TA", "1", price_fen), med_type=med_type, institution=institution
        )
        return run(ctx, lambda uow: settlement.settle(ctx, uow, request)).setl_id

    ids = {
        "S1": settle(SON, "r1", 10_000),
        "S2": settle(MOTHER, "r2", 8_000),
        "S3": settle(SON, "r3", 3_000),
        "P1": settle(MOTHER, "p1", 1_000, PHARMACY),
    }
    ids["R3"] = run(
        ctx, lambda uow: settlement.reverse(ctx, uow, HOSPITAL, ids["S3"], "r3-undo")
    ).setl_id
    with his.client:
        yield his, ids


def post(his: His, path: str, body: bytes, institution: str = HOSPITAL, **headers: str) -> Any:
    sent = {**his.signed(path, body, institution), **headers}
    return his.client.post(path, content=body, headers=sent)


def totals(his: His, institution: str = HOSPITAL, **fields: Any) -> Any:
    body = {
        "stmt_begndate": "2026-03-02",
        "stmt_enddate": "2026-03-02",
        "fixmedins_setl_cnt": 2,
        "medfee_sumamt": "180.00",
        "fund_pay_sumamt": "40.00",
        "acct_pay": "140.00",
        **fields,
    }
    raw = json.dumps(body).encode()
    return post(
        his, "/api/v1/reconciliation", raw, institution, **{"Content-Type": "application/json"}
    )


def test_totals_balanced(day: tuple[His, dict[str, str]]) -> None:
    his, _ = day
    answer = totals(his)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "fixmedins_code": HOSPITAL,
        "stmt_begndate": "2026-03-02",
        "stmt_enddate": "2026-03-02",
        "insutype": None,
        "stmt_rslt": "0",
        "platform": {"fixmedins_setl_cnt": 2, "medfee_sumamt": "180.00",
                     "fund_pay_sumamt": "40.00", "acct_pay": "140.00"},
        "institution": {"fixmedins_setl_cnt": 2, "medfee_sumamt": "180.00",
                        "fund_pay_sumamt": "40.00", "acct_pay": "140.00"},
        "difference": {"fixmedins_setl_cnt": 0, "medfee_sumamt": "0.00",
                       "fund_pay_sumamt": "0.00", "acct_pay": "0.00"},
    }  # fmt: skip


def test_totals_per_insutype_and_the_differences(day: tuple[His, dict[str, str]]) -> None:
    his, _ = day
    # Employees (310): S1 + S3 − R3. The HIS forgot the reversal: one more, 30.00 more.
    answer = totals(
        his, insutype="310", fixmedins_setl_cnt=2, medfee_sumamt="130.00",
        fund_pay_sumamt="0.00", acct_pay="130.00",
    ).json()  # fmt: skip
    assert answer["stmt_rslt"] == "1"
    assert answer["platform"] == {
        "fixmedins_setl_cnt": 1, "medfee_sumamt": "100.00", "fund_pay_sumamt": "0.00",
        "acct_pay": "100.00",
    }  # fmt: skip
    assert answer["difference"] == {
        "fixmedins_setl_cnt": 1, "medfee_sumamt": "30.00", "fund_pay_sumamt": "0.00",
        "acct_pay": "30.00",
    }  # fmt: skip
    # Residents (390): S2 alone.
    residents = totals(
        his, insutype="390", fixmedins_setl_cnt=1, medfee_sumamt="80.00",
        fund_pay_sumamt="40.00", acct_pay="40.00",
    ).json()  # fmt: skip
    assert residents["stmt_rslt"] == "0"
    # Pharmacy purchases (clr_type 41) at the hospital: none; the hospital claiming one is off.
    pharmacy = totals(his, clr_type="41", fixmedins_setl_cnt=1).json()
    assert pharmacy["platform"]["fixmedins_setl_cnt"] == 0
    assert pharmacy["difference"]["medfee_sumamt"] == "180.00"
    # The pharmacy's own day is its 10.00 sale only.
    own = totals(his, PHARMACY, fixmedins_setl_cnt=1, medfee_sumamt="10.00",
                 fund_pay_sumamt="5.00", acct_pay="5.00").json()  # fmt: skip
    assert own["stmt_rslt"] == "0", own


def test_totals_refusals(day: tuple[His, dict[str, str]]) -> None:
    his, _ = day
    float_amount = totals(his, medfee_sumamt=180.5)
    assert (float_amount.status_code, float_amount.json()["code"]) == (400, "amount_float_refused")
    backwards = totals(his, stmt_begndate="2026-03-03")
    assert (backwards.status_code, backwards.json()["code"]) == (400, "stmt_period_invalid")
    unsigned = his.client.post("/api/v1/reconciliation", json={"stmt_begndate": "2026-03-02"})
    assert (unsigned.status_code, unsigned.json()["code"]) == (401, "signature_missing")


def detail(his: His, csv_text: str, institution: str = HOSPITAL, query: str = DAY) -> Any:
    path = f"/api/v1/reconciliation/detail?{query}"
    return post(his, path, csv_text.encode(), institution, **{"Content-Type": "text/csv"})


def test_detail_upload_finds_the_settlements_that_differ_both_ways(
    day: tuple[His, dict[str, str]],
) -> None:
    his, ids = day
    # The HIS lists S1 right, S2 with 45.00 from the account instead of 40.00, S3 but not its
    # reversal, and a settlement gongji never made.
    csv_text = (
        "setl_id,medfee_sumamt,fund_pay_sumamt,acct_pay,psn_name\n"
        f"{ids['S1']},100.00,0.00,100.00,张三\n"
        f"{ids['S2']},80.00,40.00,45.00,王五\n"
        f"{ids['S3']},30,0,30\n"
        "SX0000000000001,12.00,0.00,12.00,李四\n"
    )
    answer = detail(his, csv_text)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "fixmedins_code": HOSPITAL,
        "stmt_begndate": "2026-03-02",
        "stmt_enddate": "2026-03-02",
        "stmt_rslt": "1",
        "matched": 2,
        "platform_only": [
            {"setl_id": ids["R3"], "kind": "reversal", "setl_date": "2026-03-02",
             "med_type": "11", "medfee_sumamt": "-30.00", "fund_pay_sumamt": "0.00",
             "acct_pay": "-30.00"},
        ],
        "institution_only": [
            {"line": 5, "setl_id": "SX0000000000001", "medfee_sumamt": "12.00",
             "fund_pay_sumamt": "0.00", "acct_pay": "12.00"},
        ],
        "amounts_differ": [
            {"setl_id": ids["S2"], "line": 3,
             "platform": {"medfee_sumamt": "80.00", "fund_pay_sumamt": "40.00",
                          "acct_pay": "40.00"},
             "institution": {"medfee_sumamt": "80.00", "fund_pay_sumamt": "40.00",
                             "acct_pay": "45.00"}},
        ],
    }  # fmt: skip


def test_a_complete_detail_list_is_balanced(day: tuple[His, dict[str, str]]) -> None:
    his, ids = day
    lines = [
        f"{ids['S1']},100.00,0.00,100.00",
        f"{ids['S2']},80.00,40.00,40.00",
        f"{ids['S3']},30.00,0.00,30.00",
        f"{ids['R3']},-30.00,0.00,-30.00",
    ]
    answer = detail(
        his, "\ufeffsetl_id,medfee_sumamt,fund_pay_sumamt,acct_pay\n" + "\n".join(lines)
    )
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert (found["stmt_rslt"], found["matched"]) == ("0", 4)
    assert found["platform_only"] == found["institution_only"] == found["amounts_differ"] == []
    # The pharmacy sees its own sale only: the hospital's list is nothing it knows.
    other = detail(his, "setl_id,medfee_sumamt,fund_pay_sumamt,acct_pay\n" + lines[0], PHARMACY)
    assert [row["setl_id"] for row in other.json()["platform_only"]] == [ids["P1"]]
    assert [row["setl_id"] for row in other.json()["institution_only"]] == [ids["S1"]]


def test_a_bad_detail_file_names_every_bad_line(day: tuple[His, dict[str, str]]) -> None:
    his, ids = day
    missing = detail(his, "setl_id,medfee_sumamt,acct_pay\nS1,1.00,1.00\n")
    assert (missing.status_code, missing.json()["code"]) == (400, "reconciliation_detail_invalid")
    assert missing.json()["detail"]["errors"] == [{"line": 1, "message": "缺少列：fund_pay_sumamt"}]
    bad = detail(
        his,
        "setl_id,medfee_sumamt,fund_pay_sumamt,acct_pay\n"
        f"{ids['S1']},100.00,0.00,100.00\n"
        f"{ids['S2']},80.001,40.00,40.00\n"
        f"{ids['S1']},100.00,0.00,100.00\n"
        ",1.00,0.00,1.00\n",
    )
    assert bad.status_code == 400
    assert bad.json()["message"] == "对账明细文件有 3 处不符合要求，未做对账"
    assert [(e["line"], e["code"]) for e in bad.json()["detail"]["errors"]] == [
        (3, "detail_amount_invalid"),
        (4, "setl_id_duplicate"),
        (5, "setl_id_invalid"),
    ]
    assert bad.json()["detail"]["errors"][0]["message"] == (
        "medfee_sumamt：金额最多保留两位小数：80.001"
    )
    latin = post(
        his, f"/api/v1/reconciliation/detail?{DAY}", "setl_id,é".encode("latin-1"), HOSPITAL
    )
    assert (latin.status_code, latin.json()["code"]) == (400, "reconciliation_body_invalid")
    no_period = detail(his, "setl_id,medfee_sumamt,fund_pay_sumamt,acct_pay\n", query="x=1")
    assert no_period.status_code == 422
