"""Persons: the birth date is no longer stored in clear.

``id_masked`` keeps the region and the last four digits of the ID number; ``birth_date`` held
exactly the eight digits the mask hides, so the two columns together were the full number,
readable from the database file or a backup without the key. The birth date is part of the
encrypted ID number (``id_enc``), which is where the few answers that need it now read it.

On SQLite the dropped values would stay readable in freed pages of the file until they are
reused, so this migration turns on ``secure_delete`` (freed pages are overwritten with zeros)
before the table is rebuilt; ``gongji.store.migrate`` checkpoints the write-ahead log afterwards
so that the old pages leave the main file too.

Revision ID: 0021_persons_no_clear_birth_date
Revises: 0020_key_state
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021_persons_no_clear_birth_date"
down_revision = "0020_key_state"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        bind.exec_driver_sql("PRAGMA secure_delete = ON")
    else:
        # PostgreSQL only marks a dropped column as dropped and leaves its values in the rows;
        # emptying it first writes new row versions without them (the old versions go with the
        # next VACUUM; docs/security.md says to run it after this upgrade).
        bind.execute(sa.text("UPDATE persons SET birth_date = ''"))
    with op.batch_alter_table("persons") as batch:
        batch.drop_column("birth_date")
    if bind.dialect.name == "sqlite":
        bind.exec_driver_sql("PRAGMA secure_delete = OFF")  # the pooled connection's default


def downgrade() -> None:
    # The birth date is not restored: it would mean writing personal data back in clear.
    with op.batch_alter_table("persons") as batch:
        batch.add_column(sa.Column("birth_date", sa.String(10), nullable=True))
