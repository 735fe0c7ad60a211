"""The full ledger check reads one snapshot, as its docstring promises: on PostgreSQL a
``REPEATABLE READ READ ONLY`` transaction (the default, READ COMMITTED, gives each of its
queries its own view of a ledger that writers go on changing)."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, Engine, text

from gongji.ledger import check
from gongji.ledger.check import CheckReport, check_ledger, in_snapshot


def test_the_check_runs_in_one_read_only_snapshot(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, str]] = []

    def spy(connection: Connection) -> CheckReport:
        if engine.dialect.name == "postgresql":
            isolation = connection.execute(text("SHOW transaction_isolation")).scalar_one()
            read_only = connection.execute(text("SHOW transaction_read_only")).scalar_one()
            seen.append((str(isolation), str(read_only)))
        else:
            seen.append(("sqlite", "on" if connection.in_transaction() else "off"))
        return CheckReport()

    monkeypatch.setattr(check, "run_check", spy)
    check_ledger(engine)
    expected = "repeatable read" if engine.dialect.name == "postgresql" else "sqlite"
    assert seen == [(expected, "on")]


@pytest.mark.postgres
def test_a_write_between_two_queries_of_the_check_is_not_seen(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's read transaction is a snapshot by construction")
    with engine.begin() as setup:
        setup.execute(text("CREATE TABLE snapshot_probe (n integer)"))

    def work(connection: Connection) -> tuple[int, int]:
        count = "SELECT count(*) FROM snapshot_probe"
        first = int(connection.execute(text(count)).scalar_one())
        with engine.begin() as writer:
            writer.execute(text("INSERT INTO snapshot_probe VALUES (1)"))
        return first, int(connection.execute(text(count)).scalar_one())

    assert in_snapshot(engine, work) == (0, 0)
