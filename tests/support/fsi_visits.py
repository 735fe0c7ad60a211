"""The outpatient visit of the visit golden files: the son registers at the Lanzhou hospital
(2201), the doctor records the diagnosis (2203), the HIS uploads two charge batches (2204):
CF001 is the bill of support.fsi.OUTPATIENT_INPUT (TA 1 × 600.00, TX 2 × 100.00; 800.00, his
account pays 638.00, cash 40.00, balc 7 262.00), CF002 a class C item of 30.00 the patient
declines and the HIS revokes (2205) before the bill of CF001 is settled by batch (2206/2207)."""

from __future__ import annotations

import json
import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from gongji.store.tables_visits import visit_diagnoses, visit_fee_lines, visits
from support.fsi import SON, His, counts, decimal_json, fill, normalise

REGISTER = {
    "data": {
        "psn_no": SON,
        "insutype": "310",
        "begntime": "2026-03-02 09:55:00",
        "mdtrt_cert_type": "02",
        "mdtrt_cert_no": "<son_id>",
        "psn_name": "张建国",
        "ipt_otp_no": "MZ20260302001",
        "atddr_no": "D0001",
        "dr_name": "李医生",
        "dept_code": "A03",
        "dept_name": "内科",
        "caty": "A03",
    }
}

VISIT_INFO = {
    "mdtrtinfo": {
        "mdtrt_id": "<mdtrt_id>",
        "psn_no": SON,
        "med_type": "11",
        "begntime": "2026-03-02 09:55:00",
        "main_cond_dscr": "发热、咳嗽两天",
        "dise_codg": "J06.900",
        "dise_name": "急性上呼吸道感染",
    },
    "diseinfo": [
        {"psn_no": SON, "diag_type": "1", "diag_srt_no": "1", "diag_code": "J06.900",
         "diag_name": "急性上呼吸道感染", "diag_dept": "内科", "dise_dor_no": "D0001",
         "dise_dor_name": "李医生", "diag_time": "2026-03-02 09:58:00", "vali_flag": "1"},
    ],
}  # fmt: skip


def line(sn: str, batch: str, code: str, cnt: str, pric: str, total: str) -> dict[str, Any]:
    return {
        "feedetl_sn": sn,
        "mdtrt_id": "<mdtrt_id>",
        "psn_no": SON,
        "chrg_bchno": batch,
        "rxno": "",
        "rx_circ_flag": "0",
        "fee_ocur_time": "2026-03-02 10:00:00",
        "med_list_codg": code,
        "medins_list_codg": f"HIS-{code}",
        "det_item_fee_sumamt": total,
        "cnt": cnt,
        "pric": pric,
        "bilg_dept_codg": "A03",
        "bilg_dept_name": "内科",
        "bilg_dr_codg": "D0001",
        "bilg_dr_name": "李医生",
    }


UPLOAD_FIRST = {
    "feedetail": [
        line("1", "CF001", "TA", "1", "600.00", "600.00"),
        line("2", "CF001", "TX", "2", "100.00", "200.00"),
    ]
}
UPLOAD_SECOND = {"feedetail": [line("3", "CF002", "TC", "1", "30.00", "30.00")]}
REVOKE_SECOND = {"data": {"mdtrt_id": "<mdtrt_id>", "chrg_bchno": "CF002", "psn_no": SON}}


def settle_batch(batch: str = "CF001", medfee: str = "800.00", flag: str = "1") -> dict[str, Any]:
    return {
        "data": {
            "psn_no": SON,
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": "<son_id>",
            "psn_name": "张建国",
            "med_type": "11",
            "medfee_sumamt": medfee,
            "psn_setlway": "01",
            "mdtrt_id": "<mdtrt_id>",
            "chrg_bchno": batch,
            "insutype": "310",
            "acct_used_flag": flag,
        }
    }


def visit_counts(engine: Engine) -> tuple[int, int, int, tuple[str, ...]]:
    """(visits, diagnoses, lines, every line's state): what a refused message must not change."""
    with engine.connect() as connection:
        states = connection.execute(
            select(visit_fee_lines.c.state).order_by(visit_fee_lines.c.feedetl_sn)
        ).scalars()
        return (
            connection.execute(select(func.count()).select_from(visits)).scalar_one(),
            connection.execute(select(func.count()).select_from(visit_diagnoses)).scalar_one(),
            connection.execute(select(func.count()).select_from(visit_fee_lines)).scalar_one(),
            tuple(states),
        )


GOLDEN = Path(__file__).parent.parent / "data" / "fsi"
UPDATE = os.environ.get("GONGJI_UPDATE_GOLDEN") == "1"


def golden(his: His, name: str, message: dict[str, Any], values: dict[str, str]) -> Any:
    """Send ``message`` with its placeholders filled, compare the answer with the golden file
    ``tests/data/fsi/{name}.json`` (as tests/e2e/test_fsi_golden.py does); the output."""
    response = his.call(fill(message, values))
    assert response.status_code == 200, response.text
    answer = decimal_json(response)
    assert answer["infcode"] == 0, answer["err_msg"]
    recorded = {"request": message, "response": normalise(answer)}
    path = GOLDEN / f"{name}.json"
    if UPDATE:
        marked = json.dumps(recorded, ensure_ascii=False, indent=2, default=lambda d: f"@@{d}@@")
        path.write_text(re.sub(r'"@@(-?[0-9.]+)@@"', r"\1", marked) + "\n", "utf-8")
    assert recorded == json.loads(path.read_text("utf-8"), parse_float=Decimal)
    return answer["output"]


def refused(his: His, message: dict[str, Any], values: dict[str, str], code: str) -> str:
    """Send a message that must be refused with ``code`` and change nothing; its err_msg."""
    before = (counts(his.ctx.engine), visit_counts(his.ctx.engine))
    response = his.call(fill(message, values))
    answer = response.json()
    assert answer["infcode"] == -1 and answer["output"] is None, answer
    assert response.headers["X-Gongji-Error-Code"] == code, answer["err_msg"]
    assert (counts(his.ctx.engine), visit_counts(his.ctx.engine)) == before
    err_msg: str = answer["err_msg"]
    return err_msg
