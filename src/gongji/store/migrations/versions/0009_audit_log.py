"""The audit trail: hash-chained records of operator actions and unmasked reads, and the daily
anchors of the chain's head. Both append-only.

Revision ID: 0009_audit_log
Revises: 0008_ledger_failed_transfers
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gongji.store.append_only import forbid_update_and_delete

revision = "0009_audit_log"
down_revision = "0008_ledger_failed_transfers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("at_us", sa.BigInteger, nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("action", sa.String(80), nullable=False),
        sa.Column("subject", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_log_at_us", "audit_log", ["at_us"])
    op.create_index("ix_audit_log_actor", "audit_log", ["actor"])
    op.create_index("ix_audit_log_subject", "audit_log", ["subject"])
    op.create_table(
        "audit_anchors",
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("anchored_at_us", sa.BigInteger, nullable=False),
    )
    forbid_update_and_delete("audit_log")
    forbid_update_and_delete("audit_anchors")


def downgrade() -> None:
    op.drop_table("audit_anchors")
    op.drop_table("audit_log")
