"""The hot path through the DB-API cursor (store/raw.py, ledger/driver.py) and the idle-only ping.

A statement sent past SQLAlchemy must still fail the way one sent through it does (a
SQLAlchemy ``DBAPIError`` that ``run_in_transaction`` recognises), or retries and callers
change behaviour. A PostgreSQL connection that died while idle must be replaced, not handed out.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from conftest import PG_URL, PostgresSchema, require_postgres, sqlite_url
from gongji.core.clock import ManualClock
from gongji.ledger import driver
from gongji.ledger.book import Ledger
from gongji.ledger.types import CreateTransferResult, NewAccount, Transfer
from gongji.store import engine as engine_module
from gongji.store.engine import make_engine
from gongji.store.migrate import upgrade
from gongji.store.raw import PooledConnection, query, run
from gongji.store.uow import UnitOfWork, is_retryable, run_on_driver_connection
from gongji.store.writers import LOCK_FILE_SUFFIX, sqlite_writer_turn, writer_turn

R = CreateTransferResult


def _ledger_with_one_transfer(engine: Engine, clock: ManualClock) -> Ledger:
    ledger = Ledger(engine, clock)
    accounts = [NewAccount("a", 1, 1), NewAccount("b", 1, 1)]
    assert [str(r) for r in ledger.create_accounts(accounts)] == ["ok", "ok"]
    assert ledger.create_transfers([Transfer("t1", "a", "b", 7, 1, 1)]) == [R.OK]
    return ledger


def test_a_driver_error_arrives_as_sqlalchemys_and_changes_nothing(
    engine: Engine, clock: ManualClock
) -> None:
    ledger = _ledger_with_one_transfer(engine, clock)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, num FROM ledger_accounts"))
        nums = {id_: num for id_, num in rows}
    duplicate = ("t1", nums["a"], nums["b"], 5, None, 1, 1, 0, None, None, 1)
    with pytest.raises(IntegrityError) as caught, UnitOfWork(engine) as uow:
        driver.write_batch(uow.connection, [duplicate], [], [(nums["a"], 0, 12, 0, 0)])
        uow.commit()
    assert isinstance(caught.value, DBAPIError)
    assert is_retryable(caught.value)  # a racing writer's id: the retry answers "exists"
    assert ledger.lookup_accounts(["a"])["a"].debits_posted == 7
    assert ledger.transfer_count() == 1


def test_work_on_a_driver_connection_that_fails_changes_nothing(
    engine: Engine, clock: ManualClock
) -> None:
    ledger = _ledger_with_one_transfer(engine, clock)

    def work(connection: PooledConnection) -> None:
        run(connection, "UPDATE ledger_accounts SET debits_posted = 99 WHERE id = 'a'")
        raise RuntimeError("after a write")

    with pytest.raises(RuntimeError):
        run_on_driver_connection(engine, work)
    assert ledger.lookup_accounts(["a"])["a"].debits_posted == 7
    # The connection was left outside any transaction (on SQLite the writer's own, which the
    # next write uses): the next write commits and nothing of the failed one comes with it.
    assert ledger.create_transfers([Transfer("t2", "a", "b", 1, 1, 1)]) == [R.OK]
    assert ledger.lookup_accounts(["a"])["a"].debits_posted == 8


def test_work_on_a_driver_connection_runs_again_after_a_conflict(
    engine: Engine, clock: ManualClock
) -> None:
    ledger = _ledger_with_one_transfer(engine, clock)
    attempts: list[int] = []

    def work(connection: PooledConnection) -> int:
        attempts.append(len(attempts) + 1)
        run(connection, f"UPDATE ledger_accounts SET ref = 'attempt {len(attempts)}'")
        if len(attempts) == 1:  # what a racing writer's id looks like
            run(
                connection,
                "INSERT INTO ledger_accounts (id, ledger, code, region, flags,"
                " debits_pending, debits_posted, credits_pending, credits_posted, timestamp_us)"
                " VALUES ('b', 1, 1, '', 0, 0, 0, 0, 0, 0)",
            )
        return len(attempts)

    assert run_on_driver_connection(engine, work) == 2
    assert {a.ref for a in ledger.lookup_accounts(["a", "b"]).values()} == {"attempt 2"}


def test_a_batch_is_recorded_in_its_order(engine: Engine, clock: ManualClock) -> None:
    ledger = _ledger_with_one_transfer(engine, clock)
    ids = [f"z{n:02d}" if n % 2 else f"a{n:02d}" for n in range(40)]
    batch = [Transfer(i, "a", "b", 1, 1, 1) for i in ids]
    assert ledger.create_transfers(batch) == [R.OK] * len(batch)
    history = ledger.account_history("b", limit=100).transfers
    assert [t.id for t in history] == ["t1", *ids]
    assert ledger.lookup_accounts(["b"])["b"].credits_posted == 7 + 40


def _select_through_core(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def _select_through_a_driver_connection(engine: Engine) -> None:
    """The ledger's own batches run on a DB-API connection, not Core's."""
    run_on_driver_connection(engine, lambda connection: run(connection, "SELECT 1"))


@pytest.mark.postgres
@pytest.mark.parametrize("ping_after_idle_s", [0.0, 3600.0])
@pytest.mark.parametrize("use", [_select_through_core, _select_through_a_driver_connection])
def test_a_connection_that_died_idle(
    pg_schema: PostgresSchema,
    monkeypatch: pytest.MonkeyPatch,
    ping_after_idle_s: float,
    use: Callable[[Engine], None],
) -> None:
    """Idle past the limit: pinged and replaced. Used a moment ago: not pinged, so the dead
    connection fails its transaction (as it could between a ping and the query anyway), is
    invalidated, and the next transaction gets a live one."""
    require_postgres()
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_S", ping_after_idle_s)
    engine = pg_schema.engine(pool_size=1)
    try:
        upgrade(engine)
        with engine.connect() as connection:
            pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            # With a timeout, pg_terminate_backend waits until the backend is gone.
            stopped = text("SELECT pg_terminate_backend(:pid, 5000)")
            assert connection.execute(stopped, {"pid": pid}).scalar_one()
        admin.dispose()
        if ping_after_idle_s > 0:
            with pytest.raises(DBAPIError) as caught:
                use(engine)
            assert caught.value.connection_invalidated
        use(engine)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
    finally:
        engine.dispose()


def test_sqlite_writers_of_a_process_take_turns_and_readers_do_not_wait(
    engine: Engine, clock: ManualClock
) -> None:
    """On SQLite a second writer queues on the process's writer lock (not in SQLite's sleeping
    busy handler) until the first one leaves; a reader never queues. PostgreSQL: no queue."""
    _ledger_with_one_transfer(engine, clock)
    order: list[str] = []
    first_in = threading.Event()

    def second_writer() -> None:
        first_in.wait()
        with UnitOfWork(engine):
            order.append("second writer in")

    thread = threading.Thread(target=second_writer)
    thread.start()
    with UnitOfWork(engine):
        first_in.set()
        thread.join(timeout=0.3)  # the second writer waits (on SQLite) while we hold the turn
        with UnitOfWork(engine, read_only=True) as reader:
            reader.connection.execute(text("SELECT 1"))
            order.append("reader done")
        order.append("first writer out")
    thread.join()
    if engine.dialect.name == "sqlite":
        assert order == ["reader done", "first writer out", "second writer in"]
    else:
        assert order == ["second writer in", "reader done", "first writer out"]


def test_sqlite_writers_of_two_processes_take_turns_on_the_file_lock(tmp_path: Path) -> None:
    """Two engines on one file stand for two server processes: the second one's writer waits
    on ``<database>-writer.lock`` (``flock``) while the first holds its turn, even before the
    first has begun a transaction (so it is the file lock, not SQLite's, that it waits for)."""
    url = sqlite_url(tmp_path)
    first, second = make_engine(url), make_engine(url)
    try:
        upgrade(first)
        order: list[str] = []
        first_in = threading.Event()

        def second_process_writer() -> None:
            first_in.wait()
            with UnitOfWork(second):
                order.append("second in")

        thread = threading.Thread(target=second_process_writer)
        thread.start()
        with writer_turn(first):
            first_in.set()
            thread.join(timeout=0.3)
            order.append("first out")
        thread.join()
        assert order == ["first out", "second in"]
        assert Path(f"{first.url.database}{LOCK_FILE_SUFFIX}").exists()
    finally:
        first.dispose()
        second.dispose()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_a_forked_child_takes_its_turns_on_a_lock_file_of_its_own(tmp_path: Path) -> None:
    """A child forked from a process that has taken turns must open the lock file again: on
    the parent's open file, ``flock`` would count parent and child as one holder."""
    engine = make_engine(sqlite_url(tmp_path))
    released = tmp_path / "child-released"
    with writer_turn(engine):  # the parent opens the lock file before it forks
        pass
    held_read, held_write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child's outcome is read by the parent
        try:
            with writer_turn(engine):
                os.write(held_write, b"held")
                time.sleep(0.3)
                released.touch()
        finally:
            os._exit(0)
    try:
        assert os.read(held_read, 4) == b"held"
        with writer_turn(engine):
            assert released.exists()  # the parent's turn came only after the child's ended
    finally:
        os.waitpid(child, 0)
        os.close(held_read)
        os.close(held_write)
        engine.dispose()


def test_a_unit_of_work_that_need_not_be_durable_leaves_the_pool_durable(
    engine: Engine, tmp_path: Path
) -> None:
    """``durable=False`` relaxes that one commit (SQLite ``synchronous`` 1 instead of 2,
    PostgreSQL ``synchronous_commit`` off) and hands the connection back as it found it."""
    if engine.dialect.name == "sqlite":
        engine = make_engine(sqlite_url(tmp_path), pool_size=1)  # one connection, reused
        setting, relaxed, durable = "PRAGMA synchronous", 1, 2
    else:
        setting, relaxed, durable = "SHOW synchronous_commit", "off", "on"
    try:
        with UnitOfWork(engine, durable=False) as uow:
            assert query(uow.connection, setting)[0][0] == relaxed
            uow.commit()
        with UnitOfWork(engine, durable=False) as uow:
            pass  # rolled back: restored all the same
        with UnitOfWork(engine) as uow:
            assert query(uow.connection, setting)[0][0] == durable
    finally:
        if engine.dialect.name == "sqlite":
            engine.dispose()


def _driver_connection_of(engine: Engine) -> object:
    """The DB-API connection a driver-level write transaction ran on."""
    return run_on_driver_connection(
        engine, lambda connection: connection.connection.dbapi_connection
    )


def _unit_of_work_connection_of(engine: Engine, *, read_only: bool = False) -> object:
    """The DB-API connection a unit of work ran on."""
    with UnitOfWork(engine, read_only=read_only) as uow:
        dbapi_connection = uow.connection.connection.dbapi_connection
        if not read_only:
            run(uow.connection, "UPDATE ledger_accounts SET ref = NULL WHERE id = 'none'")
            uow.commit()
    return dbapi_connection


def test_sqlite_writes_on_the_writers_own_connection(tmp_path: Path) -> None:
    """Every write transaction of a SQLite engine, a unit of work or a driver-level one, runs on
    the one connection that comes with the writer's turn, from any thread, so SQLite finds its
    pages still cached (a connection that did not write last begins with its cache emptied).
    Reads take connections from the pool; a transaction nested in another finds the writer's
    lent."""
    engine = make_engine(sqlite_url(tmp_path))
    try:
        upgrade(engine)
        first = _unit_of_work_connection_of(engine)
        seen: list[object] = []
        thread = threading.Thread(target=lambda: seen.append(_unit_of_work_connection_of(engine)))
        thread.start()
        thread.join()
        assert seen == [first]
        assert _driver_connection_of(engine) is first
        with UnitOfWork(engine) as outer:
            assert outer.connection.connection.dbapi_connection is first
            with writer_turn(engine):  # same thread: reentrant, and the connection is lent
                assert sqlite_writer_turn(engine).borrow_connection(engine) is None
            outer.commit()
        assert _unit_of_work_connection_of(engine, read_only=True) is not first
        with pytest.raises(RuntimeError), UnitOfWork(engine, durable=False) as uow:
            run(uow.connection, "UPDATE ledger_accounts SET ref = 'x' WHERE id = 'none'")
            raise RuntimeError("rolled back")
        assert _unit_of_work_connection_of(engine) is first
        with UnitOfWork(engine) as uow:  # given back durable as the pool's connections are
            assert query(uow.connection, "PRAGMA synchronous")[0][0] == 2  # FULL

        def nested(connection: PooledConnection) -> object:
            with writer_turn(engine):
                assert sqlite_writer_turn(engine).borrow_connection(engine) is None
            return connection.connection.dbapi_connection

        assert run_on_driver_connection(engine, nested) is first
    finally:
        engine.dispose()


def _lost_in_a_unit_of_work(engine: Engine) -> None:
    with pytest.raises(RuntimeError), UnitOfWork(engine) as uow:
        run(uow.connection, "UPDATE ledger_accounts SET ref = 'lost' WHERE id = 'a'")
        uow.connection.invalidate(RuntimeError("gone"))  # what Core does with a lost connection
        raise RuntimeError("the connection was lost")


def _lost_at_the_drivers_level(engine: Engine) -> None:
    def lose_it(connection: PooledConnection) -> None:
        run(connection, "UPDATE ledger_accounts SET ref = 'lost' WHERE id = 'a'")
        connection.invalidate(RuntimeError("gone"))  # what a driver error found lost does
        raise RuntimeError("the connection was lost")

    with pytest.raises(RuntimeError):
        run_on_driver_connection(engine, lose_it)


@pytest.mark.parametrize("lose", [_lost_in_a_unit_of_work, _lost_at_the_drivers_level])
def test_sqlite_writers_connection_is_replaced_when_lost_and_closed_on_dispose(
    tmp_path: Path, clock: ManualClock, lose: Callable[[Engine], None]
) -> None:
    engine = make_engine(sqlite_url(tmp_path))
    try:
        upgrade(engine)
        ledger = _ledger_with_one_transfer(engine, clock)
        lost = _driver_connection_of(engine)
        lose(engine)
        replacement = _unit_of_work_connection_of(engine)
        assert replacement is not lost
        assert _driver_connection_of(engine) is replacement
        assert ledger.create_transfers([Transfer("t2", "a", "b", 1, 1, 1)]) == [R.OK]
        assert ledger.lookup_accounts(["a"])["a"].ref is None  # the lost write is not there
    finally:
        engine.dispose()
    with pytest.raises(sqlite3.ProgrammingError):  # dispose closed the writer's connection
        replacement.execute("SELECT 1")  # type: ignore[attr-defined]
