"""Outpatient visits on the national interface, as a hospital's HIS sends them: 2201 挂号,
2202 挂号撤销, 2203 就诊信息上传, 2204 门诊费用明细上传, 2205 门诊费用明细撤销 (docs/rules.md
§8.2, docs/national-interface.md). Thin mappings: the fields read here, the rules and the
writes in :mod:`gongji.settlement.service.visits`. Each runs once per ``msgid``
(:mod:`gongji.fsi.http.replayable`); 2206/2207 then settle an uploaded batch by ``mdtrt_id``
and ``chrg_bchno`` (:mod:`gongji.fsi.http.settlement`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar, Final

from gongji.core.errors import GongjiError
from gongji.fsi.domain import fields
from gongji.fsi.http.envelope import Envelope
from gongji.fsi.http.patients import presented_patient
from gongji.fsi.http.replayable import once
from gongji.fsi.http.settlement import check_line_fees
from gongji.fsi.http.wire import amount
from gongji.kernel.context import Context
from gongji.settlement.domain.items import ItemFigures
from gongji.settlement.domain.visits import VisitKind
from gongji.settlement.service import visits
from gongji.settlement.service.visits import Diagnosis, Opening, UploadLine, VisitRow
from gongji.store.uow import UnitOfWork

ID: Final = re.compile(r"[A-Za-z0-9_.:-]{1,40}")
_CODE: Final = re.compile(r"[A-Za-z0-9_.-]{1,40}")
_MED_TYPE: Final = re.compile(r"[0-9]{2,6}")
_TIME: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}:[0-9]{2})?")
_SRT_NO: Final = re.compile(r"[0-9]{1,4}")
ALL_BATCHES: Final = "0000"
"""``chrg_bchno`` of a 2205 that revokes every unsettled batch of the visit, as on the platform
(and ``feedetl_sn`` of a 2302, every unsettled line of the stay)."""


class FsiNumberReserved(GongjiError):
    """A batch (2204) or stay line (2301) numbered ``0000`` could never be revoked alone: its
    revocation (2205 / 2302) would read as "revoke everything unsettled"."""

    code: ClassVar[str] = "fsi_number_reserved"
    message_zh: ClassVar[str] = (
        "字段 {field} 不能为 0000：交易 {revocation} 以 0000 表示撤销全部未结算明细，请使用其他编号"
    )
    message_en: ClassVar[str] = (
        "Field {field} cannot be 0000: transaction {revocation} reads 0000 as every unsettled line"
    )


_REVOKED_ALL_BY: Final = {
    VisitKind.OUTPATIENT: ("chrg_bchno", "2205"),
    VisitKind.INPATIENT: ("feedetl_sn", "2302"),
}
"""The field of an upload that its revocation reads ``0000`` in, and that revocation."""


def visit_of(
    uow: UnitOfWork, data: fields.Node, institution: str, kind: VisitKind, where: str = ""
) -> VisitRow:
    """The open visit named by ``mdtrt_id`` (and ``psn_no``, required) in ``data``."""
    mdtrt_id = fields.required_text(data, "mdtrt_id", pattern=ID, where=where)
    psn_no = fields.required_text(data, "psn_no", pattern=ID, where=where)
    return visits.visit_for(uow, institution, mdtrt_id, kind, psn_no)


def visit_answer(visit: VisitRow) -> dict[str, Any]:
    return {
        "data": {
            "mdtrt_id": visit.mdtrt_id,
            "psn_no": visit.psn_no,
            "ipt_otp_no": visit.ipt_otp_no,
            "exp_content": "",
        }
    }


@once
def register(ctx: Context, uow: UnitOfWork, env: Envelope, institution: str) -> dict[str, Any]:
    """2201: open an outpatient visit; the answer's ``mdtrt_id`` names it from now on."""
    data = fields.child(env.input, "data")
    opening = Opening(
        institution_code=institution,
        kind=VisitKind.OUTPATIENT,
        patient=presented_patient(ctx, uow, env, institution, data),
        ipt_otp_no=fields.required_text(data, "ipt_otp_no", pattern=ID),
        med_type=fields.text(data, "med_type", required=False, pattern=_MED_TYPE) or "11",
        begntime=fields.required_text(data, "begntime", pattern=_TIME),
    )
    return visit_answer(visits.open_visit(ctx, uow, opening))


@once
def unregister(ctx: Context, uow: UnitOfWork, env: Envelope, institution: str) -> dict[str, Any]:
    """2202: cancel a visit that has nothing uploaded (or all of it revoked)."""
    data = fields.child(env.input, "data")
    mdtrt_id = fields.required_text(data, "mdtrt_id", pattern=ID)
    psn_no = fields.required_text(data, "psn_no", pattern=ID)
    visits.cancel_visit(ctx, uow, institution, mdtrt_id, VisitKind.OUTPATIENT, psn_no)
    return {}


def read_diagnoses(nodes: Sequence[fields.Node]) -> list[Diagnosis]:
    found = []
    for index, node in enumerate(nodes):
        where = f"diseinfo[{index}]."
        found.append(
            Diagnosis(
                srt_no=int(fields.required_text(node, "diag_srt_no", pattern=_SRT_NO, where=where)),
                diag_type=fields.required_text(node, "diag_type", pattern=_CODE, where=where),
                code=fields.required_text(node, "diag_code", pattern=_CODE, where=where),
                name=fields.required_text(node, "diag_name", where=where),
                main=fields.text(node, "maindiag_flag", required=False, where=where) == "1"
                or index == 0,
            )
        )
    return found


@once
def visit_info(ctx: Context, uow: UnitOfWork, env: Envelope, institution: str) -> dict[str, Any]:
    """2203: the visit's category (``med_type``) and diagnoses; a later upload replaces them."""
    info = fields.child(env.input, "mdtrtinfo", "data")
    visit = visit_of(uow, info, institution, VisitKind.OUTPATIENT)
    med_type = fields.text(info, "med_type", required=False, pattern=_MED_TYPE)
    diagnoses = read_diagnoses(fields.entries([env.input], ("diseinfo",), "diseinfo"))
    visits.record_diagnoses(ctx, uow, visit, med_type, diagnoses)
    return {}


def read_upload(
    uow: UnitOfWork, env: Envelope, institution: str, kind: VisitKind, batch_required: bool
) -> tuple[VisitRow, list[UploadLine], list[int | None]]:
    """The lines of a 2204 / 2301 (one visit per message) and what each declares it costs."""
    details = fields.entries(
        [env.input, fields.child(env.input, "data")], ("feedetail",), "feedetail"
    )
    if not details:
        raise fields.FsiFieldMissing(field="feedetail")
    visit = visit_of(uow, details[0], institution, kind, "feedetail[0].")
    lines, declared = [], []
    for index, node in enumerate(details):
        where = f"feedetail[{index}]."
        for name, wanted in (("mdtrt_id", visit.mdtrt_id), ("psn_no", visit.psn_no)):
            if fields.required_text(node, name, pattern=ID, where=where) != wanted:
                raise fields.FsiFieldInvalid(
                    field=f"{where}{name}", expected="（同一报文只能上传同一就诊的明细）"
                )
        chrg_bchno = fields.text(
            node, "chrg_bchno", required=batch_required, pattern=ID, where=where
        )
        feedetl_sn = fields.required_text(node, "feedetl_sn", pattern=ID, where=where)
        reserved, revocation = _REVOKED_ALL_BY[kind]
        if (chrg_bchno if reserved == "chrg_bchno" else feedetl_sn) == ALL_BATCHES:
            raise FsiNumberReserved(field=f"{where}{reserved}", revocation=revocation)
        lines.append(
            UploadLine(
                feedetl_sn=feedetl_sn,
                chrg_bchno=chrg_bchno or "",
                item_code=fields.required_text(node, "med_list_codg", pattern=_CODE, where=where),
                quantity=fields.decimal(node, "cnt", where=where),
                unit_price_fen=fields.amount_fen(node, "pric", where=where) or 0,
                fee_ocur_time=fields.text(
                    node, "fee_ocur_time", required=False, pattern=_TIME, where=where
                ),
            )
        )
        declared.append(fields.amount_fen(node, "det_item_fee_sumamt", required=False, where=where))
    return visit, lines, declared


def upload_answer(
    lines: Sequence[UploadLine], declared: Sequence[int | None], figures: Sequence[ItemFigures]
) -> dict[str, Any]:
    """Each line as gongji adjudicated it; a declared fee that differs refuses the upload."""
    check_line_fees(declared, [figure.det_item_fee_sumamt for figure in figures])
    result = []
    for line, figure in zip(lines, figures, strict=True):
        result.append(
            {
                "feedetl_sn": line.feedetl_sn,
                "det_item_fee_sumamt": amount(figure.det_item_fee_sumamt),
                "cnt": line.quantity,
                "pric": amount(line.unit_price_fen),
                "fulamt_ownpay_amt": amount(figure.fulamt_ownpay_amt),
                "overlmt_amt": amount(figure.overlmt_amt),
                "preselfpay_amt": amount(figure.preselfpay_amt),
                "inscp_scp_amt": amount(figure.inscp_scp_amt),
                "memo": "",
            }
        )
    return {"result": result}


@once
def upload(ctx: Context, uow: UnitOfWork, env: Envelope, institution: str) -> dict[str, Any]:
    """2204: fee details of one visit, each in a charge batch (``chrg_bchno``)."""
    visit, lines, declared = read_upload(uow, env, institution, VisitKind.OUTPATIENT, True)
    figures = visits.upload(ctx, uow, visit, lines)
    return upload_answer(lines, declared, figures)


@once
def revoke(ctx: Context, uow: UnitOfWork, env: Envelope, institution: str) -> dict[str, Any]:
    """2205: revoke one batch (``chrg_bchno``), or every unsettled one (``0000``)."""
    data = fields.child(env.input, "data")
    visit = visit_of(uow, data, institution, VisitKind.OUTPATIENT)
    chrg_bchno = fields.required_text(data, "chrg_bchno", pattern=ID)
    visits.revoke(uow, visit, None if chrg_bchno == ALL_BATCHES else chrg_bchno, None)
    return {}
