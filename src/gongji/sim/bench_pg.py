"""PostgreSQL for the benches: the server they use unless told, the bench database, made when
missing, and throw-away schemas in it, so that every row starts from an empty store and leaves
nothing behind."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError

from gongji.sim.db_trips import TripCounter, count_trips
from gongji.store.engine import driver_url, make_engine, pg_address

_DATABASE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
LOCAL_SOCKET_DIR: Final = Path("/var/run/postgresql")
"""Where Debian's and Ubuntu's PostgreSQL put the server's Unix socket."""


def local_pg_url(database: str) -> str:
    """The benches' PostgreSQL unless told (``GONGJI_BENCH_PG_URL``, ``--pg-url``): the server on
    this machine, by its Unix socket where there is one, else over the loopback.

    By the socket, as a server on the same machine is best reached in service (README): a round
    trip over TCP costs both gongji and the server more CPU in the network stack, and on two
    cores they share, settlements through the services ran 7 % faster by the socket, in turn
    with the loopback (docs/benchmarks.md, issue 20, step 16)."""
    if (LOCAL_SOCKET_DIR / ".s.PGSQL.5432").exists():
        return f"postgresql+psycopg://postgres@/{database}?host={LOCAL_SOCKET_DIR}"
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"


class BenchError(RuntimeError):
    """The bench cannot run (database unreachable, set-up refused): one readable line."""


def ensure_database(url: URL) -> str:
    """Create the bench database when missing (through the server's ``postgres`` database)."""
    name = url.database or ""
    if not _DATABASE_NAME.match(name):
        raise BenchError(f"invalid bench database name in the PostgreSQL URL: {name!r}")
    admin = create_engine(
        driver_url(url).set(database="postgres"),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 5},
    )
    try:
        with admin.connect() as connection:
            exists = text("SELECT 1 FROM pg_database WHERE datname = :name")
            if connection.execute(exists, {"name": name}).scalar() is None:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            show = "SELECT current_setting('server_version'), current_setting('synchronous_commit')"
            version, synchronous_commit = connection.execute(text(show)).one()
            return f"{version} (synchronous_commit={synchronous_commit})"
    except OperationalError as error:
        first = (str(error.orig).strip().splitlines() or ["no detail"])[0]
        where = pg_address(url)
        hint = "; another server: GONGJI_BENCH_PG_URL or --pg-url"
        raise BenchError(f"PostgreSQL unreachable at {where}: {first}{hint}") from None
    finally:
        admin.dispose()


@contextmanager
def throwaway_schema(
    url: URL, *, pool_size: int, counter: TripCounter | None = None
) -> Iterator[Engine]:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(driver_url(url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        plain_url = url.render_as_string(hide_password=False)
        engine = make_engine(plain_url, schema=schema, pool_size=pool_size)
        if counter is not None:
            count_trips(engine, counter)
        try:
            yield engine
        finally:
            engine.dispose()
            with admin.connect() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    finally:
        admin.dispose()
