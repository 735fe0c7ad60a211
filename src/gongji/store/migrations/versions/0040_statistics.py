"""Statistics per business day, month and year for the back office, kept by the
statistics job, and its watermark; the indexes by which the job recomputes one day (grants
by offer day, wallets, relationships and premiums by time), and the persons' keyed name hash
for the back office's find by name with region.

Revision ID: 0040_statistics
Revises: 0031_gateway_settings
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0040_statistics"
down_revision = "0031_gateway_settings"
branch_labels = None
depends_on = None

_INDEXES = (
    ("ix_grants_business_date", "grants", "business_date"),
    ("ix_wallets_opened_at", "wallets", "opened_at_us"),
    ("ix_relationships_created_at", "relationships", "created_at_us"),
    ("ix_premium_payments_paid_at", "premium_payments", "paid_at_us"),
    # the back office's find by name with region: the keyed name hash, then the region
    ("ix_persons_name_hash", "persons", "name_hash"),
)


def upgrade() -> None:
    op.create_table(
        "stats_summary",
        sa.Column("period", sa.String(10), primary_key=True),
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
    op.create_index("ix_stats_summary_metric_period", "stats_summary", ["metric", "period"])
    for name, table, column in _INDEXES:
        op.create_index(name, table, [column], if_not_exists=True)  # 0002 may have made it


def downgrade() -> None:
    for name, table, _ in _INDEXES:
        op.drop_index(name, table_name=table)
    op.drop_table("stats_state")
    op.drop_table("stats_summary")
