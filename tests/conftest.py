"""Shared fixtures: a fresh migrated database per test, on SQLite and on PostgreSQL.

PostgreSQL tests use their own schema on the server named by ``GONGJI_TEST_PG_URL`` (default: the
local server's ``test`` database). When it cannot be reached they skip with a visible reason on a
laptop, and fail under ``CI=true``: CI must never go green without them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import Engine, create_engine, text

from gongji.core.clock import ManualClock
from gongji.kernel.context import Context
from gongji.ledger.check import check_ledger
from gongji.store.engine import make_engine
from gongji.store.migrate import upgrade
from support.world import build_context

PG_URL = os.environ.get("GONGJI_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile("ci" if IN_CI else "dev")

_pg_reachable: bool | None = None


def postgres_reachable() -> bool:
    global _pg_reachable
    if _pg_reachable is None:
        try:
            probe = create_engine(PG_URL, connect_args={"connect_timeout": 3})
            with probe.connect() as connection:
                connection.execute(text("select 1"))
            probe.dispose()
            _pg_reachable = True
        except Exception:
            _pg_reachable = False
    return _pg_reachable


def require_postgres() -> None:
    if postgres_reachable():
        return
    message = f"PostgreSQL unreachable at {PG_URL}"
    if IN_CI:
        pytest.fail(f"{message}: under CI=true the PostgreSQL tests must run", pytrace=False)
    pytest.skip(message)


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'gongji.db'}"


class PostgresSchema:
    """A throw-away schema: isolation per test without creating databases."""

    def __init__(self) -> None:
        self.name = f"t_{uuid.uuid4().hex[:16]}"
        self._admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with self._admin.connect() as connection:
            connection.execute(text(f"CREATE SCHEMA {self.name}"))

    def engine(self, pool_size: int = 10) -> Engine:
        return make_engine(PG_URL, schema=self.name, pool_size=pool_size)

    def drop(self) -> None:
        with self._admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {self.name} CASCADE"))
        self._admin.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))  # 10:00 in Asia/Shanghai


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(sqlite_url(tmp_path))
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_schema() -> Iterator[PostgresSchema]:
    require_postgres()
    schema = PostgresSchema()
    yield schema
    schema.drop()


@pytest.fixture
def pg_engine(pg_schema: PostgresSchema) -> Iterator[Engine]:
    engine = pg_schema.engine(pool_size=20)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def bare_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database on each side, not migrated: a migration's test upgrades it step by
    step, to the revision before the one it tests, then past it."""
    if request.param == "sqlite":
        made = make_engine(sqlite_url(tmp_path))
        schema = None
    else:
        require_postgres()
        schema = PostgresSchema()
        made = schema.engine(pool_size=20)
    yield made
    made.dispose()
    if schema is not None:
        schema.drop()


@pytest.fixture
def engine(bare_engine: Engine) -> Iterator[Engine]:
    """The same test on both databases, migrated; the ledger must check clean after every
    test."""
    upgrade(bare_engine)
    yield bare_engine
    report = check_ledger(bare_engine)
    if not report.ok:
        pytest.fail(report.verdict(), pytrace=False)


# --- a full service context on the test database ---------------------------------------------


def services_for(engine: Engine, clock: ManualClock) -> Context:
    return build_context(engine, clock)


@pytest.fixture
def ctx(engine: Engine, clock: ManualClock) -> Context:
    """A full Context on the ``engine`` fixture (so: on SQLite and on PostgreSQL)."""
    return services_for(engine, clock)
