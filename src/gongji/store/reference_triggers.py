"""Triggers that renumber the reference generation (store/tables_reference.py) on every change
to a reference table, in the changing transaction.

Used by the migration that creates the generation. SQLite has row triggers only (a bulk import
renumbers once a row, the same page each time); PostgreSQL's fire once a statement, ``TRUNCATE``
included. A migration that rebuilds one of these tables (SQLite's ``batch_alter_table`` copies
it into a new one, without its triggers) must call :func:`renumber_on_change` on it again.
"""

from __future__ import annotations

from alembic import op

_SQLITE_ACTIONS = ("INSERT", "UPDATE", "DELETE")


def renumber_on_change(table: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        for action in _SQLITE_ACTIONS:
            op.execute(
                f"CREATE TRIGGER {table}_renumbers_on_{action.lower()} AFTER {action} ON {table} "
                "BEGIN UPDATE reference_generation SET generation = random() WHERE id = 1; END"
            )
        return
    op.execute(
        "CREATE OR REPLACE FUNCTION gongji_reference_changed() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "UPDATE reference_generation "
        "SET generation = floor(random() * 9007199254740991)::bigint WHERE id = 1; "
        "RETURN NULL; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {table}_renumbers AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
        f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION gongji_reference_changed()"
    )


def drop_renumbering(table: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        for action in _SQLITE_ACTIONS:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_renumbers_on_{action.lower()}")
        return
    op.execute(f"DROP TRIGGER IF EXISTS {table}_renumbers ON {table}")
