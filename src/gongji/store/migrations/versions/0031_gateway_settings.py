"""The national interface's authentication scheme per institution (HMAC-SM3 or the platform
gateway's x-tif-* headers).

Revision ID: 0031_gateway_settings
Revises: 0030_visits
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031_gateway_settings"
down_revision = "0030_visits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fsi_gateway_settings",
        sa.Column("institution_code", sa.String(12), primary_key=True),
        sa.Column("auth_scheme", sa.String(10), nullable=False),
        sa.Column("updated_at_us", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("fsi_gateway_settings")
