"""The risk officer's cases (稽核案件): open from alerts, investigate, act, close.

Every step runs in the caller's unit of work and is recorded in the audit trail in the same
transaction (``audit.service.log.record``), so the trail never shows a step that did not
happen nor misses one that did. Freezing a wallet and suspending an institution's direct
settlement are the owning areas' use cases, called from here with the case as the reason.
"""

from __future__ import annotations

from typing import ClassVar

from gongji.audit.service import log
from gongji.core.enrolment import WalletStatus
from gongji.core.errors import GongjiError
from gongji.institutions.service import institutions
from gongji.kernel.context import Actor, Context
from gongji.mutual_aid.service import wallets
from gongji.risk.domain.alerts import SubjectKind
from gongji.risk.domain.cases import (
    CaseState,
    check_action_allowed,
    check_closing,
    check_step,
)
from gongji.risk.service.access import require_risk_officer
from gongji.risk.store import alerts_repo, cases_repo
from gongji.risk.store.cases_repo import CaseRow
from gongji.store.uow import UnitOfWork


class CaseUnknown(GongjiError):
    code: ClassVar[str] = "risk_case_unknown"
    message_zh: ClassVar[str] = "稽核案件 {case_id} 不存在"
    message_en: ClassVar[str] = "No risk case {case_id}"


class AlertUnknown(GongjiError):
    code: ClassVar[str] = "risk_alert_unknown"
    message_zh: ClassVar[str] = "风险预警 {alert_id} 不存在"
    message_en: ClassVar[str] = "No risk alert {alert_id}"


class AlertAlreadyInCase(GongjiError):
    code: ClassVar[str] = "risk_alert_in_case"
    message_zh: ClassVar[str] = "风险预警 {alert_id} 已在案件 {case_id} 中"
    message_en: ClassVar[str] = "Risk alert {alert_id} is already in case {case_id}"


class ActionNotForSubject(GongjiError):
    code: ClassVar[str] = "risk_action_not_for_subject"
    message_zh: ClassVar[str] = "该案件对象不能执行此操作"
    message_en: ClassVar[str] = "This action does not apply to the case's subject"


def open_case(ctx: Context, uow: UnitOfWork, actor: Actor, alert_id: int) -> CaseRow:
    """A case about an alert's subject, gathering every alert of that subject not yet in one."""
    require_risk_officer(actor)
    found = alerts_repo.alert(uow.connection, alert_id)
    if found is None:
        raise AlertUnknown(alert_id=alert_id)
    if found.case_id is not None:
        raise AlertAlreadyInCase(alert_id=alert_id, case_id=found.case_id)
    same = alerts_repo.of_subject(uow.connection, found.subject_kind, found.subject)
    gathered = [a.id for a in same if a.case_id is None]
    now_us = ctx.now_us()
    number = cases_repo.next_number(uow.connection)
    case_id = f"RC{ctx.today():%Y%m%d}{number:06d}"
    row = CaseRow(
        case_id, found.subject_kind, found.subject, CaseState.OPEN.value, actor.label,
        now_us, now_us, None, 0,
    )  # fmt: skip
    cases_repo.insert_case(uow.connection, row, gathered)
    log.record(ctx, uow, actor, "risk_case_opened", subject=case_id, alerts=gathered)
    return row


def _case(uow: UnitOfWork, case_id: str) -> CaseRow:
    found = cases_repo.case(uow.connection, case_id, lock=True)
    if found is None:
        raise CaseUnknown(case_id=case_id)
    return found


def investigate(ctx: Context, uow: UnitOfWork, actor: Actor, case_id: str) -> CaseRow:
    require_risk_officer(actor)
    case = _case(uow, case_id)
    check_step(CaseState(case.state), CaseState.INVESTIGATING)
    cases_repo.set_state(uow.connection, case_id, CaseState.INVESTIGATING, ctx.now_us(), False)
    log.record(ctx, uow, actor, "risk_case_investigating", subject=case_id)
    return _case(uow, case_id)


def close(
    ctx: Context,
    uow: UnitOfWork,
    actor: Actor,
    case_id: str,
    confirmed: bool,
    reason: str,
    recovered_fen: int | None = None,
) -> CaseRow:
    """Close as confirmed (属实, optionally with the amount recovered, 追回) or unfounded."""
    require_risk_officer(actor)
    case = _case(uow, case_id)
    to = CaseState.CLOSED_CONFIRMED if confirmed else CaseState.CLOSED_UNFOUNDED
    check_step(CaseState(case.state), to)
    check_closing(to, recovered_fen)
    reason = _reason(reason)
    now_us = ctx.now_us()
    cases_repo.set_state(uow.connection, case_id, to, now_us, True)
    if recovered_fen:
        cases_repo.insert_recovery(uow.connection, case_id, recovered_fen, actor.label, now_us)
    log.record(
        ctx, uow, actor, f"risk_case_{to.value}", subject=case_id, reason=reason,
        recovered_fen=recovered_fen or 0,
    )  # fmt: skip
    return _case(uow, case_id)


def record_recovery(
    ctx: Context, uow: UnitOfWork, actor: Actor, case_id: str, amount_fen: int
) -> CaseRow:
    """A further amount recovered on a case closed as confirmed (recoveries come in parts)."""
    require_risk_officer(actor)
    case = _case(uow, case_id)
    check_closing(CaseState(case.state), amount_fen)
    if not amount_fen:
        return case
    cases_repo.insert_recovery(uow.connection, case_id, amount_fen, actor.label, ctx.now_us())
    log.record(ctx, uow, actor, "risk_recovery_recorded", subject=case_id, amount_fen=amount_fen)
    return _case(uow, case_id)


def freeze_wallet(ctx: Context, uow: UnitOfWork, actor: Actor, case_id: str) -> CaseRow:
    """Freeze the wallet of the case's person: it can then neither give, accept nor spend. A
    wallet a write-time hold froze already stays frozen, now under the case."""
    require_risk_officer(actor)
    case = _case(uow, case_id)
    check_action_allowed(CaseState(case.state))
    if case.subject_kind != SubjectKind.PERSON:
        raise ActionNotForSubject()
    if wallets.wallet_status(uow, case.subject) is not WalletStatus.FROZEN:  # a hold froze it?
        wallets.set_frozen(ctx, uow, actor, case.subject, True, f"稽核案件 {case_id}")
    log.record(ctx, uow, actor, "risk_wallet_frozen", subject=case_id, psn_no=case.subject)
    return case


def suspend_institution(ctx: Context, uow: UnitOfWork, actor: Actor, case_id: str) -> CaseRow:
    """Suspend the case's institution: it can no longer settle directly (直接结算)."""
    require_risk_officer(actor)
    case = _case(uow, case_id)
    check_action_allowed(CaseState(case.state))
    if case.subject_kind != SubjectKind.INSTITUTION:
        raise ActionNotForSubject()
    institutions.suspend(ctx, uow, actor, case.subject, f"稽核案件 {case_id}")
    log.record(
        ctx, uow, actor, "risk_institution_suspended", subject=case_id, institution=case.subject
    )
    return case


class ReasonRequired(GongjiError):
    code: ClassVar[str] = "risk_reason_required"
    message_zh: ClassVar[str] = "请填写结案理由（200 字以内）"
    message_en: ClassVar[str] = "A reason (at most 200 characters) is required"


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason or len(reason) > 200:
        raise ReasonRequired()
    return reason
