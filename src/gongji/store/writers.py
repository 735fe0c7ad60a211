"""Write transactions on SQLite take turns: within a process on a lock, between processes on a
file lock beside the database.

SQLite admits one writer; the others wait in its busy handler, which sleeps 1, 2, 5, 10 … up to
100 ms between tries, however soon the lock comes free. A settlement holds the lock for about
2 ms, so with sixteen threads a writer could sleep through many turns: the slowest 1 % of
settlements took over half a second (docs/benchmarks.md). A Python lock hands over as soon as
it is released, and so, between the server processes of one database file, does ``flock`` on
``<database>-writer.lock``.

Every write unit of work holds its engine's turn from before ``BEGIN IMMEDIATE`` until after
its commit or rollback. Reentrant: a thread that opens a second write transaction inside its
first takes no new turn, and its inner transaction waits in SQLite's busy handler. The file
lock is waited for at most SQLite's busy timeout, by polling in steps of under 2 ms; past that
the writer goes on without it and SQLite's busy handler decides, so a stuck process delays
others no longer than the busy timeout would. PostgreSQL locks rows, not the database: it
takes no turns.

The turn comes with the writer's own connection (:meth:`WriterTurn.borrow_connection`), taken
from the pool once and kept checked out, for every write transaction: the units of work
(store/uow.py) and those that send only driver-level statements (the ledger's batches). Only
the turn's holder can write, so one connection serves every writer in turn. Two reasons:

- checking a connection out of the pool and back in cost a single transfer as much Python time
  as its statements, and at eight clients that time, spent while the next writer waited for
  the GIL, stretched every turn;
- SQLite empties a connection's page cache when it begins a transaction after another
  connection wrote. Writes taking turns on connections of the pool each began with a cold
  cache and read again every page they touched (the settlement's statements took 20 % longer).
  The writer's own connection wrote last itself: its cache stays warm (docs/benchmarks.md).

**Group commit.** A write that joins (``UnitOfWork(grouped=True)``: the signed writes, the
settlements among them) commits into the writer's open transaction instead of ending it: its
work becomes part of a :class:`CommitGroup`, and the turn passes on. The turn's holder commits
the group when it lets go of the turn with no writer at the door (or with the group full), and
every member learns the outcome together: one ``COMMIT``, one wait for the disk, for all of
them. A member's own work runs inside a ``SAVEPOINT`` when it joins a group already open, so a
refused member rolls back alone and the others keep theirs. A member is answered only once its
group's ``COMMIT`` is durable, as before. The file lock stays held while a group is open: no
other process writes into the middle of it. Whoever borrows the writer's connection without
joining (the ledger's batches, a write that does not wait for the disk, a write of any other
kind) commits the open group first. ``GONGJI_SQLITE_GROUP_COMMIT=0`` (:func:`set_group_commit`)
makes every write commit alone.

gongji's schema defers no constraint, so a group's ``COMMIT`` fails only for the disk's reasons
(an I/O error, a full disk), which would fail each of its members alone as well: every member
is told the error, and none of the group's work is kept.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from contextlib import AbstractContextManager, nullcontext, suppress
from types import TracebackType
from typing import Any, Final

from sqlalchemy import Connection, Engine, event

from gongji.store.engine import SQLITE_BUSY_TIMEOUT_MS, is_sqlite

try:
    import fcntl
except ImportError:  # not on Windows: writers of several processes meet in SQLite alone
    fcntl = None  # type: ignore[assignment]

LOCK_FILE_SUFFIX: Final = "-writer.lock"
GROUP_MEMBERS_MAX: Final = 32
"""Writes in one group at most: past it the group commits even with writers at the door, so
that the first member does not wait for a burst of any length."""
GROUP_WAIT_S: Final = 0.05
"""How long a member waits for its group's commit before taking the turn to commit it itself:
the holder commits when it lets the turn go, so this is a guard, not a schedule."""
_POLL_FIRST_S: Final = 0.0002
_POLL_MAX_S: Final = 0.002


class CommitGroup:
    """Writes committed into one open transaction, durable at its ``COMMIT``."""

    __slots__ = ("_done", "_error", "members")

    def __init__(self) -> None:
        self.members = 0
        self._done = threading.Event()
        self._error: BaseException | None = None

    def wait(self, turn: WriterTurn) -> None:
        """Until the group's ``COMMIT`` is durable; its error, if it failed, raised here too."""
        while not self._done.wait(GROUP_WAIT_S):
            with turn:
                turn.commit_group(self)
        if self._error is not None:
            raise self._error

    def ended(self, error: BaseException | None) -> None:
        self._error = error
        self._done.set()


class WriterTurn:
    """One engine's turn: a reentrant lock for its threads, a file lock for other processes."""

    def __init__(self, lock_path: str | None, wait_max_s: float) -> None:
        self._lock = threading.RLock()
        self._door = threading.Lock()
        self._at_door = 0  # threads asking for the turn, its holder's own re-entries included
        self._group: CommitGroup | None = None
        self.group_commit = True  # whether writes that may join a group do (set_group_commit)
        self._depth = 0
        self._lock_path = lock_path if fcntl is not None else None
        self._wait_max_s = wait_max_s
        self._fd: int | None = None
        self._fd_pid = 0
        self._holds_file = False
        self._kept: Connection | None = None
        self._kept_pid = 0
        self._lent = False

    def __enter__(self) -> WriterTurn:
        with self._door:
            self._at_door += 1
        try:
            self._lock.acquire()
        finally:
            with self._door:
                self._at_door -= 1
        if self._depth == 0 and self._lock_path is not None and not self._holds_file:
            try:
                self._holds_file = self._take_file_lock()
            except BaseException:
                self._lock.release()
                raise
        self._depth += 1
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._depth -= 1
        try:
            if self._depth == 0:
                group = self._group
                if group is not None and (self._at_door == 0 or group.members >= GROUP_MEMBERS_MAX):
                    self.commit_group(group)
                if self._holds_file and self._fd is not None and self._group is None:
                    self._holds_file = False
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._lock.release()

    @property
    def at_door(self) -> int:
        """Threads asking for the turn now (the holder's own re-entries among them)."""
        return self._at_door

    @property
    def group_open(self) -> bool:
        """Whether writes committed into the writer's transaction wait for its ``COMMIT``."""
        return self._group is not None

    def enlist(self) -> CommitGroup:
        """The holder's write, committed into the writer's open transaction, joins its group."""
        group = self._group
        if group is None:
            group = self._group = CommitGroup()
        group.members += 1
        return group

    def commit_group(self, group: CommitGroup | None = None) -> None:
        """For the holder of the turn: commit the open group (only ``group``, if named, and
        only while it is the one open), and tell its members."""
        open_group = self._group
        if open_group is None or (group is not None and group is not open_group):
            return
        self._group = None
        kept, error = self._kept, None
        try:
            if kept is None or self._lent:
                raise RuntimeError("the writer's connection was lost before its group's COMMIT")
            kept.commit()
        except BaseException as failure:
            error = failure
            if kept is not None and not self._lent:
                with suppress(Exception):
                    kept.rollback()  # Core's bookkeeping; a COMMIT SQLite refused stays open:
                with suppress(Exception):
                    kept.connection.rollback()  # the driver ends it
        open_group.ended(error)

    def borrow_connection(self, engine: Engine, *, joining: bool = False) -> Connection | None:
        """The writer's own connection, for the holder of the turn; taken from the pool on first
        use and kept checked out. Outside any transaction, unless ``joining`` a group open in it
        (:attr:`group_open`): a borrower that does not join commits the group first. None while
        it is lent already (a write transaction nested in another): the caller then takes one
        from the pool. Give it back with :meth:`return_connection`, after its commit or
        rollback."""
        if self._lent:
            return None
        if not joining:
            self.commit_group()
        kept = self._kept
        if kept is None or self._kept_pid != _pid:  # a forked child must not share a connection
            kept = self._kept = engine.connect()
            self._kept_pid = _pid
        self._lent = True
        return kept

    def return_connection(self, connection: Connection) -> None:
        """Back from a transaction. One that was lost (invalidated, by Core or at the driver's
        level: its DB-API connection is closed) goes back to the pool, and the next holder
        takes a new one."""
        self._lent = False
        if connection.invalidated or not connection.connection.is_valid:
            self._kept = None
            connection.close()

    def close_connection(self) -> None:
        """Close the writer's connection (the engine is disposed of), unless it is lent; a group
        open in it is committed first."""
        with self._lock:
            if not self._lent:
                self.commit_group()
        kept = self._kept
        if kept is None or self._lent:
            return
        self._kept = None
        if self._kept_pid == _pid:
            kept.invalidate()  # closes it; a disposed pool would only keep it
            kept.close()

    def _take_file_lock(self) -> bool:
        """True once held; False if it stayed taken for ``wait_max_s`` (SQLite decides then)."""
        fd = self._file()
        deadline = time.monotonic() + self._wait_max_s
        pause = _POLL_FIRST_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(pause)
                pause = min(pause * 2, _POLL_MAX_S)

    def _file(self) -> int:
        """The lock file, opened once per process (a forked child must not share the parent's
        open file: ``flock`` would count them as one holder)."""
        if self._fd is None or self._fd_pid != _pid:
            assert self._lock_path is not None
            self._fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._fd_pid = _pid
        return self._fd


_pid = os.getpid()
"""This process's id, kept current across ``fork``, so that a turn asks the kernel nothing it
need not: ``getpid`` on every turn stood out in profiles of eight writing threads."""


def _after_fork_in_child() -> None:
    global _pid
    _pid = os.getpid()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

_TURNS: weakref.WeakKeyDictionary[Engine, WriterTurn] = weakref.WeakKeyDictionary()
_TURNS_GUARD = threading.Lock()


def writer_turn(engine: Engine) -> AbstractContextManager[Any]:
    """What a write transaction on ``engine`` holds around itself (nothing on PostgreSQL)."""
    if not is_sqlite(engine):
        return nullcontext()
    return sqlite_writer_turn(engine)


def set_group_commit(engine: Engine, enabled: bool) -> None:
    """Whether grouped writes on ``engine`` join the writer's commit group (SQLite only)."""
    if is_sqlite(engine):
        sqlite_writer_turn(engine).group_commit = enabled


def sqlite_writer_turn(engine: Engine) -> WriterTurn:
    """The turn of a SQLite engine's writers, one per engine."""
    with _TURNS_GUARD:
        turn = _TURNS.get(engine)
        if turn is None:
            database = engine.url.database
            lock_path = f"{database}{LOCK_FILE_SUFFIX}" if database else None
            turn = _TURNS[engine] = WriterTurn(lock_path, SQLITE_BUSY_TIMEOUT_MS / 1000)
            event.listen(engine, "engine_disposed", lambda _engine: turn.close_connection())
    return turn
