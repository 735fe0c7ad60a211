"""A person's moves found without reading their other events.

A write-time risk screen reads the last move of each person around a party (risk's
``facts_repo.MOVES``), on every grant offer and every settlement paid with shared money. The
only index of ``person_events`` was on ``psn_no``, so the read went through every event of the
person, and a person gains two with every settlement: the screen slowed as the person grew
older as an insured person. A partial index holds the moves alone, which are few.

Revision ID: 0180_person_moves_index
Revises: 0170_risk_grant_holds
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0180_person_moves_index"
down_revision = "0170_risk_grant_holds"
branch_labels = None
depends_on = None

MOVED = sa.text("kind = 'moved'")


def upgrade() -> None:
    op.create_index(
        "ix_person_events_moved",
        "person_events",
        ["psn_no", "at_us"],
        sqlite_where=MOVED,
        postgresql_where=MOVED,
    )


def downgrade() -> None:
    op.drop_index("ix_person_events_moved", table_name="person_events")
