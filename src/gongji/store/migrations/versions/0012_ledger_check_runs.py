"""The verdicts of full ledger checks: run as a job, read back by ``GET /api/v1/ledger/check``.

A full check reads every transfer (seconds on a large ledger); a monitoring poll must not start
one. The job stores each verdict with its figures and when it ran; the endpoint answers the last.

Revision ID: 0012_ledger_check_runs
Revises: 0011_person_lookups
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_ledger_check_runs"
down_revision = "0011_person_lookups"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_check_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("started_at_us", sa.BigInteger, nullable=False),
        sa.Column("finished_at_us", sa.BigInteger, nullable=False),
        sa.Column("ok", sa.Integer, nullable=False),
        sa.Column("report", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ledger_check_runs")
