"""Nothing posted is ever edited: triggers with which the database itself refuses ``UPDATE``
and ``DELETE`` (and, on PostgreSQL, ``TRUNCATE``) on an append-only table.

Used by the migrations that create such tables. ``DROP TABLE`` fires none of them, so a
migration that rebuilds a table must call :func:`forbid_update_and_delete` on the new one.
"""

from __future__ import annotations

from alembic import op


def forbid_update_and_delete(table: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
        return
    op.execute(
        "CREATE OR REPLACE FUNCTION gongji_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME "
        "USING ERRCODE = 'insufficient_privilege'; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION gongji_append_only()"
    )
    op.execute(
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION gongji_append_only()"
    )
