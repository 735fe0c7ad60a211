"""Inpatient stays on the national interface: 2401 入院办理, 2402 出院办理, 2404 入院撤销,
2405 出院撤销, 2301 住院费用明细上传 (day by day), 2302 住院费用明细撤销 (by ``feedetl_sn``,
or all with ``0000``); 2303/2304 then settle every uploaded line of the stay by ``mdtrt_id``
after discharge, or before it as a mid-stay settlement (``mid_setl_flag`` 1). Thin mappings
over :mod:`gongji.settlement.service.visits`, each once per ``msgid``.
"""

from __future__ import annotations

import re
from typing import Any, Final

from gongji.fsi.domain import fields
from gongji.fsi.http.envelope import Envelope
from gongji.fsi.http.patients import presented_patient
from gongji.fsi.http.replayable import once
from gongji.fsi.http.visits import (
    ALL_BATCHES,
    ID,
    read_diagnoses,
    read_upload,
    upload_answer,
    visit_of,
)
from gongji.kernel.context import Context
from gongji.settlement.domain.visits import VisitKind, VisitState
from gongji.settlement.service import visits
from gongji.settlement.service.visits import Opening
from gongji.store.uow import UnitOfWork

_TIME: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}:[0-9]{2})?")
_MED_TYPE: Final = re.compile(r"[0-9]{2,6}")
INPATIENT = VisitKind.INPATIENT


@once
def admit(ctx: Context, uow: UnitOfWork, env: Envelope, institution: str) -> dict[str, Any]:
    """2401: open a stay; the answer's ``mdtrt_id`` names it from now on."""
    info = fields.child(env.input, "mdtrtinfo", "adminfo", "data")
    opening = Opening(
        institution_code=institution,
        kind=INPATIENT,
        patient=presented_patient(ctx, uow, env, institution, info),
        ipt_otp_no=fields.required_text(info, "ipt_no", pattern=ID),
        med_type=fields.text(info, "med_type", required=False, pattern=_MED_TYPE) or "21",
        begntime=fields.required_text(info, "begntime", pattern=_TIME),
    )
    stay = visits.open_visit(ctx, uow, opening)
    diseinfo = env.input.get("diseinfo")
    if diseinfo:
        diagnoses = read_diagnoses(fields.entries([env.input], ("diseinfo",), "diseinfo"))
        visits.record_diagnoses(ctx, uow, stay, None, diagnoses)
    return {
        "result": {"mdtrt_id": stay.mdtrt_id, "psn_no": stay.psn_no, "ipt_otp_no": stay.ipt_otp_no}
    }


@once
def cancel_admission(
    ctx: Context, uow: UnitOfWork, env: Envelope, institution: str
) -> dict[str, Any]:
    """2404: cancel a stay with nothing uploaded (or all of it revoked)."""
    data = fields.child(env.input, "data")
    mdtrt_id = fields.required_text(data, "mdtrt_id", pattern=ID)
    psn_no = fields.required_text(data, "psn_no", pattern=ID)
    visits.cancel_visit(ctx, uow, institution, mdtrt_id, INPATIENT, psn_no)
    return {}


@once
def discharge(ctx: Context, uow: UnitOfWork, env: Envelope, institution: str) -> dict[str, Any]:
    """2402: the patient leaves; the stay may now be settled in full."""
    info = fields.child(env.input, "dscginfo", "data")
    stay = visit_of(uow, info, institution, INPATIENT)
    endtime = fields.required_text(info, "endtime", pattern=_TIME)
    visits.set_state(ctx, uow, stay, VisitState.DISCHARGED, endtime)
    return {}


@once
def cancel_discharge(
    ctx: Context, uow: UnitOfWork, env: Envelope, institution: str
) -> dict[str, Any]:
    """2405: the stay goes on (its settlement, if any, must be reversed first)."""
    stay = visit_of(uow, fields.child(env.input, "data"), institution, INPATIENT)
    visits.set_state(ctx, uow, stay, VisitState.OPEN, None)
    return {}


@once
def upload(ctx: Context, uow: UnitOfWork, env: Envelope, institution: str) -> dict[str, Any]:
    """2301: fee details of one stay (a day's, typically); ``chrg_bchno`` optional."""
    stay, lines, declared = read_upload(uow, env, institution, INPATIENT, False)
    figures = visits.upload(ctx, uow, stay, lines)
    return upload_answer(lines, declared, figures)


@once
def revoke(ctx: Context, uow: UnitOfWork, env: Envelope, institution: str) -> dict[str, Any]:
    """2302: revoke one line by ``feedetl_sn``, or every unsettled one (``0000``)."""
    data = fields.child(env.input, "data")
    stay = visit_of(uow, data, institution, INPATIENT)
    feedetl_sn = fields.required_text(data, "feedetl_sn", pattern=ID)
    visits.revoke(uow, stay, None, None if feedetl_sn == ALL_BATCHES else [feedetl_sn])
    return {}
