"""Tables of the audit trail: every operator action and every unmasked read, hash-chained, and
the daily anchors of the chain's head. Both append-only (database triggers), created by
migration 0009.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, String, Table, Text

from gongji.store.tables import metadata

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("at_us", BigInteger, nullable=False, index=True),
    Column("actor", String(80), nullable=False, index=True),
    Column("action", String(80), nullable=False),
    Column("subject", String(64), nullable=True, index=True),
    Column("reason", Text, nullable=True),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

audit_anchors = Table(
    "audit_anchors",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("last_seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("anchored_at_us", BigInteger, nullable=False),
)

AUDIT_TABLES = (audit_log, audit_anchors)
