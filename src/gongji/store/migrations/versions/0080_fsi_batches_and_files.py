"""Two tables of the national interface. ``visit_charge_batches``: which visit a charge batch
number (``chrg_bchno``) belongs to, one row per institution and number, so that the rule "a
batch number names one visit" is a database key: two visits uploading the same new number at
once on PostgreSQL cannot both have it; filled from the lines already uploaded (the earliest
visit keeps a number two visits already share). ``fsi_files``: the files institutions upload by
9101 (3202's detail), kept for their download period. The columns are written out here, not
taken from the Tables.

Revision ID: 0080_fsi_batches_and_files
Revises: 0070_security_counters
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0080_fsi_batches_and_files"
down_revision = "0070_security_counters"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "visit_charge_batches",
        sa.Column("institution_code", sa.String(12), primary_key=True),
        sa.Column("chrg_bchno", sa.String(40), primary_key=True),
        sa.Column("mdtrt_id", sa.String(40), nullable=False),
        sa.Column("claimed_at_us", sa.BigInteger, nullable=False),
    )
    op.execute(
        "INSERT INTO visit_charge_batches (institution_code, chrg_bchno, mdtrt_id, claimed_at_us)"
        " SELECT l.institution_code, l.chrg_bchno, MIN(l.mdtrt_id), MIN(l.uploaded_at_us)"
        " FROM visit_fee_lines l WHERE l.chrg_bchno <> ''"
        " AND l.uploaded_at_us = (SELECT MIN(f.uploaded_at_us) FROM visit_fee_lines f"
        " WHERE f.institution_code = l.institution_code AND f.chrg_bchno = l.chrg_bchno)"
        " GROUP BY l.institution_code, l.chrg_bchno"
    )
    op.create_table(
        "fsi_files",
        sa.Column("institution_code", sa.String(12), primary_key=True),
        sa.Column("file_qury_no", sa.String(40), primary_key=True),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.Integer, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("uploaded_at_us", sa.BigInteger, nullable=False),
        sa.Column("expires_at_us", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_fsi_files_expiry", "fsi_files", ["expires_at_us"])


def downgrade() -> None:
    op.drop_index("ix_fsi_files_expiry", table_name="fsi_files")
    op.drop_table("fsi_files")
    op.drop_table("visit_charge_batches")
