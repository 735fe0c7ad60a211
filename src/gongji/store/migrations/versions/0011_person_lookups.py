"""Every person look-up by an institution (1101): who asked, for whom, when, why, and the answer.

The register is personal data; an auditor must be able to say afterwards which institution
looked up which person and on what credential. Failed look-ups are recorded too (``psn_no``
null): a run of them is what harvesting looks like.

Revision ID: 0011_person_lookups
Revises: 0010_operator_lockout
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_person_lookups"
down_revision = "0010_operator_lockout"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person_lookups",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("institution_code", sa.String(20), nullable=False),
        sa.Column("psn_no", sa.String(32), nullable=True),
        sa.Column("cert_type", sa.String(8), nullable=False),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("msgid", sa.String(40), nullable=False),
        sa.Column("operator", sa.String(60), nullable=False),
        sa.Column("outcome", sa.String(40), nullable=False),
        sa.Column("at_us", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_person_lookups_psn", "person_lookups", ["psn_no", "at_us"])
    op.create_index(
        "ix_person_lookups_institution", "person_lookups", ["institution_code", "at_us"]
    )


def downgrade() -> None:
    op.drop_index("ix_person_lookups_institution", "person_lookups")
    op.drop_index("ix_person_lookups_psn", "person_lookups")
    op.drop_table("person_lookups")
