"""Payment passwords (支付密码) with their guard and reset code, and guardians' consents (亲情账户).

Revision ID: 0100_payment_password_guardians
Revises: 0080_fsi_batches_and_files
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0100_payment_password_guardians"
down_revision = "0080_fsi_batches_and_files"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payment_passwords",
        sa.Column("psn_no", sa.String(32), primary_key=True),
        sa.Column("pin_hash", sa.Text, nullable=False),
        sa.Column("set_at_us", sa.BigInteger, nullable=False),
        sa.Column("failed_attempts", sa.Integer, nullable=False),
        sa.Column("locked_until_us", sa.BigInteger, nullable=True),
        sa.Column("reset_code_hash", sa.String(64), nullable=True),
        sa.Column("reset_expires_at_us", sa.BigInteger, nullable=True),
        sa.Column("reset_attempts", sa.Integer, nullable=False),
    )
    op.create_table(
        "guardian_consents",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("relationship_id", sa.String(40), nullable=False),
        sa.Column("holder", sa.String(32), nullable=False),
        sa.Column("guardian", sa.String(32), nullable=False),
        sa.Column("granted_at_us", sa.BigInteger, nullable=False),
        sa.Column("ended_at_us", sa.BigInteger, nullable=True),
        sa.Column("end_reason", sa.String(40), nullable=True),
    )
    op.create_index("ix_guardian_consents_holder", "guardian_consents", ["holder", "granted_at_us"])
    op.create_index("ix_guardian_consents_guardian", "guardian_consents", ["guardian", "holder"])


def downgrade() -> None:
    op.drop_index("ix_guardian_consents_guardian", "guardian_consents")
    op.drop_index("ix_guardian_consents_holder", "guardian_consents")
    op.drop_table("guardian_consents")
    op.drop_table("payment_passwords")
