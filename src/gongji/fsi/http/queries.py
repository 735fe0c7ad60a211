"""Queries a HIS uses to repair its own state (5201 就诊信息, 5202 诊断信息, 5203 结算信息,
5204 费用明细), a person's history it may read before prescribing (5205 慢特病用药记录,
5206 累计信息), and 3202 detail reconciliation (对明细账), on the national interface. All read
only; 5201–5204 see only the asking institution's own visits and settlements, 5205/5206 only
persons it treats (settlement.service.person_history).
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from decimal import Decimal
from typing import Any, Final

from gongji.core.errors import GongjiError
from gongji.core.money import parse_yuan
from gongji.fsi.domain import fields
from gongji.fsi.http import settlement as fsi_settlement
from gongji.fsi.http.envelope import Envelope
from gongji.fsi.http.wire import amount
from gongji.fsi.service import files
from gongji.kernel.context import Context
from gongji.kernel.errors import NotFound
from gongji.people.service.persons import require_person
from gongji.settlement.domain.visits import VisitNotFound, VisitState
from gongji.settlement.service import person_history, reconciliation, records, visits
from gongji.settlement.service.visits import VisitRow
from gongji.store.uow import UnitOfWork

_ID: Final = re.compile(r"[A-Za-z0-9_.:-]{1,40}")
_DATE: Final = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})( [0-9]{2}:[0-9]{2}:[0-9]{2})?")
_YEAR_MONTH: Final = re.compile(r"[0-9]{4}(0[1-9]|1[0-2])")
VISITS_LISTED_MAX: Final = 500


def _visit_out(visit: VisitRow) -> dict[str, Any]:
    return {
        "mdtrt_id": visit.mdtrt_id,
        "psn_no": visit.psn_no,
        "ipt_otp_no": visit.ipt_otp_no,
        "insutype": visit.insutype,
        "med_type": visit.med_type,
        "begntime": visit.begntime,
        "endtime": visit.endtime,
        "vali_flag": "0" if visit.state == VisitState.CANCELLED else "1",
        "mdtrt_state": visit.state,
    }


def _own_visit(uow: UnitOfWork, data: fields.Node, institution: str) -> VisitRow:
    mdtrt_id = fields.required_text(data, "mdtrt_id", pattern=_ID)
    psn_no = fields.text(data, "psn_no", required=False, pattern=_ID)
    found = visits.find_visit(uow, institution, mdtrt_id)
    if found is None or (psn_no is not None and psn_no != found.psn_no):
        raise VisitNotFound(mdtrt_id=mdtrt_id)
    return found


def visit_query(ctx: Context, uow: UnitOfWork, env: Envelope, institution: str) -> dict[str, Any]:
    """5201: one visit (``mdtrt_id``) or a person's visits here (``psn_no``), oldest first."""
    data = fields.child(env.input, "data")
    if fields.text(data, "mdtrt_id", required=False) is not None:
        return {"mdtrtinfo": [_visit_out(_own_visit(uow, data, institution))]}
    psn_no = fields.required_text(data, "psn_no", pattern=_ID)
    found = visits.visits_of(uow, institution, psn_no, VISITS_LISTED_MAX)
    return {"mdtrtinfo": [_visit_out(visit) for visit in found]}


def diagnosis_query(
    ctx: Context, uow: UnitOfWork, env: Envelope, institution: str
) -> dict[str, Any]:
    """5202: the diagnoses last uploaded for a visit (2203, or 2401's)."""
    visit = _own_visit(uow, fields.child(env.input, "data"), institution)
    return {
        "diseinfo": [
            {
                "diag_srt_no": row.diag_srt_no,
                "diag_type": row.diag_type,
                "diag_code": row.diag_code,
                "diag_name": row.diag_name,
                "maindiag_flag": row.maindiag_flag,
            }
            for row in visits.visit_diagnoses(uow, visit)
        ]
    }


def settlement_query(
    ctx: Context, uow: UnitOfWork, env: Envelope, institution: str
) -> dict[str, Any]:
    """5203: one of this institution's settlements or reversals, as settle answered it."""
    data = fields.child(env.input, "data")
    setl_id = fields.required_text(data, "setl_id", pattern=_ID)
    row = records.settlement(uow.connection, setl_id)
    psn_no = fields.text(data, "psn_no", required=False, pattern=_ID)
    if row is None or row.institution_code != institution or psn_no not in (None, row.psn_no):
        raise NotFound(what="结算记录")
    info = fsi_settlement.settlement_fields(ctx, row, require_person(uow, row.psn_no))
    if row.reverses is not None:
        info["init_setl_id"] = row.reverses
    reversal = records.reversal_of(uow.connection, setl_id)
    info["refd_setl_flag"] = "1" if reversal is not None else "0"
    return {
        "setlinfo": info,
        "setldetail": fsi_settlement.fund_detail(row.insutype, row.fund_pay_sumamt),
    }


def fee_query(ctx: Context, uow: UnitOfWork, env: Envelope, institution: str) -> dict[str, Any]:
    """5204: a visit's uploaded lines and where each stands (``mdtrt_id``), or the lines a
    settlement paid (``setl_id``)."""
    data = fields.child(env.input, "data")
    if fields.text(data, "mdtrt_id", required=False) is not None:
        visit = _own_visit(uow, data, institution)
        return {"feedetail": [_line_out(line) for line in visits.visit_lines(uow, visit)]}
    setl_id = fields.required_text(data, "setl_id", pattern=_ID)
    row = records.settlement(uow.connection, setl_id)
    if row is None or row.institution_code != institution:
        raise NotFound(what="结算记录")
    items = records.items_of(uow.connection, setl_id)
    return {
        "feedetail": [
            {
                "setl_id": setl_id,
                "line_no": item.line_no,
                "med_list_codg": item.item_code,
                "cnt": Decimal(item.quantity),
                "pric": amount(item.unit_price_fen),
                "det_item_fee_sumamt": amount(item.det_item_fee_sumamt),
                "fulamt_ownpay_amt": amount(item.fulamt_ownpay_amt),
                "overlmt_amt": amount(item.overlmt_amt),
                "preselfpay_amt": amount(item.preselfpay_amt),
                "inscp_scp_amt": amount(item.inscp_scp_amt),
            }
            for item in items
        ]
    }


def chronic_drug_query(
    ctx: Context, uow: UnitOfWork, env: Envelope, institution: str
) -> dict[str, Any]:
    """5205: the drugs of a person's chronic-disease settlements (med_type 14) in a period, at
    every institution, reversed ones left out; another institution's ``setl_id`` is not shown."""
    data = fields.child(env.input, "data")
    psn_no = fields.required_text(data, "psn_no", pattern=_ID)
    first = _date(data, "begntime")
    last = _date(data, "endtime")
    found = person_history.chronic_drug_records(ctx, uow, institution, psn_no, first, last)
    return {
        "feedetail": [
            {
                "setl_id": record.setl_id if record.institution_code == institution else None,
                "fixmedins_code": record.institution_code,
                "med_type": record.med_type,
                "setl_date": record.business_date,
                "med_list_codg": record.item_code,
                "med_list_name": record.item_name,
                "cnt": record.quantity,
                "pric": amount(record.unit_price_fen),
                "det_item_fee_sumamt": amount(record.det_item_fee_sumamt),
            }
            for record in found
        ]
    }


def cumulative_query(
    ctx: Context, uow: UnitOfWork, env: Envelope, institution: str
) -> dict[str, Any]:
    """5206: a person's figures of the year through the end of ``cum_ym`` (``yyyyMM``; this
    month when absent), at every institution."""
    data = fields.child(env.input, "data")
    psn_no = fields.required_text(data, "psn_no", pattern=_ID)
    cum_ym = fields.text(data, "cum_ym", required=False, pattern=_YEAR_MONTH)
    if cum_ym is None:
        cum_ym = f"{ctx.today():%Y%m}"
    year, month = int(cum_ym[:4]), int(cum_ym[4:])
    through = date(year, month, calendar.monthrange(year, month)[1])
    found = person_history.cumulative(uow, institution, psn_no, year, through)
    return {
        "cuminfo": [
            {
                "insutype": figure.insutype,
                "year": str(figure.year),
                "cum_ym": cum_ym,
                "cum_type_code": figure.cum_type_code,
                "cum_type_name": figure.cum_type_name,
                "cum": amount(figure.cum_fen),
            }
            for figure in found
        ]
    }


def _line_out(line: visits.FeeLineRow) -> dict[str, Any]:
    return {
        "feedetl_sn": line.feedetl_sn,
        "mdtrt_id": line.mdtrt_id,
        "chrg_bchno": line.chrg_bchno,
        "med_list_codg": line.item_code,
        "cnt": Decimal(line.quantity),
        "pric": amount(line.unit_price_fen),
        "det_item_fee_sumamt": amount(line.det_item_fee_sumamt),
        "fee_ocur_time": line.fee_ocur_time,
        "vali_flag": "0" if line.state == "revoked" else "1",
        "fee_state": line.state,
        "setl_id": line.setl_id,
    }


def reconcile_detail(
    ctx: Context, uow: UnitOfWork, env: Envelope, institution: str
) -> dict[str, Any]:
    """3202: the institution's settlements of a period, one by one, against gongji's: listed in
    ``detail``, or in a file uploaded by 9101 named by ``file_qury_no`` (the CSV of the REST
    detail reconciliation, or a zip holding it)."""
    data = fields.child(env.input, "data")
    first = _date(data, "stmt_begndate")
    last = _date(data, "stmt_enddate")
    file_qury_no = fields.text(data, "file_qury_no", required=False, pattern=_ID)
    if file_qury_no is None:
        nodes = fields.entries([env.input, data], ("detail", "setldetail"), "detail")
        theirs = [_detail_line(index, node) for index, node in enumerate(nodes)]
    elif any(name in node for node in (env.input, data) for name in ("detail", "setldetail")):
        raise fields.FsiFieldInvalid(field="file_qury_no", expected="（不能与 detail 同时提供）")
    else:
        text = files.text_of(ctx, uow, institution, file_qury_no)
        theirs = reconciliation.parse_detail_csv(text)
    result = reconciliation.reconcile_detail(ctx, uow, institution, first, last, theirs)
    return {
        "stmtinfo": {
            "stmt_rslt": result.stmt_rslt,
            "stmt_rslt_dscr": "对账平" if result.balanced else "对账不平",
        },
        "matched": result.matched,
        "platform_only": [
            {"setl_id": row.setl_id, "setl_date": row.business_date, **_amounts(row)}
            for row in result.ours_only
        ],
        "institution_only": [
            {"setl_id": line.setl_id, **_listed(line.amounts)} for line in result.theirs_only
        ],
        "amounts_differ": [
            {
                "setl_id": row.setl_id,
                "platform": _amounts(row),
                "institution": _listed(line.amounts),
            }
            for row, line in result.amounts_differ
        ],
    }


def _amounts(row: records.SettlementRow) -> dict[str, Any]:
    return _listed(reconciliation.detail_amounts(row))


def _listed(values: tuple[int, int, int]) -> dict[str, Any]:
    names = reconciliation.DETAIL_AMOUNTS
    return {name: amount(fen) for name, fen in zip(names, values, strict=True)}


def _detail_line(index: int, node: fields.Node) -> reconciliation.DetailLine:
    where = f"detail[{index}]."
    setl_id = fields.required_text(node, "setl_id", pattern=_ID, where=where)
    values = []
    for name in reconciliation.DETAIL_AMOUNTS:
        value = node.get(name)
        if value is None or value == "":
            raise fields.FsiFieldMissing(field=f"{where}{name}")
        try:
            values.append(parse_yuan(value, allow_negative=True))  # a reversal's line is negative
        except GongjiError as refused:
            refused.detail["field"] = f"{where}{name}"
            raise
    return reconciliation.DetailLine(index + 1, setl_id, (values[0], values[1], values[2]))


def _date(data: fields.Node, name: str) -> date:
    text = fields.required_text(data, name, pattern=_DATE)
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise fields.FsiFieldInvalid(field=name, expected="（应为 yyyy-MM-dd）") from None
