"""The fresh stores ``gongji bench settle`` runs on, each removed afterwards.

SQLite: a file in a temporary directory. PostgreSQL: a throw-away schema ``bench_<random>`` in
the bench's database (created when missing), so that no row depends on an earlier run. Every
engine the bench itself opens counts its round trips to the database (sim/db_trips.py) into the
counter it is given: the service rows read it.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url

from gongji.sim.bench_pg import BenchError, ensure_database
from gongji.sim.db_trips import TripCounter, count_trips
from gongji.store.engine import driver_url, make_engine

POOL_SIZE: Final = 40


@contextmanager
def bench_store(
    database: str, pg_url: str, counter: TripCounter
) -> Iterator[tuple[Engine, str, str | None, str | None]]:
    """(engine, URL, schema, server version) of a fresh, empty store, removed afterwards."""
    if database == "sqlite":
        with tempfile.TemporaryDirectory(prefix="gongji-settle-db-") as directory:
            url = f"sqlite:///{Path(directory) / 'settle.db'}"
            engine = make_engine(url, pool_size=POOL_SIZE)
            count_trips(engine, counter)
            try:
                yield engine, url, None, None
            finally:
                engine.dispose()
        return
    parsed = _pg_url(pg_url)
    version = ensure_database(parsed)
    plain = parsed.render_as_string(hide_password=False)
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(driver_url(parsed), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        engine = make_engine(plain, schema=schema, pool_size=POOL_SIZE)
        count_trips(engine, counter)
        try:
            yield engine, plain, schema, version
        finally:
            engine.dispose()
            with admin.connect() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    finally:
        admin.dispose()


def _pg_url(text_url: str) -> URL:
    url = make_url(text_url)
    if url.get_backend_name() != "postgresql":
        raise BenchError(f"not a PostgreSQL URL: {url.render_as_string()}")
    return url.set(drivername="postgresql+psycopg") if url.drivername == "postgresql" else url
