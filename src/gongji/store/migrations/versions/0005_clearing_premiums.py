"""Monthly clearing runs and lines; premiums paid for relatives.

Revision ID: 0005_clearing_premiums
Revises: 0004_settlements
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

from gongji.store.tables import metadata
from gongji.store.tables_clearing import CLEARING_TABLES

revision = "0005_clearing_premiums"
down_revision = "0004_settlements"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Created as they stand in tables_clearing; see the note in tables_people.
    metadata.create_all(op.get_bind(), tables=list(CLEARING_TABLES))


def downgrade() -> None:
    metadata.drop_all(op.get_bind(), tables=list(CLEARING_TABLES))
