"""2601 冲正交易: undo a message whose answer the HIS never received, named by its ``omsgid``
and ``oinfno`` (docs/national-interface.md).

A HIS that timed out does not know whether its message was carried out. 2601 makes the answer
certain: if the message was carried out, its effect is undone; if it never was (it never
arrived, or was refused), the 2601 is refused with ``fsi_original_not_found`` and the HIS knows
nothing happened. What can be undone:

- a settlement (2102, 2207, 2304): reversed exactly as 2103/2208/2305 would, its uploaded lines
  released;
- a registration or admission (2201, 2401): the visit is cancelled (refused while it has
  uploaded or settled lines, like 2202/2404);
- an upload (2204, 2301): the lines it uploaded are revoked (refused if one is settled).

Others (the cancellations and revocations themselves, diagnoses, discharge) are refused
(``fsi_reversal_unsupported``): each has its own inverse transaction. The 2601 runs once per
its own ``msgid``; the reversal of a settlement is recorded under it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar, Final

from gongji.core.errors import GongjiError
from gongji.fsi.domain import fields
from gongji.fsi.http import settlement as fsi_settlement
from gongji.fsi.http.envelope import Envelope
from gongji.fsi.http.replayable import once, stored
from gongji.kernel.context import Context
from gongji.settlement.domain.visits import VisitKind
from gongji.settlement.service import records, settlement, visits
from gongji.store.uow import UnitOfWork

_INFNO: Final = re.compile(r"[0-9]{4}")
_ID: Final = re.compile(r"[A-Za-z0-9_.:-]{1,40}")
SETTLEMENTS: Final = frozenset({"2102", "2207", "2304"})
OPENINGS: Final = {"2201": VisitKind.OUTPATIENT, "2401": VisitKind.INPATIENT}
UPLOADS: Final = {"2204": VisitKind.OUTPATIENT, "2301": VisitKind.INPATIENT}


class FsiOriginalNotFound(GongjiError):
    code: ClassVar[str] = "fsi_original_not_found"
    message_zh: ClassVar[str] = "未找到原交易（报文 ID {omsgid}）：该报文未被受理，无需冲正"
    message_en: ClassVar[str] = "No message {omsgid} was carried out: nothing to reverse"


class FsiOriginalMismatch(GongjiError):
    code: ClassVar[str] = "fsi_original_mismatch"
    message_zh: ClassVar[str] = "原交易 {omsgid} 的交易编号为 {infno}，不是 {oinfno}"
    message_en: ClassVar[str] = "Message {omsgid} was transaction {infno}, not {oinfno}"


class FsiReversalUnsupported(GongjiError):
    code: ClassVar[str] = "fsi_reversal_unsupported"
    message_zh: ClassVar[str] = "交易 {oinfno} 不支持冲正，请使用其撤销交易"
    message_en: ClassVar[str] = "Transaction {oinfno} cannot be reversed by 2601"


@once
def reverse_message(
    ctx: Context, uow: UnitOfWork, env: Envelope, institution: str
) -> dict[str, Any]:
    """2601: undo the message ``omsgid`` (transaction ``oinfno``) if it was carried out."""
    data = fields.child(env.input, "data")
    omsgid = fields.required_text(data, "omsgid", pattern=_ID)
    oinfno = fields.required_text(data, "oinfno", pattern=_INFNO)
    psn_no = fields.text(data, "psn_no", required=False, pattern=_ID)
    if oinfno in SETTLEMENTS:
        _reverse_settlement(ctx, uow, env, institution, omsgid, oinfno, psn_no)
        return {}
    if oinfno not in OPENINGS and oinfno not in UPLOADS:
        raise FsiReversalUnsupported(oinfno=oinfno)
    found = stored(uow, institution, omsgid)
    if found is None:
        raise FsiOriginalNotFound(omsgid=omsgid)
    if found.get("infno") != oinfno:
        raise FsiOriginalMismatch(omsgid=omsgid, infno=found.get("infno"), oinfno=oinfno)
    _undo_visit_message(ctx, uow, institution, oinfno, found.get("undo") or {}, psn_no)
    return {}


def _reverse_settlement(
    ctx: Context,
    uow: UnitOfWork,
    env: Envelope,
    institution: str,
    omsgid: str,
    oinfno: str,
    psn_no: str | None,
) -> None:
    original = records.by_request(uow.connection, institution, omsgid)
    if original is None or original.kind != "settlement":
        raise FsiOriginalNotFound(omsgid=omsgid)
    if psn_no is not None and psn_no != original.psn_no:
        raise fsi_settlement.FsiPersonMismatch()
    fsi_settlement.check_group(oinfno, original.med_type)
    settlement.reverse(ctx, uow, institution, original.setl_id, env.msgid)
    visits.release(uow, original.setl_id)


def _undo_visit_message(
    ctx: Context,
    uow: UnitOfWork,
    institution: str,
    oinfno: str,
    undo: Mapping[str, Any],
    psn_no: str | None,
) -> None:
    mdtrt_id, owner = str(undo.get("mdtrt_id")), str(undo.get("psn_no"))
    if psn_no is not None and psn_no != owner:
        raise fsi_settlement.FsiPersonMismatch()
    if oinfno in OPENINGS:
        visits.cancel_visit(ctx, uow, institution, mdtrt_id, OPENINGS[oinfno], owner)
        return
    visit = visits.visit_for(uow, institution, mdtrt_id, UPLOADS[oinfno], owner)
    visits.revoke(uow, visit, None, [str(sn) for sn in undo.get("feedetl_sn", [])])
