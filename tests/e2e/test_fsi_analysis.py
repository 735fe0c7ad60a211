"""3101 明细审核事前分析 and 3102 事中分析 through HTTP on both databases: the son's orders at
the Lanzhou hospital checked against the test catalogue (TA class A; TX class B, ceiling 80.00;
TC class C; TW outside basic insurance), and at the cashier against his visit's settled lines."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from support.fsi import SON, His, build_his, envelope, fill, ids
from support.fsi_visits import REGISTER, UPLOAD_FIRST, golden, refused, settle_batch

MSG = "H62010000001202603021000005"  # + 3 digits


def order(rx_id: str, code: str, cnt: Any, pric: Any, sumamt: Any = None) -> dict[str, Any]:
    made = {"rx_id": rx_id, "rxno": f"CF{rx_id}", "hilist_code": code, "hilist_name": "",
            "cnt": cnt, "pric": pric, "drug_spec": "", "dosform_name": ""}  # fmt: skip
    if sumamt is not None:
        made["sumamt"] = sumamt
    return made


def analysis_input(orders: list[dict[str, Any]], mdtrt_id: str = "") -> dict[str, Any]:
    return {
        "data": {
            "syscode": "HIS",
            "task_id": "",
            "trig_scen": "1",
            "patient_dtos": [
                {
                    "patn_id": SON,
                    "patn_name": "",
                    "gend": "1",
                    "brdy": "1970-01-01",
                    "poolarea": "620100",
                    "curr_mdtrt_id": mdtrt_id,
                    "fsi_encounter_dtos": [
                        {"mdtrt_id": mdtrt_id, "medins_id": "H62010000001",
                         "fsi_order_dtos": orders},
                    ],
                }
            ],
        }
    }  # fmt: skip


ORDERS = [
    order("1", "TA", "1", "600.00", "600.00"),  # clean
    order("2", "TX", 2, 100, "200.00"),  # 20.00 over the 80.00 ceiling, twice
    order("3", "TC", "1", "30.00"),  # class C: the patient pays it all
    order("4", "TW", "1", "10.00"),  # outside basic insurance
    order("5", "NOPE", "1", "5.00"),  # not in the catalogue
    order("6", "TA", "2", "1.00", "3.00"),  # declared 3.00, 2 × 1.00 is 2.00
]


@pytest.fixture
def his(engine: Engine, tmp_path: Path) -> Iterator[His]:
    built = build_his(engine, tmp_path)
    with built.client:
        yield built


def send(his: His, infno: str, input_: dict[str, Any], n: int, values: dict[str, str]) -> Any:
    answer = his.call(fill(envelope(infno, input_, f"{MSG}{n:03d}"), values)).json()
    assert answer["infcode"] == 0, answer["err_msg"]
    return answer["output"]


def test_3101_finds_every_rule_the_orders_break(his: His) -> None:
    values = ids()
    found = golden(his, "3101", envelope("3101", analysis_input(ORDERS), f"{MSG}001"), values)
    rules = [(r["judge_result_detail_dtos"][0]["rx_id"], r["rule_id"], r["sev_deg"])
             for r in found["result"]]  # fmt: skip
    assert rules == [
        ("2", "GJ-0003", "2"),
        ("3", "GJ-0002", "2"),
        ("4", "GJ-0002", "2"),
        ("5", "GJ-0001", "1"),
        ("6", "GJ-0005", "1"),
    ]
    clean = send(his, "3101", analysis_input(ORDERS[:1]), 2, values)
    assert clean == {"result": []}


def test_3102_at_the_cashier_finds_a_line_already_settled(his: His) -> None:
    values = ids()
    values["<mdtrt_id>"] = send(his, "2201", REGISTER, 10, values)["data"]["mdtrt_id"]
    send(his, "2204", UPLOAD_FIRST, 11, values)
    send(his, "2207", settle_batch(), 12, values)
    orders = [order("1", "TA", "1", "600.00"), order("7", "TA", "1", "50.00")]
    message = envelope("3102", analysis_input(orders, "<mdtrt_id>"), f"{MSG}013")
    found = golden(his, "3102", message, values)
    assert [(r["rule_id"], r["vola_cont"]) for r in found["result"]] == [
        ("GJ-0007", "明细 1 已结算，不能再次收费")
    ]
    before_settle = send(his, "3101", analysis_input(orders, "<mdtrt_id>"), 14, values)
    assert before_settle == {"result": []}  # 3101 does not look at the visit


def test_bad_analysis_input_is_refused(his: His) -> None:
    values = {**ids(), "<mdtrt_id>": "M0000000000000000000000"}
    cases: list[tuple[str, dict[str, Any], str, str]] = [
        ("3101", {"data": {"trig_scen": "1"}}, "fsi_field_missing", "缺少必填字段：patient_dtos"),
        ("3101", analysis_input([order("1", "TA", "1", "abc")]), "amount_not_a_number", ""),
        ("3101", analysis_input([order("1", "TA", "x", "1.00")]), "fsi_field_invalid",
         "字段 fsi_encounter_dtos[0].fsi_order_dtos[0].cnt 的值不正确（应为数字）"),
        ("3101", analysis_input([{"rx_id": "1", "cnt": 1, "pric": 1}]), "fsi_field_missing",
         "缺少必填字段：fsi_encounter_dtos[0].fsi_order_dtos[0].hilist_code"),
        ("3102", analysis_input([order("1", "TA", "1", "1.00")], "<mdtrt_id>"),
         "visit_not_found", "未找到就诊记录：M0000000000000000000000"),
    ]  # fmt: skip
    for n, (infno, input_, code, message) in enumerate(cases):
        err = refused(his, envelope(infno, input_, f"{MSG}{20 + n:03d}"), values, code)
        assert not message or err == message, err
