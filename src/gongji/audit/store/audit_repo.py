"""SQL of the audit trail. No decisions.

Appending reads the chain's head and inserts after it, so two appends must not interleave: on
PostgreSQL the writers take turns on a transaction-scoped advisory lock held until commit (a
``seq`` drawn at insert would otherwise not be the chain's order); SQLite has one writer at a
time already.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Connection, func, insert, select

from gongji.audit.domain.chain import Anchor, AuditEntry, LinkedEntry
from gongji.store import raw
from gongji.store.tables_audit import audit_anchors, audit_log

_CHAIN_TURN = raw.advisory_key("audit_log:chain")
READ_BATCH = 2_000


_TURN: Final[raw.Read] = ("SELECT pg_advisory_xact_lock(:turn)", {"turn": _CHAIN_TURN})
_HEAD: Final[raw.Read] = ("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", {})


def turn_and_head_reads() -> list[raw.Read]:
    """:func:`take_turn` and :func:`head`, to make ahead together (``raw.prefetch``, PostgreSQL
    only): in one round trip the head is still read after the turn is granted, each statement
    with a snapshot of its own, so it sees every append committed before."""
    return [_TURN, _HEAD]


def take_turn(connection: Connection) -> None:
    if connection.dialect.name != "sqlite":
        raw.fetch(connection, *_TURN)


def head(connection: Connection) -> tuple[int, str] | None:
    found = raw.fetch(connection, *_HEAD)
    return None if not found else (int(found[0][0]), str(found[0][1]))


_APPEND = raw.insert_statement(
    "audit_log",
    ("at_us", "actor", "action", "subject", "reason", "detail", "prev_hash", "hash"),
)


def append(connection: Connection, entry: AuditEntry, prev_hash: str, hash_: str) -> None:
    """By text, answering nothing: in a transaction that defers its writes it waits for the
    next statement that answers, or the ``COMMIT``."""
    values = {
        "at_us": entry.at_us,
        "actor": entry.actor,
        "action": entry.action,
        "subject": entry.subject,
        "reason": entry.reason,
        "detail": json.dumps(entry.detail, ensure_ascii=False, sort_keys=True),
        "prev_hash": prev_hash,
        "hash": hash_,
    }
    raw.execute(connection, _APPEND, values)


def _linked(row: Any) -> LinkedEntry:
    entry = AuditEntry(
        row.at_us, row.actor, row.action, row.subject, row.reason, json.loads(row.detail)
    )
    return LinkedEntry(int(row.seq), entry, row.prev_hash, row.hash)


def walk(connection: Connection, batch: int = READ_BATCH) -> Iterator[LinkedEntry]:
    """Every record in ``seq`` order, read in batches (keyset paging: constant memory)."""
    after = -1
    while True:
        statement = (
            select(audit_log).where(audit_log.c.seq > after).order_by(audit_log.c.seq).limit(batch)
        )
        rows = connection.execute(statement).all()
        for row in rows:
            yield _linked(row)
        if len(rows) < batch:
            return
        after = int(rows[-1].seq)


@dataclass(frozen=True, slots=True)
class AuditQuery:
    actor: str | None = None
    subject: str | None = None
    action: str | None = None
    from_us: int | None = None
    to_us: int | None = None
    before_seq: int | None = None
    limit: int = 100


def search(connection: Connection, query: AuditQuery) -> list[LinkedEntry]:
    """Newest first; ``before_seq`` pages back."""
    c = audit_log.c
    statement = select(audit_log).order_by(c.seq.desc()).limit(query.limit)
    for column, value in (
        (c.actor, query.actor),
        (c.subject, query.subject),
        (c.action, query.action),
    ):
        if value is not None:
            statement = statement.where(column == value)
    if query.from_us is not None:
        statement = statement.where(c.at_us >= query.from_us)
    if query.to_us is not None:
        statement = statement.where(c.at_us < query.to_us)
    if query.before_seq is not None:
        statement = statement.where(c.seq < query.before_seq)
    return [_linked(row) for row in connection.execute(statement)]


def last_seq_before(connection: Connection, before_us: int) -> tuple[int, str] | None:
    statement = (
        select(audit_log.c.seq, audit_log.c.hash)
        .where(audit_log.c.at_us < before_us)
        .order_by(audit_log.c.seq.desc())
        .limit(1)
    )
    row = connection.execute(statement).first()
    return None if row is None else (int(row.seq), str(row.hash))


def anchors(connection: Connection) -> list[Anchor]:
    statement = select(audit_anchors).order_by(audit_anchors.c.day)
    return [Anchor(r.day, int(r.last_seq), r.hash) for r in connection.execute(statement)]


def anchor_of(connection: Connection, day: str) -> Anchor | None:
    row = connection.execute(select(audit_anchors).where(audit_anchors.c.day == day)).first()
    return None if row is None else Anchor(row.day, int(row.last_seq), row.hash)


def insert_anchor(connection: Connection, anchor: Anchor, at_us: int) -> None:
    values = {"day": anchor.day, "last_seq": anchor.last_seq, "hash": anchor.hash}
    connection.execute(insert(audit_anchors), [values | {"anchored_at_us": at_us}])


def count(connection: Connection) -> int:
    return int(connection.execute(select(func.count()).select_from(audit_log)).scalar_one())


def hashes_at(connection: Connection, seqs: Sequence[int]) -> dict[int, str]:
    if not seqs:
        return {}
    statement = select(audit_log.c.seq, audit_log.c.hash).where(audit_log.c.seq.in_(list(seqs)))
    return {int(r.seq): str(r.hash) for r in connection.execute(statement)}
