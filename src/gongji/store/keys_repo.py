"""SQL of the secret key's state and of a rotation's progress (tables in ``tables_keys``), and
the generic row batches a rotation re-encrypts. No decisions: ``gongji.kernel.keys`` makes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, insert, inspect, select, update

from gongji.store.tables_keys import key_rotation, key_state

STATE_ID = "current"


@dataclass(frozen=True, slots=True)
class KeyStateRow:
    fingerprint: str
    index_key_enc: str
    rotating_to: str | None


@dataclass(frozen=True, slots=True)
class Progress:
    last_key: str | None
    rows_done: int
    finished: bool


def has_key_state_table(engine: Engine) -> bool:
    """Whether the schema has ``key_state`` yet (a database before migration 0020 has not)."""
    with engine.connect() as connection:
        return inspect(connection).has_table(key_state.name)


def read_state(connection: Connection) -> KeyStateRow | None:
    found = connection.execute(
        select(key_state.c.fingerprint, key_state.c.index_key_enc, key_state.c.rotating_to).where(
            key_state.c.id == STATE_ID
        )
    ).first()
    return KeyStateRow(*found) if found else None


def insert_state(connection: Connection, fingerprint: str, index_key_enc: str, now_us: int) -> None:
    connection.execute(
        insert(key_state),
        [
            {
                "id": STATE_ID,
                "fingerprint": fingerprint,
                "index_key_enc": index_key_enc,
                "rotating_to": None,
                "created_at_us": now_us,
                "updated_at_us": now_us,
            }
        ],
    )


def start_rotation(connection: Connection, now_us: int, target: str) -> None:
    """Mark the rotation towards ``target`` begun: a start-up sees it unfinished (exit 5)."""
    statement = update(key_state).where(key_state.c.id == STATE_ID)
    connection.execute(statement.values(rotating_to=target, updated_at_us=now_us))


def finish_rotation(connection: Connection, now_us: int, target: str, index_key_enc: str) -> None:
    """Switch the fingerprint to the new key, last of all the rotation's writes."""
    statement = update(key_state).where(key_state.c.id == STATE_ID)
    connection.execute(
        statement.values(
            fingerprint=target,
            index_key_enc=index_key_enc,
            rotating_to=None,
            updated_at_us=now_us,
        )
    )


def progress(connection: Connection, target: str, table_name: str) -> Progress:
    found = connection.execute(
        select(key_rotation.c.last_key, key_rotation.c.rows_done, key_rotation.c.finished).where(
            key_rotation.c.target == target, key_rotation.c.table_name == table_name
        )
    ).first()
    if found is None:
        return Progress(None, 0, False)
    return Progress(found[0], int(found[1]), bool(found[2]))


def save_progress(connection: Connection, target: str, table_name: str, done: Progress) -> None:
    values = {
        "last_key": done.last_key,
        "rows_done": done.rows_done,
        "finished": int(done.finished),
    }
    changed = connection.execute(
        update(key_rotation)
        .where(key_rotation.c.target == target, key_rotation.c.table_name == table_name)
        .values(**values)
    ).rowcount
    if not changed:
        connection.execute(
            insert(key_rotation), [{"target": target, "table_name": table_name, **values}]
        )


def forget_progress(connection: Connection) -> None:
    connection.execute(key_rotation.delete())


def rows_after(
    connection: Connection,
    table: Table,
    key: str,
    columns: Sequence[str],
    after: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    """The next ``limit`` rows by primary key after ``after``, locked for the batch's update."""
    statement = select(table.c[key], *(table.c[name] for name in columns)).order_by(table.c[key])
    if after is not None:
        statement = statement.where(table.c[key] > after)
    statement = statement.limit(limit)
    if connection.dialect.name == "postgresql":
        statement = statement.with_for_update()
    return [dict(row._mapping) for row in connection.execute(statement)]


def update_row(connection: Connection, table: Table, key: str, values: dict[str, Any]) -> None:
    changes = {name: value for name, value in values.items() if name != key}
    connection.execute(update(table).where(table.c[key] == values[key]).values(**changes))


def first_sealed_value(connection: Connection, table: Table, key: str, column: str) -> Any:
    """One row with ``column`` set (its key and value), to try a key on; ``None`` if none."""
    found = connection.execute(
        select(table.c[key], table.c[column]).where(table.c[column].is_not(None)).limit(1)
    ).first()
    return dict(found._mapping) if found else None


def count_rows(connection: Connection, table: Table) -> int:
    return int(connection.execute(select(func.count()).select_from(table)).scalar_one())
