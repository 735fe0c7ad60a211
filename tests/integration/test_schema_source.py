"""The schema has one source of truth, the SQLAlchemy ``Table``s: the migrations build exactly
those tables, and every hand-written statement (kept for speed in the ledger and the hot
repositories) names only tables and columns that the ``Table``s declare.

The statements are prepared (``EXPLAIN``), never run, against a database built from the
``Table``s alone, on SQLite and on PostgreSQL: a renamed or dropped column fails here, not in a
settlement.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import sqlite3
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, text

import gongji
from gongji.store.tables import metadata

_STATEMENT = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\s", re.IGNORECASE)
_SKIPPED_PACKAGES = ("gongji.store.migrations", "gongji.sim.baselines")  # not gongji's schema
# On SQLite a transfer's ``seq`` is the rowid, which every index carries already: the migration
# leaves it out of the two history indexes there (docs/benchmarks.md, the ledger's indexes).
_SQLITE_ONLY_DIFFERENCES = {"ix_ledger_transfers_credit", "ix_ledger_transfers_debit"}


def _modules() -> Iterator[object]:
    for found in pkgutil.walk_packages(gongji.__path__, "gongji."):
        if not found.name.startswith(_SKIPPED_PACKAGES) and not found.name.endswith("__main__"):
            yield importlib.import_module(found.name)


def hand_written_statements() -> list[tuple[str, str]]:
    """Every module-level SQL text in gongji, by ``module.NAME``."""
    statements = []
    for module in _modules():
        for name, value in vars(module).items():
            constant = name.lstrip("_").isupper()
            if constant and isinstance(value, str) and _STATEMENT.match(value):
                statements.append((f"{module.__name__}.{name}", value))  # type: ignore[attr-defined]
    return sorted(statements)


STATEMENTS = hand_written_statements()


def _dialect_of(statement: str) -> str:
    postgres = ("%s", "FOR UPDATE", "pg_advisory", "::")
    if any(mark in statement for mark in postgres):
        return "postgresql"
    return "sqlite" if "?" in statement else "both"


def test_the_statements_are_found() -> None:
    names = {name for name, _ in STATEMENTS}
    assert "gongji.ledger.driver._SQLITE_INSERT_TRANSFERS" in names
    assert "gongji.people.store.people_repo._PERSON" in names
    assert len(STATEMENTS) >= 20


@pytest.mark.parametrize(("name", "statement"), STATEMENTS, ids=[n for n, _ in STATEMENTS])
def test_each_statement_names_only_what_the_tables_declare_on_sqlite(
    name: str, statement: str
) -> None:
    if _dialect_of(statement) == "postgresql":
        pytest.skip("PostgreSQL's own statement: prepared in the PostgreSQL test")
    connection = sqlite3.connect(":memory:")
    metadata.create_all(create_engine("sqlite://", creator=lambda: connection))
    try:
        connection.execute("EXPLAIN " + statement)
    except sqlite3.ProgrammingError:
        pass  # prepared fine; only the parameters were not given
    except sqlite3.OperationalError as error:
        pytest.fail(f"{name} does not fit the tables: {error}")


@pytest.mark.postgres
def test_postgresqls_statements_name_only_what_the_tables_declare(pg_engine: Engine) -> None:
    with pg_engine.begin() as connection:
        metadata.drop_all(connection)
        metadata.create_all(connection)
    problems = []
    for name, statement in STATEMENTS:
        if _dialect_of(statement) == "sqlite":
            continue
        with pg_engine.connect() as connection:
            nulls = re.sub(r"%s|(?<!:):[a-z_][a-z0-9_]*", "NULL", statement)
            try:
                connection.execute(text("EXPLAIN " + nulls.replace(":", r"\:")))
            except Exception as error:
                problems.append(f"{name}: {str(error).splitlines()[0]}")
    assert problems == []


@pytest.mark.postgres
def test_the_migrations_build_exactly_the_tables_on_postgresql(pg_engine: Engine) -> None:
    with pg_engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), metadata) == []


def test_the_migrations_build_exactly_the_tables_on_sqlite(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("the PostgreSQL side has its own test")
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    unexpected = [d for d in differences if d[1].name not in _SQLITE_ONLY_DIFFERENCES]
    assert unexpected == []
