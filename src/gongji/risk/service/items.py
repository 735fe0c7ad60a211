"""The catalogue items a bureau flags as resellable (high-price drugs bought to be sold on):
what the grant-then-cash rule counts as a resale."""

from __future__ import annotations

from gongji.audit.service import log
from gongji.kernel.context import Actor, Context
from gongji.risk.service.access import require_risk_officer
from gongji.risk.store import cases_repo
from gongji.store.uow import UnitOfWork


def flag_resellable(ctx: Context, uow: UnitOfWork, actor: Actor, item_code: str) -> bool:
    """Flag ``item_code``; ``False`` when it already was (nothing recorded again)."""
    require_risk_officer(actor)
    added = cases_repo.add_resellable(uow.connection, item_code.strip(), actor.label, ctx.now_us())
    if added:
        log.record(ctx, uow, actor, "risk_item_flagged_resellable", subject=item_code)
    return added
