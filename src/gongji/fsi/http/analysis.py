"""3101 明细审核事前分析 and 3102 明细审核事中分析 on the national interface: the HIS sends a
patient's orders (``patient_dtos`` → ``fsi_encounter_dtos`` → ``fsi_order_dtos``, as the
platform names them) and gets back every rule they break (``result``), before settling. 3101
runs when the doctor orders; 3102 at the cashier, and with ``mdtrt_id`` also checks the visit's
already settled lines. Neither writes. The rules: ``gongji.settlement.domain.prescreen``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from gongji.fsi.domain import fields
from gongji.fsi.http.envelope import Envelope
from gongji.fsi.http.wire import amount
from gongji.kernel.context import Context
from gongji.settlement.domain.prescreen import Order, Violation
from gongji.settlement.service import prescreen
from gongji.store.uow import UnitOfWork

_ID: Final = re.compile(r"[A-Za-z0-9_.:-]{1,40}")
_CODE: Final = re.compile(r"[A-Za-z0-9._-]{1,40}")
_TRIG_SCEN: Final = re.compile(r"[1-9]")


def pre_analysis(ctx: Context, uow: UnitOfWork, env: Envelope, institution: str) -> dict[str, Any]:
    """3101 事前分析: the orders as the doctor writes them."""
    return _analysis(uow, env, institution, at_settlement=False)


def in_analysis(ctx: Context, uow: UnitOfWork, env: Envelope, institution: str) -> dict[str, Any]:
    """3102 事中分析: the bill at settlement; a named visit's settled lines count too."""
    return _analysis(uow, env, institution, at_settlement=True)


def _analysis(
    uow: UnitOfWork, env: Envelope, institution: str, *, at_settlement: bool
) -> dict[str, Any]:
    data = fields.child(env.input, "data")
    fields.text(data, "trig_scen", required=False, pattern=_TRIG_SCEN)
    task_id = fields.text(data, "task_id", required=False, pattern=_ID) or env.msgid
    patient = _patient(data)
    psn_no = fields.required_text(patient, "patn_id", pattern=_ID, where="patient_dtos.")
    encounters = fields.entries([patient], ("fsi_encounter_dtos",), "fsi_encounter_dtos")
    result: list[dict[str, Any]] = []
    for index, encounter in enumerate(encounters):
        where = f"fsi_encounter_dtos[{index}]."
        mdtrt_id = fields.text(encounter, "mdtrt_id", required=False, pattern=_ID, where=where)
        mdtrt_id = mdtrt_id or fields.text(patient, "curr_mdtrt_id", required=False, pattern=_ID)
        orders = [
            _order(node, f"{where}fsi_order_dtos[{n}].")
            for n, node in enumerate(
                fields.entries([encounter], ("fsi_order_dtos",), f"{where}fsi_order_dtos")
            )
        ]
        visit = mdtrt_id if at_settlement else None
        found = prescreen.analyse(uow, institution, psn_no, orders, visit)
        result.extend(
            _out(violation, len(result) + n + 1, task_id, psn_no, mdtrt_id, env.infno)
            for n, violation in enumerate(found)
        )
    return {"result": result}


def _patient(data: fields.Node) -> fields.Node:
    """One patient per message: ``patient_dtos`` as an object or a list of one."""
    value = data.get("patient_dtos")
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], Mapping):
        return value[0]
    if isinstance(value, Mapping):
        return value
    if value is None or value == "" or value == []:
        raise fields.FsiFieldMissing(field="patient_dtos")
    raise fields.FsiFieldInvalid(field="patient_dtos", expected="（应为一位参保人的对象）")


def _order(node: fields.Node, where: str) -> Order:
    declared = fields.amount_fen(node, "sumamt", required=False, where=where)
    return Order(
        rx_id=fields.required_text(node, "rx_id", pattern=_ID, where=where),
        item_code=fields.required_text(node, "hilist_code", pattern=_CODE, where=where),
        quantity=fields.decimal(node, "cnt", where=where),
        unit_price_fen=fields.amount_fen(node, "pric", where=where) or 0,
        declared_fen=declared,
    )


def _out(
    violation: Violation,
    number: int,
    task_id: str,
    psn_no: str,
    mdtrt_id: str | None,
    infno: str,
) -> dict[str, Any]:
    jr_id = f"{task_id}-{number:04d}"
    return {
        "jr_id": jr_id,
        "rule_id": violation.rule.rule_id,
        "rule_name": violation.rule.name_zh,
        "vola_cont": violation.message_zh,
        "patn_id": psn_no,
        "mdtrt_id": mdtrt_id,
        "sev_deg": violation.rule.severity.value,
        "vola_amt": amount(violation.amount_fen),
        "task_id": task_id,
        "jr_type": infno,
        "judge_result_detail_dtos": [
            {
                "jr_detl_id": f"{jr_id}-1",
                "patn_id": psn_no,
                "mdtrt_id": mdtrt_id,
                "rx_id": violation.rx_id,
                "hilist_code": violation.item_code,
                "vola_amt": amount(violation.amount_fen),
            }
        ],
    }
