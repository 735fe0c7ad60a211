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
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, StatementError


def wrapped(connection: Connection, statement: str, error: Any) -> StatementError:
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


def run(connection: Connection, statement: str, params: Sequence[Any] = ()) -> Sequence[Any]:
    """Execute one statement in the connection's transaction; its rows (none for writes)."""
    cursor = connection.connection.cursor()
    try:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else ()
    except connection.dialect.loaded_dbapi.Error as error:
        raise wrapped(connection, statement, error) from error
    finally:
        cursor.close()


def run_many(connection: Connection, statement: str, params: Sequence[Sequence[Any]]) -> None:
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(statement, params)
    except connection.dialect.loaded_dbapi.Error as error:
        raise wrapped(connection, statement, error) from error
    finally:
        cursor.close()
