"""PostgreSQL statements through libpq's pipeline past psycopg's cursors (store/pg_wire.py):
psycopg's paramstyle understood as psycopg understands it, values and rows the same Python
values, statements prepared once per connection and kept across rollbacks, the first failure
raised as psycopg's error with the connection ready for the next transaction, a large trip that
does not hang, and a lost connection that is discarded."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError, ProgrammingError

from conftest import PG_URL, PostgresSchema, require_postgres
from gongji.store import pg_wire, raw
from gongji.store.engine import make_engine
from gongji.store.uow import UnitOfWork, run_in_transaction

# --- the paramstyle, without a server ---------------------------------------------------------


def test_placeholders_become_numbered_parameters() -> None:
    assert pg_wire._converted("SELECT %s, %s") == (b"SELECT $1, $2", 2)
    assert pg_wire._converted("SELECT 1") == (b"SELECT 1", 0)


def test_a_name_used_twice_is_one_parameter_and_a_doubled_percent_is_a_percent() -> None:
    query, order = pg_wire._converted(
        "SELECT x FROM t WHERE a = %(a)s OR b LIKE '%%z' OR c = %(a)s AND d = %(d)s"
    )
    assert query == b"SELECT x FROM t WHERE a = $1 OR b LIKE '%z' OR c = $1 AND d = $2"
    assert order == ("a", "d")


@pytest.mark.parametrize(
    "statement",
    ["SELECT %s, %(a)s", "SELECT %d", "SELECT '50%'", "SELECT %(a)d", "SELECT 1 %"],
    ids=["mixed", "a format", "a lone percent", "a named format", "a percent at the end"],
)
def test_what_psycopg_refuses_is_refused(statement: str) -> None:
    with pytest.raises(psycopg.ProgrammingError):
        pg_wire._converted(statement)


@pytest.mark.parametrize(
    ("order", "values"),
    [(2, (1,)), (2, [1, 2, 3]), (1, {"a": 1}), (("a", "b"), {"a": 1}), (("a",), (1,))],
    ids=["too few", "too many", "a mapping for places", "a name missing", "places for names"],
)
def test_parameters_that_do_not_fit_the_statement_are_refused(
    order: tuple[str, ...] | int, values: object
) -> None:
    with pytest.raises(psycopg.ProgrammingError):
        pg_wire._ordered(values, order)


def test_parameters_that_fit_are_taken_in_the_statements_order() -> None:
    assert pg_wire._ordered((1, 2), 2) == (1, 2)
    assert pg_wire._ordered({"b": 2, "a": 1, "unused": 3}, ("a", "b")) == [1, 2]
    assert pg_wire._ordered({}, 0) == () and pg_wire._ordered(None, 0) == ()


# --- on a server ------------------------------------------------------------------------------


@pytest.fixture
def one_connection() -> Iterator[Engine]:
    """An engine whose pool holds one connection: every transaction meets the same one."""
    require_postgres()
    schema = PostgresSchema()
    engine = schema.engine(pool_size=1)
    with engine.begin() as connection:
        connection.execute(
            text("CREATE TABLE v (id BIGINT PRIMARY KEY, small INTEGER, note TEXT, flag BOOLEAN)")
        )
    try:
        yield engine
    finally:
        engine.dispose()
        schema.drop()


pytestmark = pytest.mark.postgres
_INSERT = "INSERT INTO v (id, small, note, flag) VALUES (%s, %s, %s, %s)"


def _committed(engine: Engine, work: object) -> object:
    def run(uow: UnitOfWork) -> object:
        result = work(uow.connection)  # type: ignore[operator]
        uow.commit()
        return result

    return run_in_transaction(engine, run, attempts_max=1)


def test_values_of_every_size_and_kind_come_back_as_they_went(one_connection: Engine) -> None:
    """psycopg types an integer by its size, so one ``executemany`` mixes parameter types; each
    set is sent with its own, and every value reads back the same."""
    rows = [
        (1, 1, "一", True),
        (2**40, 2**31 - 1, "50% off, $1 and %(x)s stay text", False),
        (-(2**62), None, None, None),
        (3, -5, "quote ' and backslash \\", True),
    ]

    def write(c: raw.Executor) -> None:
        raw.run_many(c, _INSERT, rows)

    _committed(one_connection, write)

    def read(c: raw.Executor) -> object:
        ids = [row[0] for row in rows]
        return raw.query(
            c, "SELECT id, small, note, flag FROM v WHERE id = ANY(%s) ORDER BY id", (ids,)
        )

    got = _committed(one_connection, read)
    assert [tuple(r) for r in got] == sorted(rows)  # type: ignore[attr-defined]


def test_prepared_statements_outlive_a_rollback(one_connection: Engine) -> None:
    """psycopg's own rollback deallocates every prepared statement of a connection; its
    preparing is off (store/engine.py), so the names of store/pg_wire.py stay."""
    select = "SELECT note FROM v WHERE id = %s"

    def read(c: raw.Executor) -> object:
        return raw.query(c, select, (1,))

    _committed(one_connection, lambda c: raw.run(c, _INSERT, (1, 1, "one", True)))
    _committed(one_connection, read)
    with one_connection.connect() as connection:  # psycopg would prepare this one, were it on
        for _ in range(6):
            connection.execute(text("SELECT count(*) FROM v WHERE small > :n"), {"n": 0})

    def failing(uow: UnitOfWork) -> None:
        raw.run(uow.connection, _INSERT, (1, 1, "again", True))

    with pytest.raises(IntegrityError):
        run_in_transaction(one_connection, failing, attempts_max=1)
    assert [tuple(r) for r in _committed(one_connection, read)] == [("one",)]  # type: ignore[attr-defined]
    with one_connection.connect() as connection:
        names = connection.execute(text("SELECT name FROM pg_prepared_statements")).scalars()
        assert {n for n in names if n.startswith("gongji_")} >= {"gongji_0", "gongji_1"}


def test_the_first_failure_is_psycopgs_error_and_the_connection_serves_on(
    one_connection: Engine,
) -> None:
    def half_done(uow: UnitOfWork) -> None:
        c = uow.connection
        raw.defer_writes(c)
        raw.run(c, _INSERT, (7, 7, "seven", True))
        raw.run(c, _INSERT, (7, 7, "twice", True))  # the duplicate
        raw.query(c, "SELECT count(*) FROM v", ())  # carries both

    with pytest.raises(IntegrityError) as caught:
        run_in_transaction(one_connection, half_done, attempts_max=1)
    assert isinstance(caught.value.orig, psycopg.errors.UniqueViolation)

    def misspelt(uow: UnitOfWork) -> None:
        raw.query(uow.connection, "SELECT nothing FROM v", ())

    with pytest.raises(ProgrammingError) as caught_too:
        run_in_transaction(one_connection, misspelt, attempts_max=1)
    assert isinstance(caught_too.value.orig, psycopg.errors.UndefinedColumn)
    count = _committed(one_connection, lambda c: raw.query(c, "SELECT count(*) FROM v", ()))
    assert count[0][0] == 0  # type: ignore[index]


def test_a_trip_larger_than_the_sockets_buffers_does_not_hang(one_connection: Engine) -> None:
    """Twenty thousand inserts in one trip: the server's answers are read while the trip is
    still being sent, or both sides would wait on each other."""
    rows = [(n, n % 1000, "x" * 200, n % 2 == 0) for n in range(20_000)]
    _committed(one_connection, lambda c: raw.run_many(c, _INSERT, rows))
    count = _committed(one_connection, lambda c: raw.query(c, "SELECT count(*) FROM v", ()))
    assert count[0][0] == 20_000  # type: ignore[index]


def test_a_lost_connection_is_discarded_and_the_next_transaction_gets_a_new_one(
    one_connection: Engine,
) -> None:
    def backend(c: raw.Executor) -> int:
        return int(raw.query(c, "SELECT pg_backend_pid()", ())[0][0])

    before = _committed(one_connection, backend)
    killer = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with killer.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": before})
    killer.dispose()
    with pytest.raises(DBAPIError) as caught:
        run_in_transaction(one_connection, lambda uow: backend(uow.connection), attempts_max=1)
    assert caught.value.connection_invalidated
    assert _committed(one_connection, backend) != before


def test_where_psycopg_prepares_statements_go_unnamed(pg_schema: PostgresSchema) -> None:
    """An engine not made by store/engine.py keeps psycopg's preparing, and with it the
    rollback that deallocates everything: nothing is prepared there, and everything works."""
    engine = create_engine(
        PG_URL,
        connect_args={"options": f"-csearch_path={pg_schema.name}"},
        pool_size=1,
    )
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE v (id BIGINT PRIMARY KEY, note TEXT)"))
        for attempt in range(7):  # psycopg prepares its statements from their fifth use on
            with engine.connect() as connection:
                raw.run(connection, "INSERT INTO v (id, note) VALUES (%s, %s)", (attempt, "n"))
                connection.execute(text("SELECT count(*) FROM v WHERE id > :n"), {"n": 0})
                connection.rollback()  # psycopg deallocates what it prepared
        with engine.connect() as connection:
            names = connection.execute(text("SELECT name FROM pg_prepared_statements")).scalars()
            assert not [n for n in names if n.startswith("gongji_")]
    finally:
        engine.dispose()


def test_statements_deallocated_behind_its_back_are_prepared_again(
    one_connection: Engine,
) -> None:
    """``DEALLOCATE ALL`` from elsewhere: the transaction that meets a lost name fails
    retryably and runs again, preparing anew; nothing is written twice."""
    _committed(one_connection, lambda c: raw.run(c, _INSERT, (1, 1, "one", True)))
    with one_connection.connect() as connection:
        connection.execute(text("DEALLOCATE ALL"))
        connection.commit()

    def write(uow: UnitOfWork) -> None:
        raw.run(uow.connection, _INSERT, (2, 2, "two", False))
        uow.commit()

    run_in_transaction(one_connection, write)  # retried as it would be in the service
    count = _committed(one_connection, lambda c: raw.query(c, "SELECT count(*) FROM v", ()))
    assert count[0][0] == 2  # type: ignore[index]


def test_behind_a_pooler_that_keeps_no_prepared_statement_nothing_is_named(
    pg_schema: PostgresSchema,
) -> None:
    """``?prepared_statements=off`` in the database URL: every statement goes unnamed, so
    a pooler may hand each transaction another server connection."""
    engine = make_engine(f"{PG_URL}?prepared_statements=off", schema=pg_schema.name, pool_size=1)
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE v (id BIGINT PRIMARY KEY, note TEXT)"))
        for n in range(3):
            _committed(engine, lambda c, n=n: raw.run(c, "INSERT INTO v VALUES (%s, %s)", (n, "n")))
        seen = _committed(
            engine, lambda c: raw.query(c, "SELECT count(*) FROM v WHERE id >= %s", (0,))
        )
        assert seen[0][0] == 3  # type: ignore[index]
        with engine.connect() as connection:
            names = connection.execute(text("SELECT name FROM pg_prepared_statements")).scalars()
            assert not [n for n in names if n.startswith("gongji_")]
    finally:
        engine.dispose()


def test_a_prepared_statements_option_other_than_on_or_off_is_refused() -> None:
    with pytest.raises(ValueError, match="prepared_statements"):
        make_engine(f"{PG_URL}?prepared_statements=sometimes")


def test_a_trip_cut_off_before_its_answers_discards_the_connection_and_commits_nothing(
    one_connection: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A signal (here an error planted where the answers are read) between sending a trip and
    reading it: the connection is closed, not pooled half-way; nothing of the transaction is
    committed; the next transaction gets a new connection."""

    def backend(c: raw.Executor) -> int:
        return int(raw.query(c, "SELECT pg_backend_pid()", ())[0][0])

    before = _committed(one_connection, backend)
    reading = pg_wire._received

    def interrupted(wire: object) -> object:
        raise KeyboardInterrupt

    def half_done(uow: UnitOfWork) -> None:
        raw.run(uow.connection, _INSERT, (9, 9, "nine", True))
        monkeypatch.setattr(pg_wire, "_received", interrupted)
        raw.run(uow.connection, _INSERT, (10, 10, "ten", True))
        uow.commit()

    with pytest.raises(KeyboardInterrupt):
        run_in_transaction(one_connection, half_done, attempts_max=1)
    monkeypatch.setattr(pg_wire, "_received", reading)
    assert _committed(one_connection, backend) != before
    count = _committed(one_connection, lambda c: raw.query(c, "SELECT count(*) FROM v", ()))
    assert count[0][0] == 0  # type: ignore[index]


def test_a_connection_cut_off_mid_trip_is_closed_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whoever holds the connection next finds it closed, not waiting for a trip's answers."""
    require_postgres()
    with psycopg.connect(
        PG_URL.replace("postgresql+psycopg://", "postgresql://"), prepare_threshold=None
    ) as dbapi:
        pg_wire.send(dbapi, [("SELECT %s::int", (1,), False)], keep=1, fetch=True)

        def interrupted(wire: object) -> object:
            raise KeyboardInterrupt

        monkeypatch.setattr(pg_wire, "_received", interrupted)
        with pytest.raises(KeyboardInterrupt):
            pg_wire.send(dbapi, [("SELECT %s::int", (2,), False)], keep=1, fetch=True)
        assert dbapi.closed
