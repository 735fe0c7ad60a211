"""The reference rows' generation: a number that every change to institutions, their signing
keys or the catalogue renumbers, so a process may keep those rows and know when they changed
(store/tables_reference.py, kernel/reference_rows.py).

Revision ID: 0190_reference_generation
Revises: 0180_person_moves_index
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gongji.store.reference_triggers import drop_renumbering, renumber_on_change
from gongji.store.tables_reference import REFERENCE_TABLES

revision = "0190_reference_generation"
down_revision = "0180_person_moves_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reference_generation",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("generation", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO reference_generation (id, generation) VALUES (1, 0)")
    for table in REFERENCE_TABLES:
        renumber_on_change(table)


def downgrade() -> None:
    for table in REFERENCE_TABLES:
        drop_renumbering(table)
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION IF EXISTS gongji_reference_changed()")
    op.drop_table("reference_generation")
