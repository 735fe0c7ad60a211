"""Where a PostgreSQL URL's server is, for the tools that take a host and a port (pg_dump and
pg_restore, pgbench, DuckDB): a server reached by its Unix socket names it in the URL's query,
where the host of the URL is empty, and each tool must go where gongji's own connections go."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy.engine import make_url

from gongji.risk.store import facts_duckdb
from gongji.sim import bench_pg
from gongji.store import backup
from gongji.store.engine import PgAddress, pg_address

SOCKET_URL = "postgresql+psycopg://gongji@/prod?host=/var/run/postgresql"


@pytest.mark.parametrize(
    ("url", "host", "port", "local"),
    [
        ("postgresql://u:p@db.internal:6432/prod", "db.internal", "6432", False),
        ("postgresql+psycopg://u@127.0.0.1:5432/test", "127.0.0.1", "5432", True),
        ("postgresql://u@localhost/test", "localhost", None, True),
        (SOCKET_URL, "/var/run/postgresql", None, True),
        ("postgresql://u@/prod?host=/tmp&port=5433", "/tmp", "5433", True),
        (
            "postgresql://u@/prod?host=db1&host=db2&port=5432&port=6432",
            "db1,db2",
            "5432,6432",
            False,
        ),
        ("postgresql://u@/prod", None, None, True),  # libpq's default: PGHOST, else the socket
    ],
)
def test_the_server_is_read_from_the_url_or_its_query(
    url: str, host: str | None, port: str | None, local: bool
) -> None:
    address = pg_address(url)
    assert (address.host, address.port) == (host, port)
    assert address.on_this_machine is local


def test_an_address_reads_as_where_it_is() -> None:
    assert str(PgAddress("/var/run/postgresql", None)) == "/var/run/postgresql:5432"
    assert str(PgAddress(None, "5433")) == "the local socket:5433"


def test_pg_dump_goes_by_the_socket_the_url_names() -> None:
    args = backup.pg_target(SOCKET_URL).args
    assert args[:2] == ("--host", "/var/run/postgresql")
    assert "--port" not in args and "localhost" not in args
    assert args[-2:] == ("--dbname", "prod")


def test_pg_dump_is_left_libpqs_default_where_the_url_names_no_server() -> None:
    """As psycopg does for gongji's own connections: ``localhost`` would be TCP, where libpq's
    default is the local socket."""
    args = backup.pg_target("postgresql://gongji@/prod").args
    assert "--host" not in args and "--port" not in args


def test_duckdb_reads_the_database_where_the_url_names_it() -> None:
    url = make_url(SOCKET_URL + "&port=5433")
    engine, dialect = SimpleNamespace(url=url), SimpleNamespace(name="postgresql")
    connection = SimpleNamespace(engine=engine, dialect=dialect)
    target = facts_duckdb._target(connection)  # type: ignore[arg-type]
    assert target == "host='/var/run/postgresql' port='5433' dbname='prod' user='gongji'"


def test_the_benches_use_the_local_socket_where_there_is_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path
    monkeypatch.setattr(bench_pg, "LOCAL_SOCKET_DIR", directory)
    assert bench_pg.local_pg_url("b") == "postgresql+psycopg://postgres@127.0.0.1:5432/b"
    (directory / ".s.PGSQL.5432").touch()
    url = bench_pg.local_pg_url("b")
    assert url == f"postgresql+psycopg://postgres@/b?host={directory}"
    assert pg_address(url) == PgAddress(str(directory), None)
