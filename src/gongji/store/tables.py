"""The tables, as SQLAlchemy Core metadata. Alembic migrations are the source of truth for the
schema in a database; this module mirrors them for queries (checked by a test).

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
)

metadata = MetaData()

ID_LENGTH_MAX = 64

ledger_accounts = Table(
    "ledger_accounts",
    metadata,
    Column("id", String(ID_LENGTH_MAX), primary_key=True),
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
)

ledger_transfers = Table(
    "ledger_transfers",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("id", String(ID_LENGTH_MAX), nullable=False, unique=True),
    Column("debit_account_id", String(ID_LENGTH_MAX), nullable=False),
    Column("credit_account_id", String(ID_LENGTH_MAX), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("pending_id", String(ID_LENGTH_MAX), nullable=True),
    Column("ledger", Integer, nullable=False),
    Column("code", Integer, nullable=False),
    Column("flags", Integer, nullable=False),
    Column("expires_at_us", BigInteger, nullable=True),
    Column("ref", String(ID_LENGTH_MAX), nullable=True),
    Column("timestamp_us", BigInteger, nullable=False),
    Index("ix_ledger_transfers_debit", "debit_account_id", "seq"),
    Index("ix_ledger_transfers_credit", "credit_account_id", "seq"),
    Index("ix_ledger_transfers_expires", "expires_at_us"),
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
