"""Visits and their uploaded fee details (docs/rules.md §8.6): the states, and which
transitions each state allows. Pure: the store hands in what it read, this says yes or why not.

A visit is ``open`` from registration (2201) or admission (2401); an inpatient stay becomes
``discharged`` (2402, undone by 2405); a visit is ``cancelled`` (2202 / 2404) only while no
line of it is uploaded or settled, so that no uploaded detail is orphaned and no settled one
loses its visit. A line is ``uploaded`` (2204 / 2301), then ``revoked`` (2205 / 2302, for
good) or ``settled`` (2207 / 2304) by exactly one settlement; a reversal (2208 / 2305) makes it
``uploaded`` again, so it can be settled once more or revoked. Hence each line is paid by at
most one live settlement at any time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from gongji.core.errors import GongjiError
from gongji.settlement.domain.settlement_errors import SettlementRequestReused


class VisitKind(StrEnum):
    OUTPATIENT = "outpatient"
    INPATIENT = "inpatient"


class VisitState(StrEnum):
    OPEN = "open"
    DISCHARGED = "discharged"
    CANCELLED = "cancelled"


class LineState(StrEnum):
    UPLOADED = "uploaded"
    REVOKED = "revoked"
    SETTLED = "settled"


class VisitNotFound(GongjiError):
    code: ClassVar[str] = "visit_not_found"
    message_zh: ClassVar[str] = "未找到就诊记录：{mdtrt_id}"
    message_en: ClassVar[str] = "No such visit: {mdtrt_id}"


class VisitCancelled(GongjiError):
    code: ClassVar[str] = "visit_cancelled"
    message_zh: ClassVar[str] = "就诊 {mdtrt_id} 已撤销，不能再办理"
    message_en: ClassVar[str] = "Visit {mdtrt_id} was cancelled"


class VisitKindMismatch(GongjiError):
    code: ClassVar[str] = "visit_kind_mismatch"
    message_zh: ClassVar[str] = "就诊 {mdtrt_id} 不是{expected}就诊"
    message_en: ClassVar[str] = "Visit {mdtrt_id} is not an {kind} visit"


class VisitPersonMismatch(GongjiError):
    code: ClassVar[str] = "visit_person_mismatch"
    message_zh: ClassVar[str] = "人员编号与就诊 {mdtrt_id} 的登记人员不符"
    message_en: ClassVar[str] = "psn_no differs from the person of visit {mdtrt_id}"


class VisitNumberReused(GongjiError):
    code: ClassVar[str] = "visit_number_reused"
    message_zh: ClassVar[str] = "住院/门诊号 {ipt_otp_no} 已登记给其他人员"
    message_en: ClassVar[str] = "ipt_otp_no {ipt_otp_no} is registered for another person"


class VisitHasFees(GongjiError):
    code: ClassVar[str] = "visit_has_fees"
    message_zh: ClassVar[str] = "就诊 {mdtrt_id} 尚有未撤销的费用明细或结算，请先撤销"
    message_en: ClassVar[str] = "Visit {mdtrt_id} still has uploaded or settled fee details"


class VisitStateInvalid(GongjiError):
    code: ClassVar[str] = "visit_state_invalid"
    message_zh: ClassVar[str] = "就诊 {mdtrt_id} 当前状态（{state}）不能办理该交易"
    message_en: ClassVar[str] = "Visit {mdtrt_id} is {state}: not allowed now"


class BatchOfAnotherVisit(GongjiError):
    code: ClassVar[str] = "batch_of_another_visit"
    message_zh: ClassVar[str] = "收费批次号 {chrg_bchno} 属于其他就诊，不属于就诊 {mdtrt_id}"
    message_en: ClassVar[str] = "Charge batch {chrg_bchno} belongs to another visit"


class BatchNotFound(GongjiError):
    code: ClassVar[str] = "batch_not_found"
    message_zh: ClassVar[str] = "就诊 {mdtrt_id} 没有待结算的费用明细（收费批次号 {chrg_bchno}）"
    message_en: ClassVar[str] = "Visit {mdtrt_id} has no unsettled fee details in {chrg_bchno}"


class BatchRevoked(GongjiError):
    code: ClassVar[str] = "batch_revoked"
    message_zh: ClassVar[str] = "收费批次 {chrg_bchno} 的费用明细已撤销，不能结算"
    message_en: ClassVar[str] = "The fee details of batch {chrg_bchno} were revoked"


class FeesSettled(GongjiError):
    code: ClassVar[str] = "fees_settled"
    message_zh: ClassVar[str] = "费用明细 {feedetl_sn} 已结算，请先撤销结算"
    message_en: ClassVar[str] = "Fee detail {feedetl_sn} is settled: reverse the settlement first"


class FeeLineReused(GongjiError):
    code: ClassVar[str] = "fee_line_reused"
    message_zh: ClassVar[str] = (
        "费用明细流水号 {feedetl_sn} 已上传过不同内容或已撤销，请使用新的流水号"
    )
    message_en: ClassVar[str] = "feedetl_sn {feedetl_sn} was used for other content or revoked"


class FeeLineNotFound(GongjiError):
    code: ClassVar[str] = "fee_line_not_found"
    message_zh: ClassVar[str] = "就诊 {mdtrt_id} 没有费用明细流水号 {feedetl_sn}"
    message_en: ClassVar[str] = "Visit {mdtrt_id} has no fee detail {feedetl_sn}"


@dataclass(frozen=True, slots=True)
class LineStand:
    """What the rules need of a stored line: its number, batch, state and settlement."""

    feedetl_sn: str
    chrg_bchno: str
    state: LineState
    setl_id: str | None


def check_open(mdtrt_id: str, state: str, kind: str, expected: VisitKind) -> None:
    """The visit exists as the transaction's kind and is not cancelled."""
    if kind != expected:
        label = "门诊" if expected is VisitKind.OUTPATIENT else "住院"
        raise VisitKindMismatch(mdtrt_id=mdtrt_id, expected=label, kind=expected.value)
    if state == VisitState.CANCELLED:
        raise VisitCancelled(mdtrt_id=mdtrt_id)


def check_cancellable(mdtrt_id: str, lines: Sequence[LineStand]) -> None:
    """Only a visit with nothing uploaded (or everything revoked) may be cancelled."""
    if any(line.state != LineState.REVOKED for line in lines):
        raise VisitHasFees(mdtrt_id=mdtrt_id)


def check_revocable(lines: Sequence[LineStand]) -> list[LineStand]:
    """The lines a revocation changes (already revoked ones are left alone: a repeat is a
    no-op); a settled line refuses the whole revocation."""
    for line in lines:
        if line.state == LineState.SETTLED:
            raise FeesSettled(feedetl_sn=line.feedetl_sn)
    return [line for line in lines if line.state == LineState.UPLOADED]


def to_settle(
    mdtrt_id: str,
    chrg_bchno: str,
    lines: Sequence[LineStand],
    request_id: str,
    replayed_setl_id: str | None,
) -> list[LineStand]:
    """The lines a settlement of the batch pays: the uploaded ones, or, when the same request
    is sent again, exactly those its settlement paid. A line settled by another settlement
    refuses the whole settlement (each line is paid at most once)."""
    chosen: list[LineStand] = []
    for line in lines:
        if line.state == LineState.SETTLED:
            if replayed_setl_id is None or line.setl_id != replayed_setl_id:
                raise FeesSettled(feedetl_sn=line.feedetl_sn)
            chosen.append(line)
        elif line.state == LineState.UPLOADED and replayed_setl_id is None:
            chosen.append(line)
    if not chosen and replayed_setl_id is not None:
        # The request's settlement no longer pays these lines (it was reversed): the message
        # id names a finished settlement, not this one.
        raise SettlementRequestReused(request_id=request_id)
    if not chosen:
        if lines and all(line.state == LineState.REVOKED for line in lines):
            raise BatchRevoked(chrg_bchno=chrg_bchno)
        raise BatchNotFound(mdtrt_id=mdtrt_id, chrg_bchno=chrg_bchno)
    return chosen
