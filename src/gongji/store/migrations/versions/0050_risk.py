"""Risk monitoring: alerts, runs, cases, their alerts, recoveries, resellable items.

Revision ID: 0050_risk
Revises: 0040_statistics
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gongji.store.append_only import forbid_update_and_delete

revision = "0050_risk"
down_revision = "0040_statistics"
branch_labels = None
depends_on = None

ROW_NUMBER = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "risk_alerts",
        sa.Column("id", ROW_NUMBER, primary_key=True, autoincrement=True),
        sa.Column("fingerprint", sa.String(32), nullable=False, unique=True),
        sa.Column("rule", sa.String(24), nullable=False),
        sa.Column("rule_version", sa.Integer, nullable=False),
        sa.Column("reason", sa.String(48), nullable=False),
        sa.Column("subject_kind", sa.String(12), nullable=False),
        sa.Column("subject", sa.String(32), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("weight", sa.Integer, nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("source", sa.String(12), nullable=False),
        sa.Column("held", sa.Integer, nullable=False),
        sa.Column("raised_at_us", sa.BigInteger, nullable=False),
        sa.Column("run_id", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_risk_alerts_subject", "risk_alerts", ["subject_kind", "subject"])
    op.create_index("ix_risk_alerts_raised", "risk_alerts", ["raised_at_us"])
    op.create_table(
        "risk_runs",
        sa.Column("id", ROW_NUMBER, primary_key=True, autoincrement=True),
        sa.Column("mode", sa.String(12), nullable=False),
        sa.Column("window_start_us", sa.BigInteger, nullable=False),
        sa.Column("window_end_us", sa.BigInteger, nullable=False),
        sa.Column("changes_after_seq", sa.BigInteger, nullable=True),
        sa.Column("watermark_seq", sa.BigInteger, nullable=False),
        sa.Column("persons_judged", sa.Integer, nullable=False),
        sa.Column("grants_read", sa.Integer, nullable=False),
        sa.Column("alerts_raised", sa.Integer, nullable=False),
        sa.Column("started_at_us", sa.BigInteger, nullable=False),
        sa.Column("finished_at_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "risk_cases",
        sa.Column("id", sa.String(20), primary_key=True),
        sa.Column("subject_kind", sa.String(12), nullable=False),
        sa.Column("subject", sa.String(32), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("opened_by", sa.String(80), nullable=False),
        sa.Column("opened_at_us", sa.BigInteger, nullable=False),
        sa.Column("updated_at_us", sa.BigInteger, nullable=False),
        sa.Column("closed_at_us", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_risk_cases_subject", "risk_cases", ["subject"])
    op.create_table(
        "risk_case_alerts",
        sa.Column("case_id", sa.String(20), primary_key=True),
        sa.Column("alert_id", sa.BigInteger, primary_key=True),
    )
    op.create_index("ix_risk_case_alerts_alert", "risk_case_alerts", ["alert_id"])
    op.create_table(
        "risk_recoveries",
        sa.Column("id", ROW_NUMBER, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(20), nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("recorded_by", sa.String(80), nullable=False),
        sa.Column("recorded_at_us", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_risk_recoveries_case_id", "risk_recoveries", ["case_id"])
    op.create_table(
        "risk_resellable_items",
        sa.Column("item_code", sa.String(40), primary_key=True),
        sa.Column("added_by", sa.String(80), nullable=False),
        sa.Column("added_at_us", sa.BigInteger, nullable=False),
    )
    for table in ("risk_alerts", "risk_runs", "risk_recoveries"):
        forbid_update_and_delete(table)


def downgrade() -> None:
    for table in (
        "risk_resellable_items",
        "risk_recoveries",
        "risk_case_alerts",
        "risk_cases",
        "risk_runs",
        "risk_alerts",
    ):
        op.drop_table(table)
