"""Recording and checking the audit trail.

``record`` runs inside the caller's unit of work: an operator's action and the record of it
commit together or not at all, so the trail never claims an action that did not happen nor
misses one that did. ``verify`` walks the whole chain in ``seq`` order in constant memory, then
checks each day's anchor; ``anchor`` fixes the head of a past day, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from gongji.audit.domain.chain import (
    GENESIS_HASH,
    Anchor,
    AuditEntry,
    ChainBreak,
    ChainWalker,
    LinkedEntry,
    check_anchors,
    link_hash,
)
from gongji.audit.store import audit_repo as repo
from gongji.audit.store.audit_repo import AuditQuery as AuditQuery
from gongji.core.clock import to_us
from gongji.kernel.context import BUSINESS_TZ, Actor, Context
from gongji.store.uow import UnitOfWork, run_in_transaction

RETENTION_DAYS_MIN = 190  # MLPS level 3 (等保三级): logs kept at least six months
# Keys of a command's fields that carry personal data or bulk content: never copied into a record.
PRIVATE_KEYS = frozenset(
    {"name", "id_number", "id_number_masked", "mobile", "heirs", "csv", "password", "totp"}
)
DETAIL_TEXT_MAX = 200
_RECORD_ARGUMENTS = frozenset({"psn_no", "reason", "ctx", "uow", "actor", "action", "subject"})


def record(
    ctx: Context,
    uow: UnitOfWork,
    actor: Actor | str,
    action: str,
    *,
    subject: str | None = None,
    reason: str | None = None,
    **detail: Any,
) -> None:
    """Append one record after the chain's head. On PostgreSQL the chain's turn and head are
    read in one round trip and the record goes with the transaction's ``COMMIT`` (the unit of
    work defers its writes from here on: ``uow.defer_writes``), so an audited action pays one
    round trip for its record."""
    label = actor if isinstance(actor, str) else actor.label
    entry = AuditEntry(ctx.now_us(), label, action, subject, reason, detail)
    uow.prefetch(repo.turn_and_head_reads())
    repo.take_turn(uow.connection)
    found = repo.head(uow.connection)
    prev_hash = found[1] if found else GENESIS_HASH
    uow.defer_writes()
    repo.append(uow.connection, entry, prev_hash, link_hash(prev_hash, entry))


def record_action(
    ctx: Context, uow: UnitOfWork, actor: Actor, action: str, fields: dict[str, Any]
) -> None:
    """Record an operator's command from its fields: ``psn_no`` is the subject, ``reason`` the
    reason, short scalar fields the detail; personal data and file contents are left out."""
    subject = fields.get("psn_no") if isinstance(fields.get("psn_no"), str) else None
    reason = fields.get("reason") if isinstance(fields.get("reason"), str) else None
    detail = {
        key: value
        for key, value in fields.items()
        if key not in PRIVATE_KEYS
        and key not in _RECORD_ARGUMENTS
        and isinstance(value, str | int | bool)
        and len(str(value)) <= DETAIL_TEXT_MAX
    }
    record(ctx, uow, actor, action, subject=subject, reason=reason, **detail)


@dataclass(frozen=True, slots=True)
class Verdict:
    records: int
    anchors: int
    broken: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def verify(ctx: Context) -> Verdict:
    def work(uow: UnitOfWork) -> Verdict:
        walker = ChainWalker()
        for linked in repo.walk(uow.connection):
            broken = walker.step(linked)
            if broken is not None:
                return Verdict(walker.seen, 0, broken)
        anchors = repo.anchors(uow.connection)
        hashes = repo.hashes_at(uow.connection, [a.last_seq for a in anchors])
        return Verdict(walker.seen, len(anchors), check_anchors(anchors, hashes))

    return run_in_transaction(ctx.engine, work, read_only=True)


def anchor(ctx: Context, uow: UnitOfWork, day: date) -> Anchor | None:
    """Fix the chain's head as it stood at the end of ``day`` (business time), once.

    A day that has not ended, or before which nothing was recorded, gets no anchor; anchoring a
    day again returns the stored anchor unchanged.
    """
    stored = repo.anchor_of(uow.connection, day.isoformat())
    if stored is not None:
        return stored
    day_end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=BUSINESS_TZ)
    if ctx.now() < day_end:
        return None
    found = repo.last_seq_before(uow.connection, to_us(day_end))
    if found is None:
        return None
    made = Anchor(day.isoformat(), found[0], found[1])
    repo.insert_anchor(uow.connection, made, ctx.now_us())
    return made


def anchor_yesterday(ctx: Context) -> Anchor | None:
    def work(uow: UnitOfWork) -> Anchor | None:
        made = anchor(ctx, uow, ctx.today() - timedelta(days=1))
        uow.commit()
        return made

    return run_in_transaction(ctx.engine, work)


def search(uow: UnitOfWork, query: AuditQuery) -> list[LinkedEntry]:
    """Records matching ``query``, newest first (``query.before_seq`` pages back)."""
    return repo.search(uow.connection, query)


def search_by(
    uow: UnitOfWork,
    *,
    actor: str | None = None,
    subject: str | None = None,
    action: str | None = None,
    from_us: int | None = None,
    to_us: int | None = None,
    before_seq: int | None = None,
    limit: int = 100,
) -> list[LinkedEntry]:
    """:func:`search` for callers outside the audit area, which do not see its store."""
    query = AuditQuery(actor, subject, action, from_us, to_us, before_seq, limit)
    return repo.search(uow.connection, query)
