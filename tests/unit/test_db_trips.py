"""Round trips counted at the DB-API level (sim/db_trips.py), on a SQLite file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from gongji.sim.db_trips import (
    BEGINS,
    COMMITS,
    PIPELINED,
    PIPELINES,
    ROLLBACKS,
    STATEMENTS,
    TripCounter,
    count_trips,
    read_counts,
    trips_of,
)
from gongji.store import raw
from gongji.store.engine import make_engine
from gongji.store.uow import UnitOfWork, run_in_transaction


@pytest.fixture
def counted(tmp_path: Path) -> Iterator[tuple[Engine, TripCounter]]:
    """A SQLite file with a table ``t``, its engine counting into a counter."""
    engine = make_engine(f"sqlite:///{tmp_path / 'trips.db'}")
    counter = TripCounter()
    count_trips(engine, counter)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
    yield engine, counter
    engine.dispose()


def test_raw_statements_begins_and_commits_are_counted(
    counted: tuple[Engine, TripCounter],
) -> None:
    engine, counter = counted
    start = counter.counts()

    def write(uow: UnitOfWork) -> None:
        connection = uow.connection
        raw.execute(connection, "INSERT INTO t (id) VALUES (:id)", {"id": 1})
        raw.execute(connection, "INSERT INTO t (id) VALUES (:id)", {"id": 2})
        uow.commit()

    run_in_transaction(engine, write)
    end = counter.counts()
    delta = [b - a for a, b in zip(start, end, strict=True)]
    # BEGIN IMMEDIATE is sent by the code as a statement on SQLite; the two INSERTs; one COMMIT
    assert delta[STATEMENTS] == 3 and delta[BEGINS] == 0
    assert delta[COMMITS] == 1 and delta[ROLLBACKS] == 0
    assert counter.trips == trips_of(end) == sum(end)  # nothing pipelined on SQLite


def test_sqlite_hands_out_the_drivers_own_cursors_and_counts_each_opened(
    counted: tuple[Engine, TripCounter],
) -> None:
    """No proxy per statement on SQLite (it cost more than the statements it counted): each
    cursor opened is one statement, an ``executemany`` and a Core statement included."""
    engine, counter = counted
    with engine.begin() as connection:
        start = counter.counts()
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        assert type(cursor) is sqlite3.Cursor
        cursor.close()
        raw.execute_many(connection, "INSERT INTO t (id) VALUES (:id)", [{"id": 1}, {"id": 2}])
        connection.execute(text("SELECT count(*) FROM t")).scalar_one()
        end = counter.counts()
    assert end[STATEMENTS] - start[STATEMENTS] == 3


def test_counts_in_a_file_are_read_by_another_reader(tmp_path: Path) -> None:
    path = tmp_path / "123.trips"
    counter = TripCounter(path)
    for _ in range(5):
        counter.add(STATEMENTS)
    counter.add(COMMITS)
    counter.add(PIPELINES)
    counter.add(PIPELINED)
    counter.add(PIPELINED)
    assert read_counts(path) == (5, 0, 1, 0, 1, 2)
    assert trips_of(read_counts(path)) == 7  # a pipeline's statements are not trips
    assert read_counts(tmp_path / "missing.trips") == (0,) * 6
