"""Notifications (inbox and SMS outbox in one row), persons' settings (notification preferences,
quiet hours, the standing choice to use family mutual aid) and withdrawn kinship records.

Revision ID: 0060_family_notifications
Revises: 0050_risk
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0060_family_notifications"
down_revision = "0050_risk"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(120), primary_key=True),
        sa.Column("psn_no", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("created_at_us", sa.BigInteger, nullable=False),
        sa.Column("read_at_us", sa.BigInteger, nullable=True),
        sa.Column("sms_state", sa.String(10), nullable=False),
        sa.Column("sms_attempts", sa.Integer, nullable=False),
        sa.Column("sms_due_at_us", sa.BigInteger, nullable=False),
        sa.Column("sms_claimed_at_us", sa.BigInteger, nullable=True),
        sa.Column("sms_done_at_us", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_notifications_person", "notifications", ["psn_no", "created_at_us"])
    op.create_index("ix_notifications_sms_due", "notifications", ["sms_state", "sms_due_at_us"])
    op.create_table(
        "person_settings",
        sa.Column("psn_no", sa.String(32), primary_key=True),
        sa.Column("sms_enabled", sa.Boolean, nullable=False),
        sa.Column("sms_muted_kinds", sa.Text, nullable=False),
        sa.Column("quiet_start", sa.String(5), nullable=False),
        sa.Column("quiet_end", sa.String(5), nullable=False),
        sa.Column("use_mutual_aid", sa.Boolean, nullable=False),
        sa.Column("updated_at_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "kinship_withdrawals",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("person_hash", sa.String(64), nullable=False),
        sa.Column("relative_hash", sa.String(64), nullable=False),
        sa.Column("relationship_id", sa.String(40), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("withdrawn_at_us", sa.BigInteger, nullable=False),
    )
    op.create_index(
        "ix_kinship_withdrawals_pair", "kinship_withdrawals", ["person_hash", "relative_hash"]
    )


def downgrade() -> None:
    op.drop_index("ix_kinship_withdrawals_pair", "kinship_withdrawals")
    op.drop_table("kinship_withdrawals")
    op.drop_table("person_settings")
    op.drop_index("ix_notifications_sms_due", "notifications")
    op.drop_index("ix_notifications_person", "notifications")
    op.drop_table("notifications")
