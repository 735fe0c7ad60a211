"""Statements sent straight through a connection's DB-API cursor, for hot paths only.

A SQLAlchemy Core statement costs on the order of 100–150 µs of Python per execution (cache
key, parameter processing, result proxy, events); the driver itself about 10 µs. Where that
overhead dominates (the ledger's write path, each transaction's ``BEGIN``, the dozen keyed reads
and writes of a settlement), the SQL goes to the driver as fixed text; the settlement's use
``:name`` parameters (:func:`fetch`). On PostgreSQL it goes past psycopg's cursors too,
straight to libpq's pipeline (:mod:`gongji.store.pg_wire`). Driver errors are wrapped back into
SQLAlchemy's :class:`~sqlalchemy.exc.DBAPIError` (and a lost connection is invalidated) so that
``run_in_transaction`` retries and callers see exactly what they would through Core.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import fields
from functools import lru_cache
from typing import Any, TypeAlias

from sqlalchemy import Connection, Dialect, PoolProxiedConnection, Table
from sqlalchemy.exc import DBAPIError, StatementError

from gongji.store import pg_wire


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
    counted: bool = False,
    keeps_reads: bool = False,
) -> tuple[Sequence[Any], int]:
    """One statement (``many``: once per parameter set): its rows when ``fetch``, and its row
    count (``counted``: the caller reads it). A driver error comes out as SQLAlchemy's.

    SQLite: on a cursor straight from the DB-API connection; neither the pool's cursor proxy
    nor a context manager, which on the ledger's hot path each cost as much as a statement.
    PostgreSQL: a statement that neither returns rows nor is counted waits while the
    transaction defers its writes (:func:`defer_writes`); one that must answer goes with the
    writes waiting before it in one round trip (:func:`_pipelined`); any other goes alone, in
    a trip of its own (:func:`_in_one_trip`). ``keeps_reads``: a write to rows nothing read
    ahead can show (see :func:`execute`)."""
    if connection.dialect.name != "sqlite":
        info = connection.connection.info
        if not fetch and not keeps_reads:
            info.pop(_PREFETCHED, None)  # a write: what was read ahead may be out of date
        waiting = info.get(_DEFERRED)
        if waiting is not None and not fetch and not counted:
            waiting.append((statement, params, many))
            return (), -1
        if waiting:
            return _pipelined(connection, waiting, statement, params, many, fetch)
        return _in_one_trip(connection, [(statement, params, many)], fetch=fetch)[0]
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


# --- PostgreSQL: fewer round trips per transaction ----------------------------------------------

_DEFERRED = "gongji_deferred_writes"
"""Key, in the pooled connection's ``info``, of the statements a transaction has deferred."""

Waiting: TypeAlias = list[tuple[str, Any, bool]]  # (statement, parameters, many)


def _pipelined(
    connection: Executor,
    waiting: Waiting,
    statement: str,
    params: Any,
    many: bool,
    fetch: bool,
) -> tuple[Sequence[Any], int]:
    """The waiting statements, then this one, in one round trip (:func:`_in_one_trip`)."""
    queued = [*waiting, (statement, params, many)]
    waiting.clear()
    return _in_one_trip(connection, queued, keep=1, fetch=fetch)[0]


def _in_one_trip(
    connection: Executor, statements: Waiting, keep: int = 1, *, fetch: bool = True
) -> list[tuple[Sequence[Any], int]]:
    """``statements`` in one round trip (:mod:`gongji.store.pg_wire`), the transaction's
    ``BEGIN`` at their front when it starts here; the rows (when ``fetch``) and row count of
    each of the last ``keep``, in the same order. Order is kept, so each statement sees the
    ones before it; the first that fails aborts the rest, and its error comes out here as
    SQLAlchemy's.

    Measured and left: the same statements as one text in the simple-query protocol, bound on
    the client. The server plans a text anew every time, where the statements here are
    prepared once per connection: a single ledger transfer's latency rose by a fifth
    (docs/benchmarks.md).
    """
    try:
        return pg_wire.send(connection.connection.dbapi_connection, statements, keep, fetch)
    except connection.dialect.loaded_dbapi.Error as error:
        sent = ";\n".join(text for text, _, _ in statements)
        raise wrapped(connection, sent, error) from error


_PREFETCHED = "gongji_prefetched"
"""Key, in the pooled connection's ``info``, of the answers read ahead for this transaction."""

Read: TypeAlias = tuple[str, Mapping[str, Any]]
"""A read to make ahead: a ``:name``-parameter statement and its parameters, exactly as the
code that will ask for it passes them to :func:`fetch`."""

DriverRead: TypeAlias = tuple[str, Sequence[Any]]
"""A read to make ahead in the driver's paramstyle (the ledger's), exactly as the code that will
ask for it passes it to :func:`query_read`."""


def prefetch(connection: Executor, reads: Sequence[Read | DriverRead]) -> None:
    """Read ahead, on PostgreSQL, what this transaction is about to ask one statement at a time:
    all of ``reads`` (and any writes waiting, and the transaction's ``BEGIN``) in one round
    trip. Each answer
    is kept (beside those of an earlier prefetch not yet taken) for the first :func:`fetch` of
    the same statement and parameters, which takes it
    instead of asking the server; any write, Core statement, commit or rollback drops what is
    left, so an answer is never older than the transaction's own last write. The reads run in
    the order given, locks (``FOR UPDATE``) included: give them in the order the code would. A
    read whose answer is kept already, or given twice, is made once: with none left, nothing
    is sent.
    (SQLite: nothing to save, nothing done.)"""
    if connection.dialect.name == "sqlite" or not reads:
        return
    info = connection.connection.info
    kept: dict[tuple[str, Any], Sequence[Any]] = info.setdefault(_PREFETCHED, {})
    asked: dict[tuple[str, Any], Read | DriverRead] = {}
    for read in reads:
        key = (read[0], _params_key(read[1]))
        if key not in kept:
            asked.setdefault(key, read)
    if not asked:
        return
    waiting = info.get(_DEFERRED) or []
    sent = [(_native(connection, st), p, False) for st, p in asked.values()]
    statements: Waiting = [*waiting, *sent]
    waiting.clear()
    answers = _in_one_trip(connection, statements, keep=len(asked))
    for key, (rows, _count) in zip(asked, answers, strict=True):
        kept[key] = rows


def query_together(connection: Executor, statements: Sequence[tuple[str, Any]]) -> list[Any]:
    """PostgreSQL: the rows of several statements (driver paramstyle) sent in one round trip,
    after the writes this transaction deferred (so they still run first) and with its
    ``BEGIN`` when the transaction starts here; each statement's rows, in order."""
    waiting = connection.connection.info.get(_DEFERRED) or []
    queued: Waiting = [*waiting, *((text, values, False) for text, values in statements)]
    waiting.clear()
    return [rows for rows, _count in _in_one_trip(connection, queued, keep=len(statements))]


def _params_key(params: Params) -> Any:
    if isinstance(params, Mapping):
        return tuple(sorted(params.items()))
    return tuple(params)


def _prefetched(connection: Executor, statement: str, params: Params) -> Any:
    """The answer read ahead for this statement and parameters, taken; None when there is none."""
    kept = connection.connection.info.get(_PREFETCHED)
    if not kept:
        return None
    return kept.pop((statement, _params_key(params)), None)


def forget_read(connection: Executor, statement: str, params: Params) -> None:
    """Drop the answer read ahead for this statement and parameters, if one is kept: for a
    caller whose own write, which keeps the other reads (``keeps_reads``), changes this one."""
    if connection.dialect.name != "sqlite":
        _prefetched(connection, statement, params)


def forget_prefetched(connection: Executor) -> None:
    """Drop the answers read ahead (a Core statement may have written: store/engine.py)."""
    connection.connection.info.pop(_PREFETCHED, None)


def defer_writes(connection: Executor) -> None:
    """From now until the transaction ends, on PostgreSQL, statements sent here that return no
    rows wait, and go to the server with the next statement that does, or with the ``COMMIT``
    (:func:`commit`): a transaction's writes, which nobody reads an answer from, cost no round
    trip of their own. (SQLite: nothing changes; its statements are calls, not round trips.)

    What the caller accepts: a write's error (a unique violation, say) comes out of the
    statement that carries it to the server, not of the write's own call; a Core statement
    sends the waiting writes first (:func:`send_deferred`, hooked into the engine), so the
    order of the transaction's statements stays the order they were written in."""
    if connection.dialect.name != "sqlite":
        connection.connection.info.setdefault(_DEFERRED, [])


def send_deferred(connection: Executor) -> None:
    """Send the writes waiting in this transaction now (one round trip), deferring the next;
    forget what was read ahead (the statement about to follow may write)."""
    info = connection.connection.info
    info.pop(_PREFETCHED, None)
    waiting = info.get(_DEFERRED)
    if waiting:
        last, values, many = waiting.pop()
        _pipelined(connection, waiting, last, values, many, False)


def commit_deferred(connection: Executor) -> None:
    """The waiting writes and the ``COMMIT`` in one round trip (PostgreSQL, when writes wait);
    the connection defers no more. The caller then commits as ever: the driver, with no
    transaction open any more, sends nothing."""
    info = connection.connection.info
    info.pop(_PREFETCHED, None)
    waiting = info.pop(_DEFERRED, None)
    if waiting:
        _pipelined(connection, waiting, "COMMIT", (), False, False)


def forget_deferred(connection: Executor) -> None:
    """Drop the waiting writes of a transaction that rolls back (they were never sent)."""
    if connection.dialect.name != "sqlite":
        with suppress(Exception):  # an invalidated connection keeps nothing to forget
            info = connection.connection.info
            info.pop(_DEFERRED, None)
            info.pop(_PREFETCHED, None)


def run(connection: Executor, statement: str, params: Params = ()) -> None:
    """Execute one statement that returns no rows in the connection's transaction."""
    _send(connection, statement, params)


def query(connection: Executor, statement: str, params: Params = ()) -> Sequence[Any]:
    """The rows of one statement that returns rows (``SELECT``, ``… RETURNING``).

    Its own function, not :func:`run` asking the cursor whether there are rows: psycopg builds
    the whole ``description`` to answer that, which cost as much as a small query's fetch.
    """
    return _send(connection, statement, params, fetch=True)[0]


def query_read(connection: Executor, statement: str, params: Params = ()) -> Sequence[Any]:
    """As :func:`query` (the driver's paramstyle), taking the answer :func:`prefetch` read
    ahead for this statement and these parameters when there is one."""
    if connection.dialect.name != "sqlite":
        found = _prefetched(connection, statement, params)
        if found is not None:
            return found  # type: ignore[no-any-return]
    return query(connection, statement, params)


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
    return lock_clause(lock and connection.dialect.name != "sqlite")


def lock_clause(lock: bool) -> str:
    """The row-lock clause as PostgreSQL writes it, for a read made ahead (:func:`prefetch`,
    which only PostgreSQL makes), so that it matches the text :func:`for_update` gives there."""
    return " FOR UPDATE" if lock else ""


def in_list(column: str, values: Sequence[Any], params: dict[str, Any]) -> str:
    """``column IN (:column_0, …)``, its values added to ``params``; never true when empty."""
    names = [f"{column}_{n}" for n in range(len(values))]
    params.update(zip(names, values, strict=True))
    return f"{column} IN ({', '.join(f':{name}' for name in names)})" if names else "1 = 0"


def _native(connection: Executor, statement: str) -> str:
    return in_paramstyle(statement, connection.dialect.name == "sqlite")


def fetch(connection: Executor, statement: str, params: Mapping[str, Any]) -> Sequence[Any]:
    """Rows of a ``:name``-parameter statement (read ahead by :func:`prefetch`, if it was)."""
    if connection.dialect.name != "sqlite":
        found = _prefetched(connection, statement, params)
        if found is not None:
            return found  # type: ignore[no-any-return]
    return query(connection, _native(connection, statement), params)


def execute(
    connection: Executor,
    statement: str,
    params: Mapping[str, Any],
    *,
    keeps_reads: bool = False,
) -> None:
    """A ``:name``-parameter statement that returns no rows. Any write drops what was read
    ahead (:func:`prefetch`), unless ``keeps_reads``: for a write to rows no read made ahead
    can show (a request's nonce), so that the reads made with the nonce's check serve the
    command it came with."""
    _send(connection, _native(connection, statement), params, keeps_reads=keeps_reads)


def changed(connection: Executor, statement: str, params: Mapping[str, Any]) -> int:
    """How many rows a ``:name``-parameter ``UPDATE`` or ``DELETE`` changed."""
    return _send(connection, _native(connection, statement), params, counted=True)[1]


def execute_many(
    connection: Executor,
    statement: str,
    params: Sequence[Mapping[str, Any]],
    *,
    keeps_reads: bool = False,
) -> None:
    """A ``:name``-parameter statement once per parameter set (``keeps_reads``: as
    :func:`execute`)."""
    if params:
        _send(
            connection, _native(connection, statement), params, many=True, keeps_reads=keeps_reads
        )


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


ROWS_PER_INSERT = 32
"""Rows :func:`insert_rows` puts in one PostgreSQL statement: each number of rows up to it is a
statement prepared once per connection; longer lists go in statements of this many."""


def insert_rows(connection: Executor, table: str, record: type[Any], rows: Sequence[Any]) -> None:
    """``rows`` (dataclasses of ``record``, whose fields are the table's columns) into ``table``.

    PostgreSQL: one multi-row ``INSERT`` (per :data:`ROWS_PER_INSERT` rows), which the server
    parses, plans and runs once, where an ``executemany`` runs the statement once per row: a
    settlement writes a few bill lines and draws each time. SQLite: ``executemany``, a single
    call into the library already."""
    if not rows:
        return
    names = _field_names(record)
    if connection.dialect.name == "sqlite":
        values = [tuple(getattr(row, name) for name in names) for row in rows]
        run_many(connection, _multi_row_insert(table, names, 1, "?"), values)
        return
    for at in range(0, len(rows), ROWS_PER_INSERT):
        chunk = rows[at : at + ROWS_PER_INSERT]
        flat = [getattr(row, name) for row in chunk for name in names]
        run(connection, _multi_row_insert(table, names, len(chunk), "%s"), flat)


@lru_cache(maxsize=256)
def _multi_row_insert(table: str, columns: tuple[str, ...], rows: int, mark: str) -> str:
    one = f"({', '.join(mark for _ in columns)})"
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([one] * rows)}"


def advisory_key(name: str) -> int:
    """A PostgreSQL advisory lock's 64-bit key for ``name`` (a hash: another name sharing it
    only waits more, never wrongly less)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
