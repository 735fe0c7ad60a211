"""Designated institutions, their signing credentials and request nonces; the catalogue.

Revision ID: 0003_institutions_catalogue
Revises: 0002_people_and_access
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

from gongji.store.tables import metadata
from gongji.store.tables_institutions import INSTITUTION_TABLES

revision = "0003_institutions_catalogue"
down_revision = "0002_people_and_access"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # These definitions are created as they stand in tables_institutions; see there.
    metadata.create_all(op.get_bind(), tables=list(INSTITUTION_TABLES))


def downgrade() -> None:
    metadata.drop_all(op.get_bind(), tables=list(INSTITUTION_TABLES))
