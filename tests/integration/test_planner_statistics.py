"""PostgreSQL's planner statistics: gathered for the store's own schema, at once after a bulk
import that created rows (gongji.store.planner); SQLite is left to plan without."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from conftest import PostgresSchema, require_postgres
from gongji.cli import imports as import_cli
from gongji.kernel.context import Context
from gongji.store.planner import gather_statistics
from support.api import key, make_client, operator_headers

DATA = Path(__file__).parents[1] / "data"
WRITTEN_BY_A_PERSONS_IMPORT = ("persons", "enrolments")


def _analyzed(engine: Engine) -> dict[str, int]:
    """How many times each table of the engine's schema was analyzed by hand (ANALYZE, not
    autovacuum's, which counts apart); SQLite: {} unless ANALYZE left its statistics table."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            found = "SELECT name, 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
        else:
            found = (
                "SELECT relname, analyze_count FROM pg_stat_user_tables"
                " WHERE schemaname = current_schema()"
            )
        return {str(row[0]): int(row[1]) for row in connection.execute(text(found))}


def _expect_analyzed(engine: Engine, before: dict[str, int], times: int) -> None:
    after = _analyzed(engine)
    if engine.dialect.name == "sqlite":
        assert after == {}  # gongji runs no ANALYZE on SQLite
        return
    for table in WRITTEN_BY_A_PERSONS_IMPORT:
        assert after[table] - before.get(table, 0) == times, (table, before, after)


def test_the_import_command_gathers_statistics_after_it_created_rows(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    @contextmanager
    def on_the_test_store() -> Iterator[SimpleNamespace]:
        yield SimpleNamespace(context=ctx, engine=ctx.engine)

    monkeypatch.setattr(import_cli, "container", on_the_test_store)
    command = ["persons", str(DATA / "persons.csv")]
    before = _analyzed(ctx.engine)

    accepted = CliRunner().invoke(import_cli.import_app, command)
    assert accepted.exit_code == 0, accepted.output
    assert "4 created" in accepted.output
    _expect_analyzed(ctx.engine, before, 1)

    repeated = CliRunner().invoke(import_cli.import_app, command)  # creates nothing: no ANALYZE
    assert "0 created, 4 unchanged" in repeated.output
    refused = CliRunner().invoke(import_cli.import_app, ["persons", str(DATA / "persons_bad.csv")])
    assert refused.exit_code == 2
    _expect_analyzed(ctx.engine, before, 1)


def test_an_operators_import_gathers_statistics_after_it_created_rows(
    ctx: Context, tmp_path: Path
) -> None:
    before = _analyzed(ctx.engine)
    with make_client(ctx, ctx.clock, tmp_path) as client:  # type: ignore[arg-type]
        clerk = operator_headers(ctx, "clerk1", "clerk")
        headers = {**clerk, **key(), "Content-Type": "text/csv"}
        upload = (DATA / "persons.csv").read_bytes()
        first = client.post("/api/v1/admin/imports/persons", content=upload, headers=headers)
        assert first.status_code == 200 and first.json()["created"] == 4, first.text
        _expect_analyzed(ctx.engine, before, 1)
        replayed = client.post("/api/v1/admin/imports/persons", content=upload, headers=headers)
        assert replayed.json() == first.json()  # the same key: answered again, nothing run
        again = {**headers, **key()}
        repeated = client.post("/api/v1/admin/imports/persons", content=upload, headers=again)
        assert repeated.json()["created"] == 0
    _expect_analyzed(ctx.engine, before, 1)


@pytest.mark.postgres
def test_statistics_are_gathered_for_the_stores_own_schema_only() -> None:
    """Every table of the engine's schema is analyzed, a table of another schema is not."""
    require_postgres()
    own, other = PostgresSchema(), PostgresSchema()
    engines = own.engine(), other.engine()
    try:
        for engine in engines:
            with engine.begin() as connection:
                connection.execute(text('CREATE TABLE "we""ird" (id INTEGER PRIMARY KEY)'))
                connection.execute(text("CREATE TABLE plain (id INTEGER PRIMARY KEY)"))
                connection.execute(text("INSERT INTO plain SELECT generate_series(1, 50)"))
        gather_statistics(engines[0])
        analyzed = (
            "SELECT c.relname, c.reltuples FROM pg_class c JOIN pg_namespace n"
            " ON n.oid = c.relnamespace WHERE n.nspname = :schema AND c.relkind = 'r'"
        )
        for engine, schema, expected in ((engines[0], own, 50.0), (engines[1], other, -1.0)):
            with engine.connect() as connection:
                rows = connection.execute(text(analyzed), {"schema": schema.name})
                found = {str(row[0]): float(row[1]) for row in rows}
            assert found["plain"] == expected  # -1: never analyzed
            assert found['we"ird'] == (0.0 if expected > 0 else -1.0)
    finally:
        for engine in engines:
            engine.dispose()
        own.drop()
        other.drop()
