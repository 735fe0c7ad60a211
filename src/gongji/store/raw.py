"""Statements sent straight through a connection's DB-API cursor, for hot paths only.

A SQLAlchemy Core statement costs on the order of 100–150 µs of Python per execution (cache
key, parameter processing, result proxy, events); the driver itself about 10 µs. Where that
overhead dominates (the ledger's write path, each transaction's ``BEGIN``, the dozen keyed reads
and writes of a settlement), the SQL goes to the driver as fixed text; the settlement's use
``:name`` parameters (:func:`fetch`). Driver errors are wrapped back into SQLAlchemy's
:class:`~sqlalchemy.exc.DBAPIError` (and a lost connection is invalidated) so that
``run_in_transaction`` retries and callers see exactly what they would through Core.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import fields
from functools import lru_cache
from typing import Any, TypeAlias

from sqlalchemy import Connection, Dialect, PoolProxiedConnection, Table
from sqlalchemy.exc import DBAPIError, StatementError


class PooledConnection:
    """A pool's DB-API connection, with what this module needs of a Core ``Connection``: its
    ``connection``, its ``dialect`` and ``invalidate``. For a transaction that sends nothing but
    the statements here (the ledger's own batches): Core's ``Connection`` costs about 25 µs a
    transaction in begin and commit events and bookkeeping, as much as SQLite's statements."""

    __slots__ = ("connection", "dialect")

    def __init__(self, connection: PoolProxiedConnection, dialect: Dialect) -> None:
        self.connection = connection
        self.dialect = dialect

    def invalidate(self, error: BaseException | None = None) -> None:
        self.connection.invalidate(error)


Executor: TypeAlias = Connection | PooledConnection
"""Where the statements of this module can run."""


def wrapped(connection: Executor, statement: str, error: Any) -> StatementError:
    """What SQLAlchemy would have raised; a lost connection is invalidated as it would be."""
    dialect = connection.dialect
    lost = bool(dialect.is_disconnect(error, connection.connection.dbapi_connection, None))
    if lost:
        connection.invalidate(error)
    result: StatementError = DBAPIError.instance(
        statement,
        None,
        error,
        dialect.loaded_dbapi.Error,
        connection_invalidated=lost,
        dialect=dialect,
    )
    return result


Params: TypeAlias = Sequence[Any] | Mapping[str, Any]


def _send(
    connection: Executor,
    statement: str,
    params: Any,  # Params, or a sequence of them when ``many``
    *,
    many: bool = False,
    fetch: bool = False,
) -> tuple[Sequence[Any], int]:
    """One statement (``many``: once per parameter set) on a cursor straight from the DB-API
    connection: its rows when ``fetch``, and its row count. A driver error comes out as
    SQLAlchemy's. Neither the pool's cursor proxy nor a context manager: on the ledger's hot
    path each cost as much as a statement."""
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if many:
            cursor.executemany(statement, params)
        else:
            cursor.execute(statement, params)
        return (cursor.fetchall() if fetch else ()), cursor.rowcount
    except connection.dialect.loaded_dbapi.Error as error:
        raise wrapped(connection, statement, error) from error
    finally:
        cursor.close()


def run(connection: Executor, statement: str, params: Params = ()) -> None:
    """Execute one statement that returns no rows in the connection's transaction."""
    _send(connection, statement, params)


def query(connection: Executor, statement: str, params: Params = ()) -> Sequence[Any]:
    """The rows of one statement that returns rows (``SELECT``, ``… RETURNING``).

    Its own function, not :func:`run` asking the cursor whether there are rows: psycopg builds
    the whole ``description`` to answer that, which cost as much as a small query's fetch.
    """
    return _send(connection, statement, params, fetch=True)[0]


def run_many(
    connection: Executor,
    statement: str,
    params: Sequence[Sequence[Any]] | Sequence[Mapping[str, Any]],
) -> None:
    _send(connection, statement, params, many=True)


# --- named parameters, for the keyed reads and writes of a settlement ---------------------------

_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@lru_cache(maxsize=1024)
def in_paramstyle(statement: str, sqlite: bool) -> str:
    """A statement written with ``:name`` parameters as its driver takes it: sqlite3 reads
    ``:name`` itself, psycopg wants ``%(name)s``. (``::type`` casts are left alone.)"""
    return statement if sqlite else _NAMED.sub(r"%(\1)s", statement)


def for_update(connection: Executor, lock: bool = True) -> str:
    """The row-lock clause to end a text ``SELECT`` with: PostgreSQL locks rows; on SQLite the
    write transaction holds the database's lock from ``BEGIN IMMEDIATE`` already."""
    return " FOR UPDATE" if lock and connection.dialect.name != "sqlite" else ""


def in_list(column: str, values: Sequence[Any], params: dict[str, Any]) -> str:
    """``column IN (:column_0, …)``, its values added to ``params``; never true when empty."""
    names = [f"{column}_{n}" for n in range(len(values))]
    params.update(zip(names, values, strict=True))
    return f"{column} IN ({', '.join(f':{name}' for name in names)})" if names else "1 = 0"


def _native(connection: Executor, statement: str) -> str:
    return in_paramstyle(statement, connection.dialect.name == "sqlite")


def fetch(connection: Executor, statement: str, params: Mapping[str, Any]) -> Sequence[Any]:
    """Rows of a ``:name``-parameter statement."""
    return query(connection, _native(connection, statement), params)


def execute(connection: Executor, statement: str, params: Mapping[str, Any]) -> None:
    """A ``:name``-parameter statement that returns no rows."""
    run(connection, _native(connection, statement), params)


def changed(connection: Executor, statement: str, params: Mapping[str, Any]) -> int:
    """How many rows a ``:name``-parameter ``UPDATE`` or ``DELETE`` changed."""
    return _send(connection, _native(connection, statement), params)[1]


def execute_many(connection: Executor, statement: str, params: Sequence[Mapping[str, Any]]) -> None:
    if params:
        run_many(connection, _native(connection, statement), params)


def field_names(record: type[Any]) -> list[str]:
    """A dataclass's field names, which are its table's column names: read as ``record(*row)``."""
    return list(_field_names(record))


_FIELD_NAMES: dict[type[Any], tuple[str, ...]] = {}


def _field_names(record: type[Any]) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(record)
    if names is None:
        names = _FIELD_NAMES[record] = tuple(f.name for f in fields(record))
    return names


def record_params(record: Any) -> dict[str, Any]:
    """A flat dataclass as a statement's ``:name`` parameters. Shallow: ``dataclasses.asdict``
    copies every value deeply, which cost 2 % of a settlement's time in the server."""
    return {name: getattr(record, name) for name in _field_names(type(record))}


def column_list(record: type[Any]) -> str:
    return ", ".join(field_names(record))


def table_columns(table: Table) -> list[str]:
    """A table's column names in table order: select them all to read a row by position."""
    return [column.name for column in table.columns]


def insert_statement(table: str, columns: Sequence[str]) -> str:
    """``INSERT`` of ``columns`` into ``table``, as named parameters."""
    marks = ", ".join(f":{name}" for name in columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"


def advisory_key(name: str) -> int:
    """A PostgreSQL advisory lock's 64-bit key for ``name`` (a hash: another name sharing it
    only waits more, never wrongly less)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
