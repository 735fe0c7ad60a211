"""The unit of work: one database transaction that rolls back unless committed, and a bounded
whole-transaction retry for the conflicts a concurrent database reports.

Use::

    def work(uow: UnitOfWork) -> Result:
        ...               # reads and writes on uow.connection
        uow.commit()
        return result

    result = run_in_transaction(engine, work)

A transaction that sends only driver-level statements (:mod:`gongji.store.raw`) can skip Core's
``Connection`` with :func:`run_on_driver_connection`: same transaction, same retries.

Retried: PostgreSQL serialization failures (40001) and deadlocks (40P01), unique violations
(23505, and SQLite's UNIQUE / PRIMARY KEY constraint errors: a racing writer inserted the same
idempotency key first; the retry then sees it), and SQLite's "database is locked" past the busy
timeout. The whole function runs again, so it must decide from what it reads, never from state
kept between attempts.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from types import TracebackType
from typing import Any, Final, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from gongji.store.engine import READ_ONLY_OPTION, is_sqlite
from gongji.store.pg_wire import STATEMENT_UNKNOWN
from gongji.store.raw import (
    DriverRead,
    PooledConnection,
    Read,
    commit_deferred,
    defer_writes,
    forget_deferred,
    forget_read,
    prefetch,
    run,
    wrapped,
)
from gongji.store.writers import CommitGroup, WriterTurn, sqlite_writer_turn, writer_turn

T = TypeVar("T")

RETRY_ATTEMPTS_MAX = 8
RETRY_BACKOFF_BASE_S = 0.002
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "23505", STATEMENT_UNKNOWN})
# SQLite's counterparts of 23505. Under BEGIN IMMEDIATE writers are serialized and a retry
# cannot change the outcome, but an engine opened without that hook could race like PostgreSQL
# does, and the two databases should answer the same.
_RETRYABLE_SQLITE_ERRORS = frozenset({"SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"})


_MEMBER: Final = "group_member"
"""The savepoint a write joining an open commit group runs in (store/writers.py)."""
_STATEMENT_BY_STATEMENT: Final = "AUTOCOMMIT"
"""A read on PostgreSQL runs each statement on its own, outside any transaction block: under
the engine's ``READ COMMITTED`` each statement of a transaction sees its own snapshot anyway,
so a read sees exactly what it did, without the ``BEGIN`` psycopg sends ahead of Core's first
statement (a round trip) nor the ``ROLLBACK`` that ended it (another). A read that needs one
snapshot for all its statements asks for it (``ledger.check.in_snapshot``)."""

_open_here = threading.local()
"""How many units of work this thread has open (``depth``)."""


def in_transaction() -> bool:
    """True while this thread has a unit of work open. Such a caller must not wait for another
    thread's transaction (the ledger's group commit): that one may be waiting for locks this
    thread's own transaction holds, and neither database would see the cycle."""
    return getattr(_open_here, "depth", 0) > 0


class UnitOfWork:
    """A connection inside one transaction. Leaving the block without ``commit()`` rolls back.

    ``read_only=True``: SQLite reads in one transaction (one snapshot: ``BEGIN``, a call);
    PostgreSQL statement by statement, in no transaction block (``_STATEMENT_BY_STATEMENT``),
    which its ``READ COMMITTED`` makes the same: a round trip or two less per read.

    ``durable=False``: the commit does not wait for the disk (SQLite ``synchronous=NORMAL`` for
    this transaction, PostgreSQL ``synchronous_commit`` off). For a write whose loss in a crash
    of the machine (not of gongji) is acceptable; the next durable commit of any transaction
    makes it durable too, since both databases write their log in order. On PostgreSQL the
    transaction defers its writes from the start (:meth:`defer_writes`): its ``SET LOCAL`` goes
    with its first read, its writes with the next read or the ``COMMIT``.

    ``grouped=True`` (SQLite, a durable write on the writer's own connection): the commit joins
    the writer's commit group (store/writers.py), and leaving the block waits until the group's
    ``COMMIT`` is durable. Work after ``commit()`` in the block still runs before that, as it
    did before the commit reached the disk; it must write nothing more, as its writes would
    go with the group's. PostgreSQL commits each transaction itself, in a round trip that also
    carries the transaction's deferred writes.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        read_only: bool = False,
        durable: bool = True,
        grouped: bool = False,
    ) -> None:
        self._engine = engine
        self._read_only = read_only
        self._relaxed = not durable and not read_only
        self._grouped = grouped and durable and not read_only
        self._committed = False
        self._connection: Connection | None = None
        self._turn: WriterTurn | None = None  # SQLite's writer's, held by a write
        self._borrowed = False  # the connection is the one lent with the turn
        self._in_group = False  # the work runs in a savepoint of a group already open
        self._group: CommitGroup | None = None  # the group its commit joined
        self.learned: dict[str, Any] = {}
        """What this transaction has read once and keeps to its end (the reference rows'
        generation: kernel/reference_rows.py)."""

    def __enter__(self) -> UnitOfWork:
        _open_here.depth = getattr(_open_here, "depth", 0) + 1
        try:
            connection = self._connection = self._open()
            sqlite = is_sqlite(self._engine)
            if self._relaxed and sqlite:  # SQLite: before BEGIN, never inside a transaction
                run(connection, "PRAGMA synchronous=NORMAL")
            if self._in_group:
                run(connection, f"SAVEPOINT {_MEMBER}")
            else:
                connection.begin()
            if self._relaxed and not sqlite:  # rides with the first trip, as the writes after
                defer_writes(connection)
                run(connection, "SET LOCAL synchronous_commit TO OFF")
        except BaseException:
            self.__exit__(None, None, None)  # rolls back, restores, gives back, ends the turn
            raise
        return self

    def _open(self) -> Connection:
        """A read, and a write on PostgreSQL: a connection from the pool. A write on SQLite:
        the writer's turn, then the writer's own connection that comes with it, so writers take
        no pool bookkeeping into the section they queue for (store/writers.py). A write nested
        in another of this thread finds that one lent and takes one from the pool: the SQLite
        pool has room for every thread that may wait on the turn and more (store/engine.py)."""
        if self._read_only:
            connection = self._engine.connect()
            if is_sqlite(self._engine):
                return connection.execution_options(**{READ_ONLY_OPTION: True})
            return connection.execution_options(
                **{READ_ONLY_OPTION: True}, isolation_level=_STATEMENT_BY_STATEMENT
            )
        if not is_sqlite(self._engine):
            return self._engine.connect()
        turn = self._turn = sqlite_writer_turn(self._engine)
        turn.__enter__()
        self._grouped = self._grouped and turn.group_commit
        kept = turn.borrow_connection(self._engine, joining=self._grouped)
        self._borrowed = kept is not None
        self._in_group = self._borrowed and turn.group_open
        return kept if kept is not None else self._engine.connect()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        try:
            if connection is not None:
                self._end(connection, exc)
        finally:
            _open_here.depth -= 1
            turn, self._turn = self._turn, None
            if turn is not None:
                turn.__exit__(None, None, None)
        group, self._group = self._group, None
        if group is not None and turn is not None:
            group.wait(turn)  # the COMMIT's error, if it failed, is this block's

    def _end(self, connection: Connection, exc: BaseException | None) -> None:
        """Roll back what was not committed and hand the connection back: the writer's own to
        the turn before the turn passes on, any other to the pool."""
        try:
            try:
                if not self._committed and self._in_group:  # the group's others keep theirs
                    run(connection, f"ROLLBACK TO {_MEMBER}")
                    run(connection, f"RELEASE {_MEMBER}")
                elif not self._committed:
                    forget_deferred(connection)
                    connection.rollback()
            except DBAPIError:
                # The rollback failed on a connection already lost (SQLAlchemy discards it):
                # the error that ended the block is the one to tell, not this echo of it.
                if exc is None:
                    raise
            finally:
                if self._relaxed and is_sqlite(self._engine):
                    _restore_durability(connection)
        finally:
            if self._borrowed and self._turn is not None:
                self._borrowed = False
                self._turn.return_connection(connection)
            else:
                connection.close()

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("the unit of work is not open")
        return self._connection

    @property
    def reads_ahead(self) -> bool:
        """Whether :meth:`prefetch` reads anything: on PostgreSQL, where it saves round trips
        (on SQLite a statement is a call, not a trip). For a caller whose list costs work to
        build."""
        return not is_sqlite(self._engine)

    def prefetch(self, reads: Sequence[Read | DriverRead]) -> None:
        """Make ``reads`` now, in one round trip on PostgreSQL, for the code about to ask for
        them one by one (:func:`gongji.store.raw.prefetch`)."""
        prefetch(self.connection, reads)

    def forget_read(self, read: Read) -> None:
        """Drop what was read ahead for ``read`` (:func:`gongji.store.raw.forget_read`)."""
        forget_read(self.connection, *read)

    def defer_writes(self) -> None:
        """From here to the commit, writes that return nothing wait and travel with the next
        statement that answers, or with the ``COMMIT`` (PostgreSQL; see
        :func:`gongji.store.raw.defer_writes` for what a caller accepts by this)."""
        defer_writes(self.connection)

    def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        commit_deferred(self.connection)  # PostgreSQL: writes waiting ride with the COMMIT
        if self._grouped and self._borrowed and self._turn is not None:
            if self._in_group:
                run(self.connection, f"RELEASE {_MEMBER}")
            self._group = self._turn.enlist()
        else:
            self.connection.commit()
        self._committed = True


def is_retryable(error: BaseException) -> bool:
    """True for conflicts that a fresh attempt of the whole transaction can resolve."""
    if not isinstance(error, DBAPIError):
        return False
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate in _RETRYABLE_SQLSTATES:
        return True
    if getattr(error.orig, "sqlite_errorname", None) in _RETRYABLE_SQLITE_ERRORS:
        return True
    if isinstance(error, OperationalError):
        text = str(error.orig).lower()
        return "database is locked" in text or "database is busy" in text
    return False


def _restore_durability(connection: Connection) -> None:
    """Back to ``SQLITE_PRAGMAS``' ``synchronous=FULL`` before the pool hands the connection on;
    a connection that cannot be set back is discarded instead."""
    try:
        run(connection, "PRAGMA synchronous=FULL")
    except DBAPIError:
        if not connection.invalidated:
            connection.invalidate()


def run_in_transaction(
    engine: Engine,
    work: Callable[[UnitOfWork], T],
    *,
    read_only: bool = False,
    durable: bool = True,
    grouped: bool = False,
    attempts_max: int = RETRY_ATTEMPTS_MAX,
) -> T:
    """Run ``work`` in a fresh unit of work, again (at most ``attempts_max`` times) on conflict;
    ``grouped``: its commit joins SQLite's commit group (:class:`UnitOfWork`)."""

    def attempt() -> T:
        with UnitOfWork(engine, read_only=read_only, durable=durable, grouped=grouped) as uow:
            return work(uow)

    return _retried(attempt, attempts_max)


def run_on_driver_connection(
    engine: Engine,
    work: Callable[[PooledConnection], T],
    *,
    attempts_max: int = RETRY_ATTEMPTS_MAX,
) -> T:
    """As :func:`run_in_transaction` for a write, on a DB-API connection: ``work`` sends its
    statements through :mod:`gongji.store.raw` and returns, and this commits. An exception from
    ``work`` rolls the transaction back; a retryable one runs it again.

    SQLite: the writer's own connection, which comes with the turn (store/writers.py), unless
    this transaction is nested in another of the same thread. PostgreSQL: one from the pool.
    """
    sqlite = is_sqlite(engine)

    def attempt() -> T:
        if sqlite:
            turn = sqlite_writer_turn(engine)
            with turn:
                kept = turn.borrow_connection(engine)
                if kept is not None:
                    try:
                        driver = PooledConnection(kept.connection, engine.dialect)
                        return _commit_after(driver, work, sqlite=True)
                    finally:
                        turn.return_connection(kept)
        # As in UnitOfWork: the pool's checkout and check-in stay outside the writer's turn.
        connection = PooledConnection(engine.raw_connection(), engine.dialect)
        try:
            with writer_turn(engine):
                return _commit_after(connection, work, sqlite=sqlite)
        finally:
            connection.connection.close()  # to the pool

    return _retried(attempt, attempts_max)


def _retried(attempt: Callable[[], T], attempts_max: int) -> T:
    """``attempt()``, again after a short random pause while it fails retryably."""
    for number in range(1, attempts_max + 1):
        try:
            return attempt()
        except DBAPIError as error:
            if number == attempts_max or not is_retryable(error):
                raise
            time.sleep(RETRY_BACKOFF_BASE_S * (2 ** min(number, 6)) * random.random())
    raise RuntimeError("unreachable: the retry loop returns or raises")


def _commit_after(
    connection: PooledConnection, work: Callable[[PooledConnection], T], *, sqlite: bool
) -> T:
    """``work`` in a transaction of its own, committed; rolled back if anything fails (before
    the caller's turn passes on: otherwise the pool would, at check-in, or never)."""
    try:
        if sqlite:  # pysqlite runs in autocommit here (see store/engine.py): we BEGIN ourselves
            run(connection, "BEGIN IMMEDIATE")
        result = work(connection)
        commit_deferred(connection)  # PostgreSQL: writes ``work`` deferred, with the COMMIT
        try:
            connection.connection.commit()
        except connection.dialect.loaded_dbapi.Error as error:
            raise wrapped(connection, "COMMIT", error) from error
        return result
    except BaseException:
        forget_deferred(connection)
        with suppress(Exception):
            connection.connection.rollback()
        raise
