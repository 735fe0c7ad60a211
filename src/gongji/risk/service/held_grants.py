"""The risk officer's decision on grants a write-time check held (待审核, docs/rules.md §6.1.1,
§12.4): release (the offer goes on as it would have) or reject (the money goes back to the
contributor). The grant's states and money are mutual aid's; risk checks the role and records
the decision in the audit trail in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from gongji.audit.service import log
from gongji.core.errors import GongjiError
from gongji.kernel.context import Actor, Context
from gongji.mutual_aid.service import grants
from gongji.people.service import registry
from gongji.risk.service.access import require_risk_officer
from gongji.risk.store import alerts_repo
from gongji.risk.store.alerts_repo import AlertRow
from gongji.store.records import GrantRecord
from gongji.store.uow import UnitOfWork


class HoldReasonRequired(GongjiError):
    code: ClassVar[str] = "risk_hold_reason_required"
    message_zh: ClassVar[str] = "请填写不予放行的理由（200 字以内）"
    message_en: ClassVar[str] = "A reason (at most 200 characters) is required to reject"


@dataclass(frozen=True, slots=True)
class HeldGrant:
    """A grant waiting for a decision, its two parties' masked names (王**, as the back office
    shows every name: a decision on a grant between "siblings" of two surnames needs them) and
    the write-time alerts that held it."""

    grant: GrantRecord
    contributor_name: str
    recipient_name: str
    alerts: list[AlertRow]


def held(uow: UnitOfWork) -> list[GrantRecord]:
    """The grants waiting for a decision, oldest first."""
    return grants.held_grants(uow)


def held_with_alerts(uow: UnitOfWork) -> list[HeldGrant]:
    """The grants waiting for a decision, oldest first, each with the alerts that held it, as
    the screen linked them when it held the offer (``risk_grant_holds``); the risk officer's
    list links each to its evidence."""
    waiting = grants.held_grants(uow)
    parties = [p for g in waiting for p in (g.contributor, g.recipient)]
    holding = alerts_repo.holding(uow.connection, [g.id for g in waiting])
    found = registry.persons_by_no(uow.connection, parties)
    names = {psn_no: person.name_masked for psn_no, person in found.items()}
    return [
        HeldGrant(
            g, names.get(g.contributor, ""), names.get(g.recipient, ""), holding.get(g.id, [])
        )
        for g in waiting
    ]


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
