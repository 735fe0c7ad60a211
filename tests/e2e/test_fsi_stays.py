"""An inpatient stay as a hospital's HIS sends it, through HTTP on both databases: 2401 →
2301 on three days → 2302 of one line → 2402 → 2303/2304 by mdtrt_id → 2305, and 2405 after
the reversal; mid-stay settlement (mid_setl_flag 1) and the refusals. The stay's lines add up
to the bill of support.fsi.INPATIENT_INPUT (TA 3 × 1 000.00: deductible 1 000.00, fund
1 700.00, his account 1 300.00, balc 6 600.00)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from support.fsi import SON, His, balance, build_his, envelope, fill, ids
from support.fsi_visits import golden, line, refused, visit_counts

MSG = "H62010000001202603021000002"  # + 3 digits

ADMIT = {
    "mdtrtinfo": {
        "psn_no": SON,
        "insutype": "310",
        "mdtrt_cert_type": "02",
        "mdtrt_cert_no": "<son_id>",
        "psn_name": "张建国",
        "med_type": "21",
        "ipt_no": "ZY20260302001",
        "medrcdno": "BA0001",
        "atddr_no": "D0002",
        "chfpdr_name": "王医生",
        "adm_diag_dscr": "社区获得性肺炎",
        "adm_dept_codg": "A03",
        "adm_dept_name": "内科",
        "adm_bed": "12",
        "begntime": "2026-03-02 08:00:00",
    },
    "diseinfo": [
        {"psn_no": SON, "diag_type": "1", "diag_srt_no": "1", "diag_code": "J18.900",
         "diag_name": "肺炎", "diag_dept": "内科", "dise_dor_no": "D0002",
         "dise_dor_name": "王医生", "diag_time": "2026-03-02 08:10:00"},
    ],
}  # fmt: skip


def day(*entries: tuple[str, str, str, str]) -> dict[str, Any]:
    sent = []
    for sn, code, cnt, pric in entries:
        made = line(sn, "", code, cnt, pric, "")
        del made["chrg_bchno"], made["det_item_fee_sumamt"]
        sent.append({**made, "med_type": "21", "drord_no": f"YZ{sn}"})
    return {"feedetail": sent}


DAYS = (
    day(("D1-1", "TA", "1", "1000.00")),
    day(("D2-1", "TA", "1", "1000.00"), ("D2-2", "TX", "1", "100.00")),
    day(("D3-1", "TA", "1", "1000.00")),
)
STAY = {"mdtrt_id": "<mdtrt_id>", "psn_no": SON}


def settle(mid: str = "0", medfee: str = "3000.00") -> dict[str, Any]:
    data = {**STAY, "med_type": "21", "medfee_sumamt": medfee, "insutype": "310",
            "acct_used_flag": "1", "mid_setl_flag": mid, "psn_setlway": "01"}  # fmt: skip
    return {"data": data}


@pytest.fixture
def his(engine: Engine, tmp_path: Path) -> Iterator[His]:
    built = build_his(engine, tmp_path)
    with built.client:
        yield built


def send(his: His, infno: str, input_: dict[str, Any], n: int, values: dict[str, str]) -> Any:
    answer = his.call(fill(envelope(infno, input_, f"{MSG}{n:03d}"), values)).json()
    assert answer["infcode"] == 0, answer["err_msg"]
    return answer["output"]


def test_a_stay_from_admission_to_reversal(his: His) -> None:
    values = ids()
    admitted = golden(his, "2401", envelope("2401", ADMIT, f"{MSG}001"), values)
    values["<mdtrt_id>"] = admitted["result"]["mdtrt_id"]
    golden(his, "2301", envelope("2301", DAYS[0], f"{MSG}002"), values)
    send(his, "2301", DAYS[1], 3, values)
    send(his, "2301", DAYS[2], 4, values)
    golden(
        his, "2302", envelope("2302", {"data": {**STAY, "feedetl_sn": "D2-2"}}, f"{MSG}005"), values
    )
    err = refused(his, envelope("2304", settle(), f"{MSG}006"), values, "stay_not_discharged")
    assert "mid_setl_flag" in err
    leaving = {"insutype": "310", "endtime": "2026-03-02 09:30:00", "dise_codg": "J18.900",
               "dise_name": "肺炎", "dscg_way": "1"}  # fmt: skip
    discharge = {"dscginfo": {**STAY, **leaving}}
    golden(his, "2402", envelope("2402", discharge, f"{MSG}007"), values)
    quoted = golden(his, "2303_stay", envelope("2303", settle(), f"{MSG}008"), values)
    assert quoted["setlinfo"]["balc"] == Decimal("6600.00")
    settled = golden(his, "2304_stay", envelope("2304", settle(), f"{MSG}009"), values)
    assert balance(his, SON) == 660_000
    err = refused(his, envelope("2405", {"data": STAY}, f"{MSG}010"), values, "fees_settled")
    values["<setl_id>"] = settled["setlinfo"]["setl_id"]
    send(his, "2305", {"data": {**STAY, "setl_id": "<setl_id>"}}, 11, values)
    assert balance(his, SON) == 790_000
    golden(his, "2405", envelope("2405", {"data": STAY}, f"{MSG}012"), values)
    assert visit_counts(his.ctx.engine)[3] == ("uploaded", "uploaded", "revoked", "uploaded")


def test_a_stay_line_numbered_0000_is_refused_as_2302_reads_it_as_every_line(his: His) -> None:
    values = ids()
    values["<mdtrt_id>"] = send(his, "2401", ADMIT, 30, values)["result"]["mdtrt_id"]
    err = refused(his, envelope("2301", day(("0000", "TA", "1", "1000.00")), f"{MSG}031"), values,
                  "fsi_number_reserved")  # fmt: skip
    assert err.startswith("字段 feedetail[0].feedetl_sn 不能为 0000：交易 2302 以 0000 表示")
    in_batch_0000 = day(("D1-1", "TA", "1", "1000.00"))
    in_batch_0000["feedetail"][0]["chrg_bchno"] = "0000"  # 2302 revokes by line: no ambiguity
    send(his, "2301", in_batch_0000, 32, values)
    assert visit_counts(his.ctx.engine)[3] == ("uploaded",)


def test_mid_stay_settlement_and_cancelled_admission(his: His) -> None:
    values = ids()
    values["<mdtrt_id>"] = send(his, "2401", ADMIT, 1, values)["result"]["mdtrt_id"]
    send(his, "2301", DAYS[0], 2, values)
    mid = send(his, "2304", settle("1", "1000.00"), 3, values)["setlinfo"]
    assert mid["medfee_sumamt"] == 1000  # the first day only; the stay goes on
    send(his, "2301", DAYS[2], 4, values)
    refused(his, envelope("2404", {"data": STAY}, f"{MSG}005"), values, "visit_has_fees")
    send(his, "2302", {"data": {**STAY, "feedetl_sn": "0000"}}, 6, values)  # D3-1 only
    assert visit_counts(his.ctx.engine)[3] == ("settled", "revoked")
    refused(his, envelope("2302", {"data": {**STAY, "feedetl_sn": "D9-9"}}, f"{MSG}007"),
            values, "fee_line_not_found")  # fmt: skip
    outpatient = {**settle(), "data": {**settle()["data"], "med_type": "11", "chrg_bchno": "X"}}
    refused(his, envelope("2207", outpatient, f"{MSG}008"), values, "visit_kind_mismatch")


def test_an_admission_with_nothing_uploaded_is_cancelled(his: His) -> None:
    values = ids()
    values["<mdtrt_id>"] = send(his, "2401", ADMIT, 1, values)["result"]["mdtrt_id"]
    golden(his, "2404", envelope("2404", {"data": STAY}, f"{MSG}002"), values)
    err = refused(his, envelope("2301", DAYS[0], f"{MSG}003"), values, "visit_cancelled")
    assert "已撤销" in err
