"""The ledger: accounts, append-only transfers and pending resolutions.

Revision ID: 0001_ledger
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gongji.store.append_only import forbid_update_and_delete

revision = "0001_ledger"
down_revision = None
branch_labels = None
depends_on = None

APPEND_ONLY = ("ledger_transfers", "ledger_pending_resolutions")


def upgrade() -> None:
    op.create_table(
        "ledger_accounts",
        sa.Column("id", sa.String(64), primary_key=True),
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
        "ledger_transfers",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("id", sa.String(64), nullable=False, unique=True),
        sa.Column("debit_account_id", sa.String(64), nullable=False),
        sa.Column("credit_account_id", sa.String(64), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("pending_id", sa.String(64), nullable=True),
        sa.Column("ledger", sa.Integer, nullable=False),
        sa.Column("code", sa.Integer, nullable=False),
        sa.Column("flags", sa.Integer, nullable=False),
        sa.Column("expires_at_us", sa.BigInteger, nullable=True),
        sa.Column("ref", sa.String(64), nullable=True),
        sa.Column("timestamp_us", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_ledger_transfers_debit", "ledger_transfers", ["debit_account_id", "seq"])
    op.create_index("ix_ledger_transfers_credit", "ledger_transfers", ["credit_account_id", "seq"])
    op.create_index("ix_ledger_transfers_expires", "ledger_transfers", ["expires_at_us"])
    op.create_table(
        "ledger_pending_resolutions",
        sa.Column("pending_id", sa.String(64), primary_key=True),
        sa.Column("outcome", sa.String(8), nullable=False),
        sa.Column("transfer_id", sa.String(64), nullable=True),
        sa.Column("timestamp_us", sa.BigInteger, nullable=False),
    )
    for table in APPEND_ONLY:
        forbid_update_and_delete(table)


def downgrade() -> None:
    op.drop_table("ledger_pending_resolutions")
    op.drop_table("ledger_transfers")
    op.drop_table("ledger_accounts")
