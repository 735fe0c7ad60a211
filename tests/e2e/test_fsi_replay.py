"""The conformance kit's six shipped sessions (tests/data/fsi/sessions/*.jsonl), played by
the kit's own engine (gongji.fsi.domain.replay, what ``gongji fsi replay`` runs) against the
test world through HTTP, on both databases: a pharmacy purchase, an outpatient visit with two
upload batches and a partial 2205, an inpatient stay over three days of 2301 and a 2305, a 2601
after a lost answer, an end-of-day 3201/3202, and an outpatient visit checked before and at
settlement (3101/3102) with the patient's year read after (5206).

``GONGJI_UPDATE_GOLDEN=1`` records the sessions again from the scenarios below, with the
varying values (ids, times) replaced by placeholders; read the diff before committing it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from gongji.fsi.domain import replay
from gongji.fsi.http.wire import dumps
from gongji.people.service.credentials_lookup import issue_ec_token
from support.desk import PHARMACY
from support.fsi import (
    INPATIENT_INPUT,
    MOTHER,
    OUTPATIENT_INPUT,
    PHARMACY_INPUT,
    SON,
    His,
    build_his,
    envelope,
    fill,
)
from support.fsi_visits import (
    REGISTER,
    REVOKE_SECOND,
    UPLOAD_FIRST,
    UPLOAD_SECOND,
    VISIT_INFO,
    settle_batch,
)

SESSIONS = Path(__file__).parent.parent / "data" / "fsi" / "sessions"
UPDATE = os.environ.get("GONGJI_UPDATE_GOLDEN") == "1"
_GENERATED = {"M": re.compile(r"M[0-9a-f]{23}"), "S": re.compile(r"S[0-9a-f]{23}")}
_ANY_KEYS = {"inf_refmsgid", "certno", "gend", "sign_no"}
_TIME_KEYS = {"refmsg_time", "respond_time"}


def by_psn_no(input_: dict[str, Any]) -> dict[str, Any]:
    """A registered visit's message naming its patient by ``psn_no`` (and the visit) only."""
    return {**input_, "data": _without_credential(input_["data"])}


def by_voucher(input_: dict[str, Any], voucher: str, node: str = "data") -> dict[str, Any]:
    """A message presenting the patient's e-voucher (``<son_voucher>``, ``<mother_voucher>``:
    filled in when recording; the test world's ID numbers vary between runs, its tokens do
    not: one key, one clock)."""
    data = _without_credential(input_[node])
    return {**input_, node: {**data, "mdtrt_cert_type": "01", "mdtrt_cert_no": voucher}}


def _without_credential(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if not k.startswith("mdtrt_cert") and k != "psn_name"}


def msg(institution: str, n: int) -> str:
    return f"{institution}2026030210{n:08d}"


H = "H62010000001"
STAY = {"mdtrt_id": "<mdtrt_id>", "psn_no": SON}


def stay_line(sn: str, cnt: str = "1", pric: str = "1000.00") -> dict[str, Any]:
    return {"feedetail": [{"feedetl_sn": sn, **STAY, "med_list_codg": "TA", "cnt": cnt,
                           "pric": pric, "fee_ocur_time": "2026-03-02 10:00:00"}]}  # fmt: skip


ADMIT = by_voucher({"mdtrtinfo": {"psn_no": SON, "insutype": "310", "med_type": "21",
                                  "ipt_no": "ZY001", "begntime": "2026-03-02 08:00:00"}},
                   "<son_voucher>", "mdtrtinfo")  # fmt: skip
STAY_BILL = {"data": {**STAY, "med_type": "21", "medfee_sumamt": "3000.00", "insutype": "310",
                      "acct_used_flag": "1", "mid_setl_flag": "0"}}  # fmt: skip
DAY = {"stmt_begndate": "2026-03-02", "stmt_enddate": "2026-03-02"}


def analysis(*orders: tuple[str, str, str, str], visit: str = "") -> dict[str, Any]:
    """A 3101/3102 input: the son's orders (rx_id, code, cnt, pric), in ``visit`` if given."""
    sent = [{"rx_id": rx, "hilist_code": code, "cnt": cnt, "pric": pric}
            for rx, code, cnt, pric in orders]  # fmt: skip
    encounter = {"mdtrt_id": visit, "fsi_order_dtos": sent}
    return {
        "data": {
            "trig_scen": "1",
            "patient_dtos": [{"patn_id": SON, "fsi_encounter_dtos": [encounter]}],
        }
    }


SCENARIOS: dict[str, list[tuple[str, str, dict[str, Any], str]]] = {
    "pharmacy_purchase": [
        ("药店预结算", "2101", by_voucher(PHARMACY_INPUT, "<mother_voucher>"), PHARMACY),
        ("药店结算", "2102", by_voucher(PHARMACY_INPUT, "<mother_voucher>"), PHARMACY),
    ],
    "outpatient_visit": [
        ("挂号", "2201", by_voucher(REGISTER, "<son_voucher>"), H),
        ("就诊信息上传", "2203", VISIT_INFO, H),
        ("费用明细上传 CF001", "2204", UPLOAD_FIRST, H),
        ("费用明细上传 CF002", "2204", UPLOAD_SECOND, H),
        ("费用明细撤销 CF002", "2205", REVOKE_SECOND, H),
        ("预结算 CF001", "2206", by_psn_no(settle_batch()), H),
        ("结算 CF001", "2207", by_psn_no(settle_batch()), H),
    ],
    "inpatient_stay": [
        ("入院办理", "2401", ADMIT, H),
        ("第一天明细", "2301", stay_line("D1"), H),
        ("第二天明细", "2301", stay_line("D2"), H),
        ("第三天明细", "2301", stay_line("D3"), H),
        ("出院办理", "2402", {"dscginfo": {**STAY, "endtime": "2026-03-02 09:30:00"}}, H),
        ("住院结算", "2304", STAY_BILL, H),
        ("住院结算撤销", "2305", {"data": {**STAY, "setl_id": "<setl_id:1>"}}, H),
    ],
    "lost_answer_2601": [
        ("挂号", "2201", by_voucher(REGISTER, "<son_voucher>"), H),
        ("费用明细上传", "2204", UPLOAD_FIRST, H),
        ("结算（应答丢失）", "2207", by_psn_no(settle_batch()), H),
        ("冲正", "2601", {"data": {"psn_no": SON, "omsgid": msg(H, 3), "oinfno": "2207"}}, H),
        ("重新结算", "2207", by_psn_no(settle_batch()), H),
    ],
    "outpatient_checks": [
        ("挂号", "2201", by_psn_no(REGISTER), H),
        (
            "事前分析（乙类超限价）",
            "3101",
            analysis(("1", "TA", "1", "600.00"), ("2", "TX", "2", "100.00")),
            H,
        ),
        ("费用明细上传 CF001", "2204", UPLOAD_FIRST, H),
        ("结算 CF001", "2207", by_psn_no(settle_batch()), H),
        (
            "事中分析（重复收费）",
            "3102",
            analysis(("1", "TA", "1", "600.00"), visit="<mdtrt_id>"),
            H,
        ),
        ("人员累计信息", "5206", {"data": {"psn_no": SON, "cum_ym": "202603"}}, H),
    ],
    "end_of_day": [
        ("门诊结算", "2207", by_voucher(OUTPATIENT_INPUT, "<son_voucher>"), H),
        ("住院结算", "2304", by_voucher(INPATIENT_INPUT, "<son_voucher>"), H),
        (
            "对总账",
            "3201",
            {
                "data": {
                    **DAY,
                    "insutype": "310",
                    "medfee_sumamt": "3800.00",
                    "fund_pay_sumamt": "1822.00",
                    "acct_pay": "1938.00",
                    "fixmedins_setl_cnt": "2",
                }
            },
            H,
        ),
        (
            "对明细账",
            "3202",
            {
                "data": DAY,
                "detail": [
                    {
                        "setl_id": "<setl_id:1>",
                        "medfee_sumamt": "800.00",
                        "fund_pay_sumamt": "122.00",
                        "acct_pay": "638.00",
                    },
                    {
                        "setl_id": "<setl_id:2>",
                        "medfee_sumamt": "3000.00",
                        "fund_pay_sumamt": "1700.00",
                        "acct_pay": "1300.00",
                    },
                ],
            },
            H,
        ),
    ],
}


@pytest.fixture
def his(engine: Engine, tmp_path: Path) -> Iterator[His]:
    built = build_his(engine, tmp_path)
    with built.client:
        yield built


def record(his: His, name: str) -> None:
    """Play the scenario and write what it answered, the varying values as placeholders."""
    bound: dict[str, Any] = {}
    names: dict[str, str] = {}
    lines = []
    vouchers = {"<son_voucher>": issue_ec_token(his.ctx, SON),
                "<mother_voucher>": issue_ec_token(his.ctx, MOTHER)}  # fmt: skip
    for n, (note, infno, input_, institution) in enumerate(SCENARIOS[name], start=1):
        request = envelope(infno, fill(input_, vouchers), msg(institution, n), institution)
        answer = json.loads(his.call(replay.fill(request, bound)).text, parse_float=Decimal)
        assert answer["infcode"] == 0, (note, answer["err_msg"])
        expected = _placeholders(answer, names, bound)
        lines.append(dumps({"note": note, "request": request, "answer": expected}))
    (SESSIONS / f"{name}.jsonl").write_text("\n".join(lines) + "\n", "utf-8")


def _placeholders(node: Any, names: dict[str, str], bound: dict[str, Any], key: str = "") -> Any:
    if isinstance(node, dict):
        return {k: _placeholders(v, names, bound, k) for k, v in node.items()}
    if isinstance(node, list):
        return [_placeholders(v, names, bound) for v in node]
    if key in _ANY_KEYS:
        return replay.ANY
    if key in _TIME_KEYS:
        return replay.TIME
    if isinstance(node, str):
        for prefix, pattern in _GENERATED.items():
            if pattern.fullmatch(node):
                if node not in names:
                    kind = "mdtrt_id" if prefix == "M" else "setl_id"
                    count = sum(1 for p in names.values() if p.startswith(f"<{kind}"))
                    names[node] = f"<{kind}>" if kind == "mdtrt_id" else f"<{kind}:{count + 1}>"
                    bound[names[node]] = node
                return names[node]
    return node


def send(his: His, message: Any) -> str:
    """As the kit sends: amounts read from the session as decimals go out as numbers."""
    body = dumps(message).encode()
    return str(his.post_raw(body, message["fixmedins_code"]).text)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_the_shipped_session_replays_clean(his: His, name: str) -> None:
    if UPDATE:
        record(his, name)
        return
    steps = replay.read_session((SESSIONS / f"{name}.jsonl").read_text("utf-8").splitlines())
    ok, text = replay.report(replay.play(steps, lambda message: send(his, message)))
    assert ok, text
    assert len(steps) == len(SCENARIOS[name])


def test_a_differing_answer_is_reported_with_a_diff(his: His) -> None:
    text = (SESSIONS / "pharmacy_purchase.jsonl").read_text("utf-8")
    first = replay.read_session(text.splitlines())[0]
    output = first.answer["output"]
    wrong = {**output, "setlinfo": {**output["setlinfo"], "psn_cash_pay": Decimal("19.00")}}
    tampered = replay.Step(1, "tampered", first.request, {**first.answer, "output": wrong})
    ok, report = replay.report(replay.play([tampered], lambda m: send(his, m)))
    assert not ok
    assert "output.setlinfo.psn_cash_pay" in report
    assert '-      "psn_cash_pay": 19.00' in report and '+      "psn_cash_pay": 20.00' in report
    assert MOTHER in report
