"""Fewer round trips on PostgreSQL (store/raw.py): reads made ahead in one trip, writes deferred
to the next statement that answers or to the COMMIT, the transaction's BEGIN sent with its
first reads. On both databases the answers and what is committed must be exactly what the
same statements sent one by one give; on PostgreSQL the trips are counted (sim/db_trips.py),
and the count is checked against what the server answered (libpq's trace): psycopg's own
BEGIN, which it waits for, was a trip the count once left out."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from conftest import PostgresSchema, require_postgres, sqlite_url
from gongji.sim.db_trips import PIPELINED, PIPELINES, TripCounter, count_trips, trips_of
from gongji.store import raw
from gongji.store.engine import make_engine
from gongji.store.uow import UnitOfWork, run_in_transaction, run_on_driver_connection

_ALL = "SELECT id, note FROM t ORDER BY id"
_ONE = "SELECT note FROM t WHERE id = :id"
_INSERT = "INSERT INTO t (id, note) VALUES (:id, :note)"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def counted(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, TripCounter]]:
    """An engine on a store with one small table ``t``, counting its round trips."""
    schema = None
    if request.param == "sqlite":
        engine = make_engine(sqlite_url(tmp_path))
    else:
        require_postgres()
        schema = PostgresSchema()
        engine = schema.engine()
    counter = TripCounter()
    count_trips(engine, counter)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, note VARCHAR(20))"))
        connection.execute(text("INSERT INTO t (id, note) VALUES (1, 'one'), (2, 'two')"))
    try:
        yield engine, counter
    finally:
        engine.dispose()
        if schema is not None:
            schema.drop()


def _postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def _rows(engine: Engine) -> list[tuple[int, str]]:
    with engine.connect() as connection:
        return [(int(r[0]), str(r[1])) for r in connection.execute(text(_ALL))]


def test_reads_made_ahead_answer_as_the_same_reads_sent_one_by_one(
    counted: tuple[Engine, TripCounter],
) -> None:
    engine, counter = counted

    def work(uow: UnitOfWork) -> list[object]:
        c = uow.connection
        uow.prefetch([(_ONE, {"id": 1}), (_ONE, {"id": 2}), (_ONE, {"id": 3})])
        return [raw.fetch(c, _ONE, {"id": n}) for n in (2, 1, 3)]  # any order

    before = counter.counts()
    two, one, none = run_in_transaction(engine, work, read_only=True)
    after = counter.counts()
    assert [tuple(r) for r in two] == [("two",)] and [tuple(r) for r in one] == [("one",)]
    assert list(none) == []
    if _postgres(engine):  # three reads in one trip; a read has no BEGIN nor ROLLBACK
        delta = tuple(b - a for a, b in zip(before, after, strict=True))
        assert delta[PIPELINES] == 1 and delta[PIPELINED] == 3
        assert trips_of(delta) == 1


def test_reads_in_the_driver_paramstyle_made_ahead_answer_as_sent_one_by_one(
    counted: tuple[Engine, TripCounter],
) -> None:
    """The ledger's reads (``?`` / ``%s``, positional) are read ahead beside the named ones."""
    engine, counter = counted
    mark = "?" if engine.dialect.name == "sqlite" else "%s"
    by_id = f"SELECT note FROM t WHERE id IN ({mark}, {mark}) ORDER BY id"

    def work(uow: UnitOfWork) -> list[object]:
        c = uow.connection
        uow.prefetch([(_ONE, {"id": 1}), (by_id, [1, 2]), (by_id, [2, 3])])
        return [
            raw.query_read(c, by_id, [2, 3]),
            raw.fetch(c, _ONE, {"id": 1}),
            raw.query_read(c, by_id, [1, 2]),
            raw.query_read(c, by_id, [1, 3]),  # not read ahead: asked now
        ]

    before = counter.counts()
    two, one, both, one_again = run_in_transaction(engine, work, read_only=True)
    after = counter.counts()
    assert [tuple(r) for r in two] == [("two",)] and [tuple(r) for r in one] == [("one",)]  # type: ignore[attr-defined]
    assert [tuple(r) for r in both] == [("one",), ("two",)]  # type: ignore[attr-defined]
    assert [tuple(r) for r in one_again] == [("one",)]  # type: ignore[attr-defined]
    if _postgres(engine):  # three reads in one trip; the fourth alone
        delta = tuple(b - a for a, b in zip(before, after, strict=True))
        assert delta[PIPELINES] == 2 and delta[PIPELINED] == 4
        assert trips_of(delta) == 2


def test_a_read_on_postgresql_is_one_trip_a_statement(counted: tuple[Engine, TripCounter]) -> None:
    """Two reads through Core: on PostgreSQL, no BEGIN before them nor ROLLBACK after them
    (psycopg waited for each, a trip apiece: four trips before)."""
    engine, counter = counted

    def work(uow: UnitOfWork) -> list[object]:
        return [uow.connection.execute(text(_ALL)).all(), uow.connection.execute(text(_ALL)).all()]

    before = counter.trips
    first, second = run_in_transaction(engine, work, read_only=True)
    assert first == second and [tuple(r) for r in first] == [(1, "one"), (2, "two")]  # type: ignore[attr-defined]
    if _postgres(engine):
        assert counter.trips - before == 2


def test_a_write_after_a_read_on_the_same_connection_is_one_transaction_again() -> None:
    """A read leaves its pooled connection as it found it: the next write on that very
    connection (a pool of one) is one transaction, so a failure rolls back what it wrote."""
    require_postgres()
    schema = PostgresSchema()
    engine = schema.engine(pool_size=1)
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, note VARCHAR(20))"))
        run_in_transaction(engine, lambda uow: raw.fetch(uow.connection, _ALL, {}), read_only=True)

        def write_then_fail(uow: UnitOfWork) -> None:
            raw.execute(uow.connection, _INSERT, {"id": 1, "note": "lost"})
            uow.connection.execute(text("SELECT 1")).all()  # the insert has reached the server
            raise RuntimeError("refused after writing")

        with pytest.raises(RuntimeError):
            run_in_transaction(engine, write_then_fail)
        assert _rows(engine) == []
    finally:
        engine.dispose()
        schema.drop()


def test_a_read_sees_what_was_committed_before_each_statement_on_postgresql(
    counted: tuple[Engine, TripCounter],
) -> None:
    """As under READ COMMITTED inside a transaction: a commit between two statements of a read
    shows in the second. SQLite reads in one snapshot, as before."""
    engine, _ = counted

    def work(uow: UnitOfWork) -> list[object]:
        first = uow.connection.execute(text(_ALL)).all()
        run_in_transaction(engine, _insert_three)  # another transaction commits meanwhile
        return [first, uow.connection.execute(text(_ALL)).all()]

    first, second = run_in_transaction(engine, work, read_only=True)
    assert [tuple(r) for r in first] == [(1, "one"), (2, "two")]  # type: ignore[attr-defined]
    seen = [tuple(r) for r in second]  # type: ignore[attr-defined]
    if _postgres(engine):
        assert seen == [(1, "one"), (2, "two"), (3, "three")]
    else:
        assert seen == [(1, "one"), (2, "two")]  # one snapshot


def _insert_three(uow: UnitOfWork) -> None:
    raw.execute(uow.connection, _INSERT, {"id": 3, "note": "three"})
    uow.commit()


def test_a_write_drops_what_was_read_ahead(counted: tuple[Engine, TripCounter]) -> None:
    engine, _ = counted

    def work(uow: UnitOfWork) -> object:
        c = uow.connection
        uow.prefetch([(_ALL, {})])
        raw.execute(c, _INSERT, {"id": 3, "note": "three"})
        seen = raw.fetch(c, _ALL, {})
        uow.commit()
        return seen

    seen = run_in_transaction(engine, work)
    assert [tuple(r) for r in seen] == [(1, "one"), (2, "two"), (3, "three")]  # type: ignore[attr-defined]


def test_a_write_that_keeps_the_reads_leaves_what_was_read_ahead(
    counted: tuple[Engine, TripCounter],
) -> None:
    """A write to rows no read ahead shows (a request's nonce) leaves the answers read ahead for
    the code about to ask: they are what it would have read, and cost no trip."""
    engine, counter = counted

    def work(uow: UnitOfWork) -> tuple[object, int]:
        c = uow.connection
        uow.defer_writes()
        uow.prefetch([(_ONE, {"id": 1})])
        raw.execute(c, _INSERT, {"id": 3, "note": "three"}, keeps_reads=True)
        before = counter.trips
        seen = raw.fetch(c, _ONE, {"id": 1})
        asked = counter.trips - before
        uow.commit()
        return seen, asked

    seen, asked = run_in_transaction(engine, work)
    assert [tuple(r) for r in seen] == [("one",)]  # type: ignore[attr-defined]
    assert asked == (0 if _postgres(engine) else 1)  # PostgreSQL: the answer read ahead
    assert _rows(engine) == [(1, "one"), (2, "two"), (3, "three")]


def test_a_read_forgotten_is_made_again_and_sees_the_write_that_kept_the_others(
    counted: tuple[Engine, TripCounter],
) -> None:
    """A write that keeps what was read ahead, but changes one of those answers: its caller
    forgets that one (``uow.forget_read``), which is read again and sees the write; the others
    are still answered from what was read ahead."""
    engine, counter = counted
    everything = (_ALL, {})

    def work(uow: UnitOfWork) -> tuple[object, object, int]:
        c = uow.connection
        uow.prefetch([everything, (_ONE, {"id": 1})])
        raw.execute(c, _INSERT, {"id": 3, "note": "three"}, keeps_reads=True)
        uow.forget_read(everything)
        uow.forget_read((_ONE, {"id": 9}))  # never read ahead: nothing to forget
        before = counter.trips
        one = raw.fetch(c, _ONE, {"id": 1})
        kept = counter.trips - before
        return one, raw.fetch(c, *everything), kept

    one, every, kept = run_in_transaction(engine, work)
    assert [tuple(r) for r in one] == [("one",)]  # type: ignore[attr-defined]
    assert [tuple(r) for r in every] == [(1, "one"), (2, "two"), (3, "three")]  # type: ignore[attr-defined]
    assert kept == (0 if _postgres(engine) else 1)  # PostgreSQL: still the answer read ahead


def test_a_read_already_made_ahead_is_not_made_again(counted: tuple[Engine, TripCounter]) -> None:
    """Reads made ahead a second time, with others or alone, go only where still unanswered:
    the two steps that each read ahead what they will ask share one trip."""
    engine, counter = counted
    with UnitOfWork(engine) as uow:
        c = uow.connection
        uow.prefetch([(_ONE, {"id": 1}), (_ONE, {"id": 2})])
        before = counter.counts()
        uow.prefetch([(_ONE, {"id": 1}), (_ONE, {"id": 2})])
        again = counter.counts()
        uow.prefetch([(_ONE, {"id": 2}), (_ALL, {})])
        after = counter.counts()
        assert [tuple(r) for r in raw.fetch(c, _ONE, {"id": 2})] == [("two",)]  # type: ignore[attr-defined]
        assert len(raw.fetch(c, _ALL, {})) == 2
    if _postgres(engine):
        assert again == before  # nothing left to read: no trip
        delta = [a - b for a, b in zip(after, again, strict=True)]
        assert delta[PIPELINES] == 1 and delta[PIPELINED] == 1  # the one read not made yet


def test_deferred_writes_are_seen_by_the_next_read_and_committed_in_one_trip(
    counted: tuple[Engine, TripCounter],
) -> None:
    engine, counter = counted

    def work(uow: UnitOfWork) -> object:
        c = uow.connection
        raw.fetch(c, _ONE, {"id": 1})  # opens the transaction
        uow.defer_writes()
        raw.execute(c, _INSERT, {"id": 3, "note": "three"})
        raw.execute_many(c, _INSERT, [{"id": 4, "note": "four"}, {"id": 5, "note": "five"}])
        seen = raw.fetch(c, "SELECT count(*) FROM t", {})  # the writes go first
        raw.execute(c, "UPDATE t SET note = :note WHERE id = :id", {"id": 1, "note": "uno"})
        uow.commit()  # with the update
        return seen[0][0]

    before = counter.counts()
    assert run_in_transaction(engine, work) == 5
    delta = tuple(b - a for a, b in zip(before, counter.counts(), strict=True))
    assert _rows(engine) == [(1, "uno"), (2, "two"), (3, "three"), (4, "four"), (5, "five")]
    if _postgres(engine):  # the first read with its BEGIN; writes + count; update + COMMIT
        assert trips_of(delta) == 3


def test_a_core_statement_goes_after_the_deferred_writes(
    counted: tuple[Engine, TripCounter],
) -> None:
    engine, _ = counted

    def work(uow: UnitOfWork) -> int:
        uow.defer_writes()
        raw.execute(uow.connection, _INSERT, {"id": 3, "note": "three"})
        count = uow.connection.execute(text("SELECT count(*) FROM t")).scalar_one()
        uow.commit()
        return int(count)

    assert run_in_transaction(engine, work) == 3


def test_a_deferred_write_that_fails_fails_the_transaction_and_changes_nothing(
    counted: tuple[Engine, TripCounter],
) -> None:
    engine, _ = counted

    def work(uow: UnitOfWork) -> None:
        uow.defer_writes()
        raw.execute(uow.connection, _INSERT, {"id": 3, "note": "three"})
        raw.execute(uow.connection, _INSERT, {"id": 1, "note": "again"})  # the key is taken
        uow.commit()

    with pytest.raises(IntegrityError):
        run_in_transaction(engine, work, attempts_max=1)
    assert _rows(engine) == [(1, "one"), (2, "two")]


def test_deferred_writes_of_a_transaction_rolled_back_are_never_sent(
    counted: tuple[Engine, TripCounter],
) -> None:
    engine, _ = counted
    with UnitOfWork(engine) as uow:
        raw.fetch(uow.connection, _ONE, {"id": 1})
        uow.defer_writes()
        raw.execute(uow.connection, _INSERT, {"id": 3, "note": "three"})
    # the next transaction on the same pooled connection neither sends nor defers them

    def work(uow: UnitOfWork) -> None:
        raw.execute(uow.connection, _INSERT, {"id": 4, "note": "four"})
        uow.commit()

    run_in_transaction(engine, work)
    assert _rows(engine) == [(1, "one"), (2, "two"), (4, "four")]


def test_reads_sent_together_run_after_the_deferred_writes(
    counted: tuple[Engine, TripCounter],
) -> None:
    engine, counter = counted
    if not _postgres(engine):
        pytest.skip("raw.query_together is PostgreSQL's (SQLite reads one by one)")

    def work(uow: UnitOfWork) -> list[object]:
        uow.defer_writes()
        raw.execute(uow.connection, _INSERT, {"id": 3, "note": "three"})
        rows = raw.query_together(
            uow.connection,
            [
                ("SELECT count(*) FROM t", ()),
                ("SELECT note FROM t WHERE id = %s", (3,)),
            ],
        )
        uow.commit()
        return [list(map(tuple, found)) for found in rows]

    before = counter.counts()
    assert run_in_transaction(engine, work) == [[(3,)], [("three",)]]
    delta = tuple(b - a for a, b in zip(before, counter.counts(), strict=True))
    assert trips_of(delta) == 2  # BEGIN, the insert and both reads; the COMMIT


def test_the_trips_counted_are_the_trips_the_server_answered(
    counted: tuple[Engine, TripCounter], tmp_path: Path
) -> None:
    """libpq's own trace of the protocol: every wait of the client for the server ends in a
    ReadyForQuery, a pipeline's Sync as much as a simple query or psycopg's own BEGIN."""
    engine, counter = counted
    if not _postgres(engine):
        pytest.skip("a trace of PostgreSQL's protocol")
    trace = tmp_path / "libpq.trace"

    def work(uow: UnitOfWork) -> None:
        c = uow.connection
        uow.prefetch([(_ONE, {"id": 1}), (_ONE, {"id": 2})])  # opens the transaction
        raw.fetch(c, _ONE, {"id": 1})
        uow.defer_writes()
        raw.execute(c, _INSERT, {"id": 3, "note": "three"})
        raw.execute_many(c, _INSERT, [{"id": 4, "note": "four"}, {"id": 5, "note": "five"}])
        raw.fetch(c, "SELECT count(*) FROM t", {})
        raw.execute(c, "UPDATE t SET note = :note WHERE id = :id", {"id": 1, "note": "uno"})
        uow.commit()

    with engine.connect() as connection:  # the pool's one connection here, traced
        pgconn = connection.connection.dbapi_connection.pgconn  # type: ignore[union-attr]
    with trace.open("w") as file:
        pgconn.trace(file.fileno())
        before = counter.counts()
        run_in_transaction(engine, work)
        delta = tuple(b - a for a, b in zip(before, counter.counts(), strict=True))
        pgconn.untrace()
    answered = trace.read_text().count("\tReadyForQuery\t")
    assert trips_of(delta) == answered == 3  # BEGIN + reads; writes + count; update + COMMIT
    assert _rows(engine) == [(1, "uno"), (2, "two"), (3, "three"), (4, "four"), (5, "five")]


def test_deferred_writes_keep_every_value_as_sent(counted: tuple[Engine, TripCounter]) -> None:
    """Deferred writes, an executemany among them, carry every value as sent: quotes,
    backslashes, percent signs and placeholders' look-alikes, Chinese, NULL; a counted
    update after them answers its own row count."""
    engine, _ = counted
    notes = {3: "it's", 4: "back\\slash'; --", 5: "100% 共济", 6: None, 7: "$1 %s %(id)s"}

    def work(uow: UnitOfWork) -> int:
        c = uow.connection
        raw.fetch(c, _ONE, {"id": 1})
        uow.defer_writes()
        raw.execute(c, _INSERT, {"id": 3, "note": notes[3]})
        raw.execute_many(c, _INSERT, [{"id": n, "note": notes[n]} for n in (4, 5, 6, 7)])
        changed = raw.changed(
            c, "UPDATE t SET note = :note WHERE id >= :id", {"id": 2**40, "note": "x"}
        )
        uow.commit()
        return changed

    assert run_in_transaction(engine, work) == 0
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, note FROM t WHERE id > 2"))
        found = {int(row[0]): row[1] for row in rows}
    assert found == notes


def test_a_driver_transaction_sends_its_own_begin_with_its_first_statements(
    counted: tuple[Engine, TripCounter], tmp_path: Path
) -> None:
    """``run_on_driver_connection`` (the ledger's own transactions) on PostgreSQL: the BEGIN
    goes with the first reads, not in a trip of psycopg's own; two trips in all, as libpq's
    trace shows; the connection is never put in autocommit, and a failed transaction leaves
    nothing."""
    engine, counter = counted
    if not _postgres(engine):
        pytest.skip("a trace of PostgreSQL's protocol")
    trace = tmp_path / "libpq.trace"

    def work(c: raw.PooledConnection) -> object:
        seen = raw.query_together(c, [("SELECT count(*) FROM t", ()), ("SELECT 1", ())])
        raw.defer_writes(c)
        raw.run(c, "INSERT INTO t (id, note) VALUES (%s, %s)", (3, "three"))
        return seen[0][0][0]

    def failing(c: raw.PooledConnection) -> object:
        raw.query_together(c, [("SELECT 1", ())])  # our BEGIN goes with it
        raw.run(c, "INSERT INTO t (id, note) VALUES (%s, %s)", (4, "four"))
        raise RuntimeError("the work fails after its first write")

    with engine.connect() as connection:  # the pool's one connection here, traced
        dbapi = connection.connection.dbapi_connection
        pgconn = dbapi.pgconn  # type: ignore[union-attr]
    with trace.open("w") as file:
        pgconn.trace(file.fileno())
        before = counter.counts()
        assert run_on_driver_connection(engine, work) == 2
        delta = tuple(b - a for a, b in zip(before, counter.counts(), strict=True))
        pgconn.untrace()
    text_sent = trace.read_text()
    assert trips_of(delta) == text_sent.count("\tReadyForQuery\t") == 2  # reads; write + COMMIT
    assert '"BEGIN ISOLATION LEVEL READ COMMITTED"' in text_sent
    assert dbapi.autocommit is False  # type: ignore[union-attr]
    with pytest.raises(RuntimeError):
        run_on_driver_connection(engine, failing)
    assert dbapi.autocommit is False  # type: ignore[union-attr]
    assert _rows(engine) == [(1, "one"), (2, "two"), (3, "three")]


def test_a_unit_of_work_with_its_own_begin_stays_all_or_nothing(
    counted: tuple[Engine, TripCounter],
) -> None:
    """On PostgreSQL a unit of work's BEGIN goes with its first trip: a write sent before a
    failing one is rolled back with it, a Core statement runs inside the transaction, and the
    connection goes back to the pool out of autocommit after a commit and after a failure."""
    engine, _ = counted

    def half_done(uow: UnitOfWork) -> None:
        uow.prefetch([(_ONE, {"id": 1}), (_ONE, {"id": 2})])  # our BEGIN goes with these
        raw.execute(uow.connection, _INSERT, {"id": 3, "note": "three"})
        uow.connection.execute(text("INSERT INTO t (id, note) VALUES (4, 'four')"))  # Core
        raw.execute(uow.connection, _INSERT, {"id": 1, "note": "again"})  # duplicate key

    with pytest.raises(IntegrityError):
        run_in_transaction(engine, half_done, attempts_max=1)
    assert _rows(engine) == [(1, "one"), (2, "two")]

    def done(uow: UnitOfWork) -> None:
        uow.connection.execute(text("INSERT INTO t (id, note) VALUES (5, 'five')"))
        uow.commit()

    run_in_transaction(engine, done)
    assert _rows(engine) == [(1, "one"), (2, "two"), (5, "five")]
    if _postgres(engine):
        with engine.connect() as connection:  # the pool's one connection here
            assert connection.connection.dbapi_connection.autocommit is False  # type: ignore[union-attr]


def test_reads_outside_a_unit_of_work_begin_a_transaction_its_rollback_undoes(
    counted: tuple[Engine, TripCounter],
) -> None:
    """Statements sent on a bare connection, outside any unit of work, begin psycopg's own kind
    of transaction (the BEGIN goes with the first of them): the connection's rollback undoes
    them, and the connection is never left in autocommit. (SQLite's raw statements outside a
    unit of work run in autocommit: store/engine.py.)"""
    engine, _ = counted
    if not _postgres(engine):
        pytest.skip("PostgreSQL's transactions")
    with engine.connect() as connection:
        raw.prefetch(connection, [(_ONE, {"id": 1}), (_ONE, {"id": 2})])
        raw.execute(connection, _INSERT, {"id": 3, "note": "three"})
        assert connection.connection.dbapi_connection.autocommit is False  # type: ignore[union-attr]
        connection.rollback()
    with engine.connect() as connection:
        raw.execute(connection, _INSERT, {"id": 4, "note": "four"})
        connection.rollback()
    assert _rows(engine) == [(1, "one"), (2, "two")]


@dataclass(frozen=True)
class _Note:
    id: int
    note: str | None


def test_rows_inserted_together_are_the_rows_given_in_as_few_statements_as_the_limit_allows(
    counted: tuple[Engine, TripCounter],
) -> None:
    """insert_rows: every row and value as given (awkward text, NULL), none when given none;
    on PostgreSQL one statement per ROWS_PER_INSERT rows, all of them in one trip with the
    COMMIT when the transaction defers its writes."""
    engine, counter = counted
    awkward = ["it's", "back\\slash'; --", "100% 共济", None, "$1 %s %(id)s"]
    given = [_Note(n, awkward[n % len(awkward)]) for n in range(3, 3 + 2 * raw.ROWS_PER_INSERT + 1)]

    def work(uow: UnitOfWork) -> None:
        uow.defer_writes()
        raw.insert_rows(uow.connection, "t", _Note, [])
        raw.insert_rows(uow.connection, "t", _Note, given)
        uow.commit()

    before = counter.counts()
    run_in_transaction(engine, work)
    delta = [after - was for after, was in zip(counter.counts(), before, strict=True)]
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, note FROM t WHERE id > 2 ORDER BY id"))
        assert [_Note(int(row[0]), row[1]) for row in rows] == given
    if _postgres(engine):
        assert delta[PIPELINES] == 1
        assert delta[PIPELINED] == 1 + 3 + 1  # BEGIN, 32 + 32 + 1 rows, COMMIT
