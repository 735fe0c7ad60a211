"""Counters every server process shares, unknown names' sign-in guard, the ledger check's
watermark.

``rate_limit_counts`` holds the front doors' request counts per key and fixed window, so the
limits hold across ``gongji serve --workers N`` on PostgreSQL (SQLite keeps them in memory: one
process). ``unknown_sign_ins`` counts wrong sign-ins against names no operator has (by a keyed
hash, never the typed name), so an unknown name earns the same lockout a known one does.
``ledger_check_balances`` is each account's posted sums as the last passing check verified them,
and ``ledger_check_runs.through_seq`` the last transfer it verified: an incremental check reads
only the transfers after it.

Revision ID: 0070_security_counters
Revises: 0060_family_notifications
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0070_security_counters"
down_revision = "0060_family_notifications"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_counts",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("window_start_ms", sa.BigInteger, primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
    )
    op.create_table(
        "unknown_sign_ins",
        sa.Column("name_hash", sa.String(64), primary_key=True),
        sa.Column("failed_logins", sa.Integer, nullable=False),
        sa.Column("locked_until_us", sa.BigInteger, nullable=True),
        sa.Column("updated_at_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "ledger_check_balances",
        sa.Column("num", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("debits_posted", sa.BigInteger, nullable=False),
        sa.Column("credits_posted", sa.BigInteger, nullable=False),
    )
    with op.batch_alter_table("ledger_check_runs") as batch:
        batch.add_column(sa.Column("kind", sa.String(12), nullable=False, server_default="full"))
        batch.add_column(sa.Column("through_seq", sa.BigInteger, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger_check_runs") as batch:
        batch.drop_column("through_seq")
        batch.drop_column("kind")
    op.drop_table("ledger_check_balances")
    op.drop_table("unknown_sign_ins")
    op.drop_table("rate_limit_counts")
