"""Counting a process's round trips to the database, at the DB-API level (for the benches).

The settlement and the ledger send most of their SQL straight to the driver's cursor
(store/raw.py), past SQLAlchemy's ``before_cursor_execute`` event, and a PostgreSQL driver sends
``BEGIN`` by itself before a transaction's first statement. So the count is taken one level
lower: the engine's ``do_connect`` event hands the pool a thin proxy of each DB-API connection
that counts, per process:

- statements: each ``cursor.execute``; an ``executemany`` counts once (psycopg pipelines it).
  On SQLite each cursor opened counts one: gongji and SQLAlchemy open one a statement, and the
  driver's cursors pass unwrapped (a connection's set-up, its pragmas sent on one cursor,
  counts one);
- begins: on PostgreSQL, the ``BEGIN`` psycopg sends, in a round trip of its own, before the
  first statement of a transaction through its cursors (Core's; on SQLite the code sends
  ``BEGIN IMMEDIATE`` itself: a statement);
- commits and rollbacks that end an open transaction (a pool's reset of an idle connection
  sends nothing, and counts nothing);
- pipelines (PostgreSQL: store/raw.py's statements, through store/pg_wire.py, which reports
  each to :meth:`CountingConnection.gongji_trip_sent`): the statements in one, a ``BEGIN`` or
  ``COMMIT`` included, go with one Sync and count as one round trip; the statements themselves
  are counted apart (``PIPELINED``), as what they are: not trips.

On PostgreSQL each is a round trip over the socket; on SQLite it is a call into the library in
the same process, counted the same way so that the two databases' rows compare. The counts live
in a small shared memory map (``path``) when another process must read them (the bench server's
workers, read by the bench), else in a private buffer. The proxy costs about a microsecond a
statement on SQLite, next to the 10–40 µs of the statement itself.
"""

from __future__ import annotations

import mmap
import threading
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Engine, event

STATEMENTS, BEGINS, COMMITS, ROLLBACKS, PIPELINES, PIPELINED = range(6)
_SLOTS: Final = 6
_TRIP_SLOTS: Final = (STATEMENTS, BEGINS, COMMITS, ROLLBACKS, PIPELINES)


def trips_of(counts: tuple[int, ...]) -> int:
    """Round trips among a counter's counts (statements sent in a pipeline are not trips)."""
    return sum(counts[slot] for slot in _TRIP_SLOTS)


_BYTES: Final = 8 * _SLOTS


class TripCounter:
    """Four 64-bit counters, in a file another process can map, or in private memory."""

    def __init__(self, path: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._map: mmap.mmap | bytearray
        if path is None:
            self._map = bytearray(_BYTES)
        else:
            path.write_bytes(bytes(_BYTES))
            with path.open("r+b") as file:
                self._map = mmap.mmap(file.fileno(), _BYTES)
        self._view = memoryview(self._map).cast("q")

    def add(self, slot: int, count: int = 1) -> None:
        with self._lock:  # ``+=`` on the view is a read and a write: threads would lose counts
            self._view[slot] += count

    def counts(self) -> tuple[int, ...]:
        return tuple(self._view)

    @property
    def trips(self) -> int:
        return trips_of(self.counts())


def read_counts(path: Path) -> tuple[int, ...]:
    """Another process's counts, from its file (zeros when it is not there yet)."""
    try:
        data = path.read_bytes()
    except OSError:
        return (0,) * _SLOTS
    if len(data) < _BYTES:
        return (0,) * _SLOTS
    return tuple(memoryview(data[:_BYTES]).cast("q"))


def count_trips(engine: Engine, counter: TripCounter) -> None:
    """Every connection ``engine`` opens from now on counts into ``counter``."""
    postgres = engine.dialect.name == "postgresql"
    dialect = engine.dialect
    # Where SQLAlchemy hands the driver's own connection to the driver (psycopg's TypeInfo
    # checks its type), it gets the real one: this engine's dialect unwraps the proxy.
    unwrap = dialect.get_driver_connection
    dialect.get_driver_connection = lambda raw: unwrap(getattr(raw, "_raw", raw))  # type: ignore[method-assign,assignment]

    @event.listens_for(engine, "do_connect")
    def _connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        return CountingConnection(
            dialect.loaded_dbapi.connect(*cargs, **cparams), counter, postgres
        )


class CountingConnection:
    """A DB-API connection that counts what it sends; everything else passes through."""

    __slots__ = ("_counter", "_postgres", "_raw")

    def __init__(self, raw: Any, counter: TripCounter, postgres: bool) -> None:
        object.__setattr__(self, "_raw", raw)
        object.__setattr__(self, "_counter", counter)
        object.__setattr__(self, "_postgres", postgres)

    def gongji_trip_sent(self, statements: int) -> None:
        """store/pg_wire.py sent ``statements`` (a ``BEGIN`` among them, when it began the
        transaction) in one round trip."""
        self._counter.add(PIPELINES)
        self._counter.add(PIPELINED, statements)

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        """PostgreSQL: a cursor that counts each statement it sends, and the ``BEGIN`` psycopg
        sends before the first. SQLite: the driver's own cursor, counted as one statement when
        it is opened. gongji (store/raw.py) and SQLAlchemy open a cursor per statement, and a
        proxy of every cursor cost more than the statements it counted: 75–100 µs of a signed
        settlement's 1.3 ms, a bench's instrument weighing on the CPU figure beside it
        (docs/benchmarks.md, issue 20, step 16)."""
        if self._postgres:
            return CountingCursor(self._raw.cursor(*args, **kwargs), self)
        self._counter.add(STATEMENTS)
        return self._raw.cursor(*args, **kwargs)

    def commit(self) -> None:
        if self.in_transaction_now():
            self._counter.add(COMMITS)
        self._raw.commit()

    def rollback(self) -> None:
        if self.in_transaction_now():
            self._counter.add(ROLLBACKS)
        self._raw.rollback()

    def in_transaction_now(self) -> bool:
        if self._postgres:
            return int(self._raw.info.transaction_status) != 0  # psycopg's IDLE
        return bool(self._raw.in_transaction)

    def sending(self) -> None:
        """A statement is about to go (PostgreSQL): psycopg sends its own ``BEGIN`` first when
        idle."""
        if not self._raw.autocommit and not self.in_transaction_now():
            self._counter.add(BEGINS)
        self._counter.add(STATEMENTS)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._raw, name, value)


class CountingCursor:
    __slots__ = ("_connection", "_raw")

    def __init__(self, raw: Any, connection: CountingConnection) -> None:
        object.__setattr__(self, "_raw", raw)
        object.__setattr__(self, "_connection", connection)

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        self._connection.sending()
        return self._raw.execute(*args, **kwargs)

    def executemany(self, *args: Any, **kwargs: Any) -> Any:
        self._connection.sending()
        return self._raw.executemany(*args, **kwargs)

    def __iter__(self) -> Any:
        return iter(self._raw)

    # What SQLAlchemy and store/raw.py ask of every statement's cursor, passed through by name:
    # through ``__getattr__`` each went by a failed look-up first, 5–8 % of a profiled
    # settlement, and the counter must not weigh on the CPU figures it stands beside.
    def fetchall(self) -> Any:
        return self._raw.fetchall()

    def fetchone(self) -> Any:
        return self._raw.fetchone()

    def fetchmany(self, *args: Any) -> Any:
        return self._raw.fetchmany(*args)

    def close(self) -> None:
        self._raw.close()

    @property
    def rowcount(self) -> Any:
        return self._raw.rowcount

    @property
    def description(self) -> Any:
        return self._raw.description

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._raw, name, value)
