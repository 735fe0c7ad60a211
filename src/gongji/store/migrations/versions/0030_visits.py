"""Visits, their diagnoses and uploaded fee-detail lines (national interface 2201–2205,
2301–2302, 2401–2405): a hospital's HIS settles what it uploaded, by ``mdtrt_id`` and
``chrg_bchno``. The columns are written out here, not taken from tables_visits: a migration
must not follow later changes of the code.

Revision ID: 0030_visits
Revises: 0021_persons_no_clear_birth_date
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030_visits"
down_revision = "0021_persons_no_clear_birth_date"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "visits",
        sa.Column("institution_code", sa.String(12), primary_key=True),
        sa.Column("mdtrt_id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("ipt_otp_no", sa.String(40), nullable=False),
        sa.Column("psn_no", sa.String(32), nullable=False),
        sa.Column("insutype", sa.String(3), nullable=False),
        sa.Column("med_type", sa.String(6), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("begntime", sa.String(19), nullable=False),
        sa.Column("endtime", sa.String(19), nullable=True),
        sa.Column("created_at_us", sa.BigInteger, nullable=False),
        sa.Column("updated_at_us", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("institution_code", "kind", "ipt_otp_no", name="uq_visits_his_number"),
    )
    op.create_index("ix_visits_person", "visits", ["psn_no"])
    op.create_table(
        "visit_diagnoses",
        sa.Column("institution_code", sa.String(12), primary_key=True),
        sa.Column("mdtrt_id", sa.String(40), primary_key=True),
        sa.Column("diag_srt_no", sa.Integer, primary_key=True),
        sa.Column("diag_type", sa.String(6), nullable=False),
        sa.Column("diag_code", sa.String(40), nullable=False),
        sa.Column("diag_name", sa.String(200), nullable=False),
        sa.Column("maindiag_flag", sa.String(1), nullable=False),
    )
    op.create_table(
        "visit_fee_lines",
        sa.Column("institution_code", sa.String(12), primary_key=True),
        sa.Column("mdtrt_id", sa.String(40), primary_key=True),
        sa.Column("feedetl_sn", sa.String(40), primary_key=True),
        sa.Column("chrg_bchno", sa.String(40), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("item_code", sa.String(40), nullable=False),
        sa.Column("quantity", sa.String(24), nullable=False),
        sa.Column("unit_price_fen", sa.BigInteger, nullable=False),
        sa.Column("det_item_fee_sumamt", sa.BigInteger, nullable=False),
        sa.Column("fee_ocur_time", sa.String(19), nullable=True),
        sa.Column("line_hash", sa.String(64), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("setl_id", sa.String(40), nullable=True),
        sa.Column("uploaded_at_us", sa.BigInteger, nullable=False),
    )
    op.create_index(
        "ix_visit_fee_lines_batch", "visit_fee_lines", ["institution_code", "chrg_bchno"]
    )
    op.create_index("ix_visit_fee_lines_settlement", "visit_fee_lines", ["setl_id"])


def downgrade() -> None:
    op.drop_index("ix_visit_fee_lines_settlement", "visit_fee_lines")
    op.drop_index("ix_visit_fee_lines_batch", "visit_fee_lines")
    op.drop_table("visit_fee_lines")
    op.drop_table("visit_diagnoses")
    op.drop_index("ix_visits_person", "visits")
    op.drop_table("visits")
