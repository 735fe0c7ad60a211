"""Settlements, their items and draws, and yearly accumulators.

Revision ID: 0004_settlements
Revises: 0003_institutions_catalogue
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

from gongji.store.tables import metadata
from gongji.store.tables_settlements import SETTLEMENT_TABLES

revision = "0004_settlements"
down_revision = "0003_institutions_catalogue"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Created as they stand in tables_settlements; see the note in tables_people.
    metadata.create_all(op.get_bind(), tables=list(SETTLEMENT_TABLES))


def downgrade() -> None:
    metadata.drop_all(op.get_bind(), tables=list(SETTLEMENT_TABLES))
