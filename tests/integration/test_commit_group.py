"""SQLite's commit group (store/writers.py): writes arriving together share one COMMIT, a
refused member rolls back alone, a failed COMMIT fails every member, a writer that does not
join commits the open group first, and nobody is answered before the disk has the group."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from gongji.sim.db_trips import COMMITS, TripCounter, count_trips
from gongji.store.engine import make_engine
from gongji.store.raw import query, run
from gongji.store.uow import UnitOfWork, run_in_transaction
from gongji.store.writers import set_group_commit, sqlite_writer_turn


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[tuple[Engine, TripCounter]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'group.db'}")
    counter = TripCounter()
    count_trips(engine, counter)
    with engine.begin() as connection:
        run(connection, "CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        run(connection, "CREATE TABLE row (id TEXT PRIMARY KEY, by TEXT NOT NULL)")
        run(
            connection,
            "CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parent (id)"
            " DEFERRABLE INITIALLY DEFERRED)",
        )
    yield engine, counter
    engine.dispose()


def _insert(row_id: str, by: str) -> Callable[[UnitOfWork], str]:
    def work(uow: UnitOfWork) -> str:
        run(uow.connection, "INSERT INTO row (id, by) VALUES (:id, :by)", {"id": row_id, "by": by})
        uow.commit()
        return row_id

    return work


def _write_together(engine: Engine, threads: int, each: int) -> None:
    """``threads`` threads each making ``each`` grouped writes, one after the other."""

    def writer(number: int) -> None:
        for i in range(each):
            run_in_transaction(engine, _insert(f"w{number}-{i}", f"w{number}"), grouped=True)

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()


def _rows(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return {row[0] for row in query(connection, "SELECT id FROM row")}


def _at_the_door(engine: Engine, writers: int = 1) -> None:
    """Until ``writers`` threads wait for the writer's turn."""
    turn = sqlite_writer_turn(engine)
    deadline = time.monotonic() + 10
    while turn.at_door < writers:
        assert time.monotonic() < deadline, "nobody came to the door"
        time.sleep(0.001)


def _first_member_keeping_the_group_open(
    engine: Engine, joiner_started: threading.Event, answered_after: list[bool]
) -> threading.Thread:
    """A grouped write that commits once another writer waits at the door (so the group stays
    open when it lets the turn go), and notes whether it was answered only after the other's
    work began."""

    def work(uow: UnitOfWork) -> str:
        run(uow.connection, "INSERT INTO row (id, by) VALUES ('first', 'first')")
        _at_the_door(engine)
        uow.commit()
        return "first"

    def first() -> None:
        run_in_transaction(engine, work, grouped=True)
        answered_after.append(joiner_started.is_set())

    thread = threading.Thread(target=first)
    thread.start()
    return thread


def test_writes_arriving_together_share_commits_and_all_are_kept(
    scratch: tuple[Engine, TripCounter],
) -> None:
    engine, counter = scratch
    threads, each = 8, 25
    commits_before = counter.counts()[COMMITS]

    _write_together(engine, threads, each)
    assert _rows(engine) == {f"w{n}-{i}" for n in range(threads) for i in range(each)}
    commits = counter.counts()[COMMITS] - commits_before
    assert commits < threads * each  # groups of more than one write each, on average


def test_a_refused_member_rolls_back_alone_and_the_first_is_answered_after_the_group(
    scratch: tuple[Engine, TripCounter],
) -> None:
    engine, _ = scratch
    joiner_started, answered_after = threading.Event(), []
    first = _first_member_keeping_the_group_open(engine, joiner_started, answered_after)

    def refused(uow: UnitOfWork) -> None:
        joiner_started.set()
        run(uow.connection, "INSERT INTO row (id, by) VALUES ('refused', 'second')")
        raise LookupError("refused")

    with pytest.raises(LookupError):
        run_in_transaction(engine, refused, grouped=True)
    first.join()
    assert _rows(engine) == {"first"}
    assert answered_after == [True]


def test_a_failed_commit_fails_every_member_and_keeps_nothing(
    scratch: tuple[Engine, TripCounter],
) -> None:
    engine, _ = scratch
    failures: list[BaseException] = []

    def first_orphan(uow: UnitOfWork) -> None:  # refused at COMMIT: no parent 7
        run(uow.connection, "INSERT INTO row (id, by) VALUES ('orphan', 'first')")
        run(uow.connection, "INSERT INTO child (id, parent) VALUES (1, 7)")
        _at_the_door(engine)
        uow.commit()

    def first() -> None:
        try:
            run_in_transaction(engine, first_orphan, grouped=True)
        except IntegrityError as error:
            failures.append(error)

    thread = threading.Thread(target=first)
    thread.start()
    with pytest.raises(IntegrityError):
        run_in_transaction(engine, _insert("second", "second"), grouped=True)
    thread.join()
    assert len(failures) == 1  # the first member was told too
    assert _rows(engine) == set()
    run_in_transaction(engine, _insert("after", "third"), grouped=True)  # the writer goes on
    assert _rows(engine) == {"after"}


def test_a_write_that_does_not_join_commits_the_open_group_first(
    scratch: tuple[Engine, TripCounter],
) -> None:
    engine, _ = scratch
    joiner_started, answered_after = threading.Event(), []
    first = _first_member_keeping_the_group_open(engine, joiner_started, answered_after)
    seen_committed: list[set[str]] = []

    def alone(uow: UnitOfWork) -> None:
        joiner_started.set()
        seen_committed.append(_rows(engine))  # another connection: what is committed
        run(uow.connection, "INSERT INTO row (id, by) VALUES ('alone', 'not grouped')")
        uow.commit()

    run_in_transaction(engine, alone)  # a durable write of any other kind
    first.join()
    assert seen_committed == [{"first"}]
    assert _rows(engine) == {"first", "alone"}
    assert len(answered_after) == 1


def test_with_group_commit_off_every_write_commits_alone(
    scratch: tuple[Engine, TripCounter],
) -> None:
    engine, counter = scratch
    set_group_commit(engine, False)
    threads, each = 4, 10
    commits_before = counter.counts()[COMMITS]

    _write_together(engine, threads, each)
    assert len(_rows(engine)) == threads * each
    assert counter.counts()[COMMITS] - commits_before == threads * each
