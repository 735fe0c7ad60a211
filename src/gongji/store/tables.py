"""The tables, as SQLAlchemy Core metadata. Alembic migrations are the source of truth for the
schema in a database; this module mirrors them for queries.

Money columns are BIGINT fen; times are BIGINT microseconds since the Unix epoch (UTC) so that
SQLite and PostgreSQL compare them the same way.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    text,
)

metadata = MetaData()

ID_LENGTH_MAX = 64

ROW_NUMBER = BigInteger().with_variant(Integer, "sqlite")  # SQLite: the rowid itself

# An account is known by its text id; its row number ``num`` is what transfers store, because
# the history indexes over them are written on every commit (migration 0006 says why).
ledger_accounts = Table(
    "ledger_accounts",
    metadata,
    Column("num", ROW_NUMBER, primary_key=True, autoincrement=True),
    Column("id", String(ID_LENGTH_MAX), nullable=False),
    Column("ledger", Integer, nullable=False),
    Column("code", Integer, nullable=False),
    Column("region", String(6), nullable=False),
    Column("flags", Integer, nullable=False),
    Column("debits_pending", BigInteger, nullable=False),
    Column("debits_posted", BigInteger, nullable=False),
    Column("credits_pending", BigInteger, nullable=False),
    Column("credits_posted", BigInteger, nullable=False),
    Column("ref", String(ID_LENGTH_MAX), nullable=True),
    Column("timestamp_us", BigInteger, nullable=False),
    Index("ux_ledger_accounts_id", "id", unique=True),
)

ledger_transfers = Table(
    "ledger_transfers",
    metadata,
    Column("seq", ROW_NUMBER, primary_key=True, autoincrement=True),
    Column("id", String(ID_LENGTH_MAX), nullable=False),
    Column("debit_num", BigInteger, nullable=False),
    Column("credit_num", BigInteger, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("pending_id", String(ID_LENGTH_MAX), nullable=True),
    Column("ledger", Integer, nullable=False),
    Column("code", Integer, nullable=False),
    Column("flags", Integer, nullable=False),
    Column("expires_at_us", BigInteger, nullable=True),
    Column("ref", String(ID_LENGTH_MAX), nullable=True),
    Column("timestamp_us", BigInteger, nullable=False),
    Index("ux_ledger_transfers_id", "id", unique=True),
    # On SQLite the migration leaves out seq: the rowid, which seq is, ends every index.
    Index("ix_ledger_transfers_debit", "debit_num", "seq"),
    Index("ix_ledger_transfers_credit", "credit_num", "seq"),
    Index(
        "ix_ledger_transfers_expires",
        "expires_at_us",
        sqlite_where=text("expires_at_us IS NOT NULL"),
        postgresql_where=text("expires_at_us IS NOT NULL"),
    ),
)

# One row per pending transfer that has been posted, voided or expired. The primary key is what
# makes "each pending transfer resolves exactly once" true even between racing transactions.
ledger_pending_resolutions = Table(
    "ledger_pending_resolutions",
    metadata,
    Column("pending_id", String(ID_LENGTH_MAX), primary_key=True),
    Column("outcome", String(8), nullable=False),
    Column("transfer_id", String(ID_LENGTH_MAX), nullable=True),
    Column("timestamp_us", BigInteger, nullable=False),
)

# One row per transfer id the ledger refused: a retry of that id answers the same refusal
# (TigerBeetle's id_already_failed), never a different outcome. Append-only (migration 0008).
ledger_failed_transfers = Table(
    "ledger_failed_transfers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("result", String(64), nullable=False),
    Column("timestamp_us", BigInteger, nullable=False),
)
