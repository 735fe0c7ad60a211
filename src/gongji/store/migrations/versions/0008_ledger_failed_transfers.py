"""Transfer ids refused for a reason of the moment are remembered, so that a retry answers the
same: ``id_already_failed`` (TigerBeetle 0.16.4 and later; docs/ledger.md).

``ledger_failed_transfers`` holds each such id with the refusal it met (append-only, like the
transfers). An id is either a transfer or a failure, never both: the ledger reads both kinds
before it decides a batch that names known ids, and a trigger refuses to insert a transfer
whose id was refused. That trigger lets a batch of new ids skip the read on its way to success
(gongji.ledger.book): meeting a refused id, the insert fails as a duplicate id would and the
batch is decided again, reading. It costs an index probe of a table that stays small; nothing
is written for a transfer that succeeds.

SQLite checks each inserted row. PostgreSQL checks each statement once, through its transition
table, because a batch of a thousand transfers is one statement and a row trigger's call is
most of what a check costs there.

Revision ID: 0008_ledger_failed_transfers
Revises: 0007_premium_draws
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gongji.store.append_only import forbid_update_and_delete

revision = "0008_ledger_failed_transfers"
down_revision = "0007_premium_draws"
branch_labels = None
depends_on = None

_SQLITE_TRIGGER = (
    "CREATE TRIGGER ledger_transfers_not_failed BEFORE INSERT ON ledger_transfers"
    " WHEN EXISTS (SELECT 1 FROM ledger_failed_transfers WHERE id = NEW.id)"
    " BEGIN SELECT RAISE(ABORT, 'a transfer id refused before is not recorded'); END"
)
_PG_FUNCTION = (
    "CREATE OR REPLACE FUNCTION gongji_ledger_not_failed() RETURNS trigger LANGUAGE plpgsql"
    " AS $$ BEGIN"
    " IF EXISTS (SELECT 1 FROM inserted AS i JOIN ledger_failed_transfers AS f ON f.id = i.id)"
    " THEN RAISE EXCEPTION 'a transfer id refused before is not recorded'"
    " USING ERRCODE = 'unique_violation'; END IF;"
    " RETURN NULL; END $$"
)
_PG_TRIGGER = (
    "CREATE TRIGGER ledger_transfers_not_failed AFTER INSERT ON ledger_transfers"
    " REFERENCING NEW TABLE AS inserted"
    " FOR EACH STATEMENT EXECUTE FUNCTION gongji_ledger_not_failed()"
)


def upgrade() -> None:
    op.create_table(
        "ledger_failed_transfers",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("result", sa.String(64), nullable=False),
        sa.Column("timestamp_us", sa.BigInteger, nullable=False),
    )
    forbid_update_and_delete("ledger_failed_transfers")
    if op.get_bind().dialect.name == "sqlite":
        op.execute(_SQLITE_TRIGGER)
        return
    op.execute(_PG_FUNCTION)
    op.execute(_PG_TRIGGER)


def downgrade() -> None:
    op.execute(
        "DROP TRIGGER IF EXISTS ledger_transfers_not_failed ON ledger_transfers"
        if op.get_bind().dialect.name != "sqlite"
        else "DROP TRIGGER IF EXISTS ledger_transfers_not_failed"
    )
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION IF EXISTS gongji_ledger_not_failed()")
    op.drop_table("ledger_failed_transfers")
