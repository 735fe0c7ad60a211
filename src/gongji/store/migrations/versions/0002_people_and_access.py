"""Persons, enrolments, wallets, relationships, grants, authorizations; tokens, operators,
idempotency keys.

Revision ID: 0002_people_and_access
Revises: 0001_ledger
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

from gongji.store.tables import metadata
from gongji.store.tables_access import ACCESS_TABLES
from gongji.store.tables_people import PEOPLE_TABLES

revision = "0002_people_and_access"
down_revision = "0001_ledger"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # These definitions are created as they stand in tables_people / tables_access; see there.
    metadata.create_all(op.get_bind(), tables=[*PEOPLE_TABLES, *ACCESS_TABLES])


def downgrade() -> None:
    metadata.drop_all(op.get_bind(), tables=[*ACCESS_TABLES, *PEOPLE_TABLES])
