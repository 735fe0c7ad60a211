"""The ledger keyed by integers: each account gets a row number (``num``) and a transfer names
its two accounts by number; the expiry index covers pending transfers only.

Why: an account's history is two indexes on the transfers table, and a batch of transfers
writes a page of each per account it touches, so their key size decides how many pages each
commit writes. Text ids of up to 64 characters made those indexes (and the account lookups)
about a third slower than integers for a batch of 1 000 on SQLite (docs/benchmarks.md). The
text ids stay the ledger's interface; only the storage changes.

The two tables are rebuilt (SQLite cannot change a primary key in place): new tables, rows
copied with their sequence numbers, old tables dropped (``DROP TABLE`` fires no trigger), new
ones renamed and given their indexes and append-only triggers. A transfer whose account is
missing would be lost by the copy, so the counts are compared and the migration fails instead.

Revision ID: 0006_ledger_integer_keys
Revises: 0005_clearing_premiums
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gongji.store.append_only import forbid_update_and_delete

revision = "0006_ledger_integer_keys"
down_revision = "0005_clearing_premiums"
branch_labels = None
depends_on = None

_ROW_NUMBER = sa.BigInteger().with_variant(sa.Integer, "sqlite")
_BALANCES = "debits_pending, debits_posted, credits_pending, credits_posted"
_TRANSFER_FIELDS = "amount, pending_id, ledger, code, flags, expires_at_us, ref, timestamp_us"


def upgrade() -> None:
    _create_next_tables()
    op.execute(
        f"INSERT INTO ledger_accounts_next (num, id, ledger, code, region, flags, {_BALANCES},"
        " ref, timestamp_us)"
        " SELECT row_number() OVER (ORDER BY timestamp_us, id), id, ledger, code, region,"
        f" flags, {_BALANCES}, ref, timestamp_us FROM ledger_accounts"
    )
    op.execute(
        "INSERT INTO ledger_transfers_next (seq, id, debit_num, credit_num,"
        f" {_TRANSFER_FIELDS})"
        " SELECT t.seq, t.id, d.num, c.num,"
        f" {', '.join('t.' + name for name in _TRANSFER_FIELDS.split(', '))}"
        " FROM ledger_transfers AS t"
        " JOIN ledger_accounts_next AS d ON d.id = t.debit_account_id"
        " JOIN ledger_accounts_next AS c ON c.id = t.credit_account_id"
    )
    _require_same_count("ledger_accounts")
    _require_same_count("ledger_transfers")
    op.drop_table("ledger_transfers")
    op.drop_table("ledger_accounts")
    op.rename_table("ledger_accounts_next", "ledger_accounts")
    op.rename_table("ledger_transfers_next", "ledger_transfers")
    op.create_index("ux_ledger_accounts_id", "ledger_accounts", ["id"], unique=True)
    op.create_index("ux_ledger_transfers_id", "ledger_transfers", ["id"], unique=True)
    # History order is seq. SQLite ends every index with the rowid, which seq is, so naming it
    # again would only make each entry longer (and batches ~10 % slower).
    order = [] if op.get_bind().dialect.name == "sqlite" else ["seq"]
    op.create_index("ix_ledger_transfers_debit", "ledger_transfers", ["debit_num", *order])
    op.create_index("ix_ledger_transfers_credit", "ledger_transfers", ["credit_num", *order])
    op.create_index(
        "ix_ledger_transfers_expires",
        "ledger_transfers",
        ["expires_at_us"],
        sqlite_where=sa.text("expires_at_us IS NOT NULL"),
        postgresql_where=sa.text("expires_at_us IS NOT NULL"),
    )
    forbid_update_and_delete("ledger_transfers")
    if op.get_bind().dialect.name == "postgresql":
        _continue_sequence("ledger_accounts", "num")
        _continue_sequence("ledger_transfers", "seq")


def _create_next_tables() -> None:
    op.create_table(
        "ledger_accounts_next",
        sa.Column("num", _ROW_NUMBER, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("ledger", sa.Integer, nullable=False),
        sa.Column("code", sa.Integer, nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("flags", sa.Integer, nullable=False),
        sa.Column("debits_pending", sa.BigInteger, nullable=False),
        sa.Column("debits_posted", sa.BigInteger, nullable=False),
        sa.Column("credits_pending", sa.BigInteger, nullable=False),
        sa.Column("credits_posted", sa.BigInteger, nullable=False),
        sa.Column("ref", sa.String(64), nullable=True),
        sa.Column("timestamp_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "ledger_transfers_next",
        sa.Column("seq", _ROW_NUMBER, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("debit_num", sa.BigInteger, nullable=False),
        sa.Column("credit_num", sa.BigInteger, nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("pending_id", sa.String(64), nullable=True),
        sa.Column("ledger", sa.Integer, nullable=False),
        sa.Column("code", sa.Integer, nullable=False),
        sa.Column("flags", sa.Integer, nullable=False),
        sa.Column("expires_at_us", sa.BigInteger, nullable=True),
        sa.Column("ref", sa.String(64), nullable=True),
        sa.Column("timestamp_us", sa.BigInteger, nullable=False),
    )


def _require_same_count(table: str) -> None:
    bind = op.get_bind()
    before = bind.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
    after = bind.execute(sa.text(f"SELECT count(*) FROM {table}_next")).scalar_one()
    if before != after:
        raise RuntimeError(f"{table}: {before} rows, {after} copied; nothing was changed")


def _continue_sequence(table: str, column: str) -> None:
    """Rows were copied with their numbers; the next new row must come after them."""
    op.execute(
        f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'),"
        f" coalesce((SELECT max({column}) FROM {table}), 0) + 1, false)"
    )


def downgrade() -> None:
    raise NotImplementedError("the ledger's integer keys are not undone; restore a backup")
