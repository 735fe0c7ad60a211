"""Statements sent straight through a connection's DB-API cursor, for hot paths only.

A SQLAlchemy Core statement costs on the order of 100–150 µs of Python per execution (cache
key, parameter processing, result proxy, events); the driver itself about 10 µs. Where that
overhead dominates (the ledger's write path, each transaction's ``BEGIN``), the SQL goes to the
driver as fixed text. Driver errors are wrapped back into SQLAlchemy's
:class:`~sqlalchemy.exc.DBAPIError` (and a lost connection is invalidated) so that
``run_in_transaction`` retries and callers see exactly what they would through Core.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

from sqlalchemy import Connection, Dialect, PoolProxiedConnection
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


def run(connection: Executor, statement: str, params: Sequence[Any] = ()) -> Sequence[Any]:
    """Execute one statement in the connection's transaction; its rows (none for writes)."""
    cursor = connection.connection.cursor()
    try:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else ()
    except connection.dialect.loaded_dbapi.Error as error:
        raise wrapped(connection, statement, error) from error
    finally:
        cursor.close()


def run_many(connection: Executor, statement: str, params: Sequence[Sequence[Any]]) -> None:
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(statement, params)
    except connection.dialect.loaded_dbapi.Error as error:
        raise wrapped(connection, statement, error) from error
    finally:
        cursor.close()
