"""The risk officer's decision on grants a write-time check held (待审核, docs/rules.md §6.1.1,
§12.4): release (the offer goes on as it would have) or reject (the money goes back to the
contributor). The grant's states and money are mutual aid's; risk checks the role and records
the decision in the audit trail in the same transaction.
"""

from __future__ import annotations

from typing import ClassVar

from gongji.audit.service import log
from gongji.core.errors import GongjiError
from gongji.kernel.context import Actor, Context
from gongji.mutual_aid.service import grants
from gongji.risk.service.access import require_risk_officer
from gongji.store.records import GrantRecord
from gongji.store.uow import UnitOfWork


class HoldReasonRequired(GongjiError):
    code: ClassVar[str] = "risk_hold_reason_required"
    message_zh: ClassVar[str] = "请填写不予放行的理由（200 字以内）"
    message_en: ClassVar[str] = "A reason (at most 200 characters) is required to reject"


def held(uow: UnitOfWork) -> list[GrantRecord]:
    """The grants waiting for a decision, oldest first."""
    return grants.held_grants(uow)


def release(ctx: Context, uow: UnitOfWork, actor: Actor, grant_id: str) -> GrantRecord:
    require_risk_officer(actor)
    released = grants.release_held(ctx, uow, actor, grant_id)
    log.record(
        ctx, uow, actor, "risk_grant_released", subject=released.recipient, grant=grant_id,
        contributor=released.contributor,
    )  # fmt: skip
    return released


def reject(ctx: Context, uow: UnitOfWork, actor: Actor, grant_id: str, reason: str) -> GrantRecord:
    require_risk_officer(actor)
    reason = reason.strip()
    if not reason or len(reason) > 200:
        raise HoldReasonRequired()
    rejected = grants.reject_held(ctx, uow, actor, grant_id, reason)
    log.record(
        ctx, uow, actor, "risk_grant_rejected", subject=rejected.recipient, reason=reason,
        grant=grant_id, contributor=rejected.contributor, returned_fen=rejected.amount_fen,
    )  # fmt: skip
    return rejected
