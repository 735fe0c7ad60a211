"""The record of who looked up whom in the register (1101), for the audit.

Every look-up an institution makes is recorded, answered or not: which institution, which of
its operators (the envelope's ``opter``/``opter_name``), whom (the person, when identified), on
which credential, why (the transaction), when, and the outcome. A refused look-up is recorded
too: a run of them from one institution is what an attempt to harvest the register looks like.
Nothing personal is stored beyond the ``psn_no`` already in every other table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from gongji.kernel.context import Actor, ActorKind, Context, Role
from gongji.kernel.errors import Forbidden
from gongji.people.store import lookups_repo as repo
from gongji.people.store.lookups_repo import LookupRow
from gongji.store.uow import UnitOfWork

LOOKUPS_LISTED_MAX: Final = 1_000
AUDIT_ROLES: Final = frozenset({Role.ADMIN, Role.AUDITOR, Role.RISK_OFFICER})
_TEXT_MAX: Final = 40


@dataclass(frozen=True, slots=True)
class Lookup:
    """One look-up as the caller made it; ``psn_no`` is None when no one was identified."""

    institution_code: str
    psn_no: str | None
    cert_type: str
    purpose: str
    msgid: str
    operator: str
    outcome: str


def record_lookup(ctx: Context, uow: UnitOfWork, lookup: Lookup) -> None:
    """Append one look-up to the record, in the caller's unit of work."""
    repo.insert_lookup(
        uow.connection,
        institution_code=lookup.institution_code[:20],
        psn_no=lookup.psn_no,
        cert_type=lookup.cert_type[:8],
        purpose=lookup.purpose[:_TEXT_MAX],
        msgid=lookup.msgid[:_TEXT_MAX],
        operator=lookup.operator[:60],
        outcome=lookup.outcome[:_TEXT_MAX],
        at_us=ctx.now_us(),
    )


def lookups_of(
    uow: UnitOfWork,
    actor: Actor,
    *,
    psn_no: str | None = None,
    institution_code: str | None = None,
    since_us: int = 0,
    limit: int = LOOKUPS_LISTED_MAX,
) -> list[LookupRow]:
    """The recorded look-ups, newest first, of a person and/or by an institution: for auditors
    (and admins and risk officers), who answer for the register's use."""
    if actor.kind is not ActorKind.OPERATOR or not actor.roles & AUDIT_ROLES:
        raise Forbidden()
    bounded = max(1, min(limit, LOOKUPS_LISTED_MAX))
    return repo.lookups(
        uow.connection,
        psn_no=psn_no,
        institution_code=institution_code,
        since_us=since_us,
        limit=bounded,
    )
