"""Statistics per business day for the back office, kept by the statistics job, and its
watermark.

Revision ID: 0040_statistics
Revises: 0009_audit_log
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0040_statistics"
down_revision = "0009_audit_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stats_daily",
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("metric", sa.String(24), primary_key=True),
        sa.Column("region", sa.String(6), primary_key=True),
        sa.Column("other", sa.String(24), primary_key=True),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "stats_state",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("stats_state")
    op.drop_table("stats_daily")
