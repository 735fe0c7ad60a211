"""5205 人员慢特病用药记录查询 and 5206 人员累计信息查询 through HTTP on both databases: the son
settles a chronic-disease bill (med_type 14, TA 2 × 50.00) and the outpatient bill of
support/fsi.py (800.00) at the Lanzhou hospital; the HIS then reads his drugs and his year."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from gongji.settlement.service import catalogue, person_history
from support.fsi import MSGID, OUTPATIENT_INPUT, SON, WIFE, His, build_his, envelope, fill, ids
from support.fsi_visits import golden, refused
from support.world import run

MSG = "H62010000001202603021000006"  # + 3 digits
SERVICE_CATALOGUE = """\
code,name,item_class,selfpay_prop,price_ceiling,account_payable,category,in_catalogue
TS,测试诊查费,A,0,,1,service,1
"""
CHRONIC_INPUT = {
    "data": {**OUTPATIENT_INPUT["data"], "med_type": "14", "medfee_sumamt": "100.00",
             "mdtrt_id": "MZ20260302014"},
    "feedetail": [{"feedetl_sn": "1", "med_list_codg": "TA", "cnt": "2", "pric": "50.00",
                   "det_item_fee_sumamt": "100.00"}],
}  # fmt: skip


@pytest.fixture
def his(engine: Engine, tmp_path: Path) -> Iterator[His]:
    built = build_his(engine, tmp_path)
    with built.client:
        yield built


def send(his: His, infno: str, input_: dict[str, Any], msgid: str) -> Any:
    answer = his.call(fill(envelope(infno, input_, msgid), ids())).json()
    assert answer["infcode"] == 0, answer["err_msg"]
    return answer["output"]


@pytest.fixture
def values(his: His) -> dict[str, str]:
    made = ids()
    chronic = send(his, "2207", CHRONIC_INPUT, f"{MSG}001")
    made["<chronic_setl_id>"] = chronic["setlinfo"]["setl_id"]
    send(his, "2207", OUTPATIENT_INPUT, MSGID["2207"])
    return made


def test_5205_lists_the_chronic_drugs_until_the_bill_is_reversed(
    his: His, values: dict[str, str]
) -> None:
    period = {"data": {"psn_no": SON, "begntime": "2026-01-01", "endtime": "2026-03-31"}}
    drugs = golden(his, "5205", envelope("5205", period, f"{MSG}010"), values)
    assert [(d["med_list_codg"], d["cnt"]) for d in drugs["feedetail"]] == [("TA", Decimal(2))]
    assert drugs["feedetail"][0]["setl_id"] == values["<chronic_setl_id>"]
    reverse = {"data": {"setl_id": values["<chronic_setl_id>"], "psn_no": SON}}
    send(his, "2208", reverse, f"{MSG}011")
    again = send(his, "5205", period, f"{MSG}012")
    assert again == {"feedetail": []}


def test_5205_counts_its_limit_in_drug_lines_not_in_every_line(
    his: His, values: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bill whose first line is a service: counted before the filtering, it took a place of
    the limit, and the HIS got one drug where two were dispensed."""
    run(his.ctx, lambda uow: catalogue.import_catalogue(his.ctx, uow, SERVICE_CATALOGUE))
    with_service = {
        "data": {**CHRONIC_INPUT["data"], "medfee_sumamt": "110.00", "mdtrt_id": "MZ20260302015"},
        "feedetail": [
            {"feedetl_sn": "1", "med_list_codg": "TS", "cnt": "1", "pric": "10.00"},
            {"feedetl_sn": "2", "med_list_codg": "TA", "cnt": "2", "pric": "50.00"},
        ],
    }
    second = send(his, "2207", with_service, f"{MSG}013")["setlinfo"]["setl_id"]
    monkeypatch.setattr(person_history, "DRUG_RECORDS_MAX", 2)
    period = {"data": {"psn_no": SON, "begntime": "2026-01-01", "endtime": "2026-03-31"}}
    drugs = send(his, "5205", period, f"{MSG}014")["feedetail"]
    assert [(d["setl_id"], d["med_list_codg"]) for d in drugs] == [
        (values["<chronic_setl_id>"], "TA"),
        (second, "TA"),
    ]
    monkeypatch.setattr(person_history, "DRUG_RECORDS_MAX", 1)
    first_only = send(his, "5205", period, f"{MSG}015")["feedetail"]
    assert [d["setl_id"] for d in first_only] == [values["<chronic_setl_id>"]]


def test_5206_accumulates_the_year_through_the_month(his: His, values: dict[str, str]) -> None:
    asked = {"data": {"psn_no": SON, "cum_ym": "202603"}}
    year = golden(his, "5206", envelope("5206", asked, f"{MSG}020"), values)
    figures = {f["cum_type_code"]: f["cum"] for f in year["cuminfo"]}
    assert figures["medfee"] == Decimal("900.00")
    assert figures["dedc_outpatient"] == Decimal("500.00")
    assert figures["fund_chronic"] == Decimal("70.00")  # chronic care: no deductible, 70 %
    assert figures["acct_pay"] == Decimal("668.00")  # 30.00 + 638.00
    before = send(his, "5206", {"data": {"psn_no": SON, "cum_ym": "202602"}}, f"{MSG}021")
    assert all(f["cum"] == 0 for f in before["cuminfo"]), before
    this_month = send(his, "5206", {"data": {"psn_no": SON}}, f"{MSG}022")
    assert this_month["cuminfo"] == year["cuminfo"]


def test_history_is_refused_for_a_stranger_and_bad_fields(his: His, values: dict[str, str]) -> None:
    stranger = {"data": {"psn_no": WIFE, "cum_ym": "202603"}}
    err = refused(his, envelope("5206", stranger, f"{MSG}030"), values, "person_not_treated_here")
    assert err == f"该人员在本机构无就诊或结算记录，不能查询其就医信息：{WIFE}"
    bad_month = {"data": {"psn_no": SON, "cum_ym": "202613"}}
    err = refused(his, envelope("5206", bad_month, f"{MSG}031"), values, "fsi_field_invalid")
    assert "cum_ym" in err
    backwards = {"data": {"psn_no": SON, "begntime": "2026-03-31", "endtime": "2026-01-01"}}
    refused(his, envelope("5205", backwards, f"{MSG}032"), values, "history_period_invalid")
    nobody = {"data": {"begntime": "2026-01-01", "endtime": "2026-03-31"}}
    err = refused(his, envelope("5205", nobody, f"{MSG}033"), values, "fsi_field_missing")
    assert err == "缺少必填字段：psn_no"
