"""Persons, enrolments, wallets, relationships, grants, authorizations; tokens, operators,
idempotency keys.

Revision ID: 0002_people_and_access
Revises: 0001_ledger
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gongji.store.tables import metadata
from gongji.store.tables_access import ACCESS_TABLES
from gongji.store.tables_people import PEOPLE_TABLES

revision = "0002_people_and_access"
down_revision = "0001_ledger"
branch_labels = None
depends_on = None


_frozen = sa.MetaData()
_persons_0002 = sa.Table(
    "persons",
    _frozen,
    sa.Column("psn_no", sa.String(32), primary_key=True),
    sa.Column("id_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("id_enc", sa.Text, nullable=False),
    sa.Column("id_masked", sa.String(18), nullable=False),
    sa.Column("name_hash", sa.String(64), nullable=False),
    sa.Column("name_enc", sa.Text, nullable=False),
    sa.Column("name_masked", sa.String(40), nullable=False),
    sa.Column("mobile_hash", sa.String(64), nullable=True, index=True),
    sa.Column("mobile_enc", sa.Text, nullable=True),
    sa.Column("mobile_masked", sa.String(20), nullable=True),
    sa.Column("sex", sa.String(1), nullable=False),
    sa.Column("birth_date", sa.String(10), nullable=False),
    sa.Column("death_date", sa.String(10), nullable=True),
    sa.Column("created_at_us", sa.BigInteger, nullable=False),
)
"""``persons`` as this revision created it (0021 dropped ``birth_date``)."""
_person_events_0002 = sa.Table(
    "person_events",
    _frozen,
    sa.Column(
        "seq",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("psn_no", sa.String(32), nullable=False, index=True),
    sa.Column("kind", sa.String(24), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("at_us", sa.BigInteger, nullable=False),
)
"""``person_events`` as this revision created it (0180 indexed the moves)."""
_FROZEN = (_persons_0002, _person_events_0002)


def _tables_as_they_stand() -> list[sa.Table]:
    frozen = {table.name for table in _FROZEN}
    return [table for table in (*PEOPLE_TABLES, *ACCESS_TABLES) if table.name not in frozen]


def upgrade() -> None:
    # These definitions are created as they stand in tables_people / tables_access (see
    # there), except those frozen above since a later revision changed them.
    _frozen.create_all(op.get_bind(), tables=list(_FROZEN))
    metadata.create_all(op.get_bind(), tables=_tables_as_they_stand())


def downgrade() -> None:
    metadata.drop_all(op.get_bind(), tables=list(reversed(_tables_as_they_stand())))
    _frozen.drop_all(op.get_bind(), tables=list(reversed(_FROZEN)))
