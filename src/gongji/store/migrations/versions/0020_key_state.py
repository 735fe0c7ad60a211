"""The secret key's state: its fingerprint, the sealed blind-index key, rotation progress.

The row itself is written at the first start with a key (``gongji.kernel.keys``), not here:
a migration never sees the key.

Revision ID: 0020_key_state
Revises: 0012_ledger_check_runs
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_key_state"
down_revision = "0012_ledger_check_runs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "key_state",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("index_key_enc", sa.Text, nullable=False),
        sa.Column("rotating_to", sa.String(64), nullable=True),
        sa.Column("created_at_us", sa.BigInteger, nullable=False),
        sa.Column("updated_at_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "key_rotation",
        sa.Column("target", sa.String(64), primary_key=True),
        sa.Column("table_name", sa.String(64), primary_key=True),
        sa.Column("last_key", sa.String(128), nullable=True),
        sa.Column("rows_done", sa.BigInteger, nullable=False),
        sa.Column("finished", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("key_rotation")
    op.drop_table("key_state")
