"""Engines for SQLite (the embedded default) and PostgreSQL (production).

SQLite: WAL, ``synchronous=FULL``, ``foreign_keys=ON``, a ``busy_timeout``, and every write
transaction opened with ``BEGIN IMMEDIATE`` so that a read-then-write decision never upgrades a
shared lock (the cause of SQLITE_BUSY deadlocks). Read-only units of work open ``BEGIN`` instead,
which in WAL mode gives them a consistent snapshot without blocking writers.

PostgreSQL: psycopg 3, READ COMMITTED; money decisions lock their account rows in id order.
An optional ``schema`` (used by tests for isolation) is put first on the ``search_path``.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError

from gongji.store.pg_wire import UNNAMED_ONLY
from gongji.store.raw import run, send_deferred

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_WAL_AUTOCHECKPOINT_PAGES = 8_000
"""About 32 MB of WAL between checkpoints (SQLite's default: 1 000 pages). A batch of 1 000
transfers writes some 2 000 pages, so with the default every such commit also checkpointed;
with more room, pages that several commits rewrite (accounts, the history indexes' ends) are
copied to the database once. Measured: 34 000 → 37 000 transfers/s for batches of 1 000."""
SQLITE_PRAGMAS: Final = (
    "journal_mode=WAL",
    "synchronous=FULL",
    f"wal_autocheckpoint={SQLITE_WAL_AUTOCHECKPOINT_PAGES}",
    f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
)
"""What every connection to a SQLite file sets (the bench's baseline sets the same)."""
READ_ONLY_OPTION = "gongji_read_only"
PING_AFTER_IDLE_S = 1.0
_IDLE_SINCE = "gongji_idle_since"
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def is_sqlite_url(url: str) -> bool:
    """Whether a database URL names SQLite (``sqlite:///…``, ``sqlite+pysqlite:///…``), read
    from its scheme alone: a URL nothing can parse is not SQLite's, and the engine refuses it
    where it is made, as one readable line."""
    return url.split(":", 1)[0].split("+", 1)[0].lower() == "sqlite"


SQLITE_THREADS_MAX: Final = 40
"""AnyIO's default thread limit, which FastAPI's sync endpoints share."""


def make_engine(url: str, *, schema: str | None = None, pool_size: int = 10) -> Engine:
    """The one place that turns a database URL into a configured engine."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, pool_size=pool_size)
    if parsed.get_backend_name() == "postgresql":
        return _postgres_engine(url, schema=schema, pool_size=pool_size)
    raise ValueError(f"unsupported database URL (sqlite or postgresql only): {parsed.drivername}")


def _sqlite_engine(url: str, *, pool_size: int) -> Engine:
    parsed = make_url(url)
    if parsed.database in (None, "", ":memory:"):
        raise ValueError("an in-memory SQLite database cannot be shared or use WAL: give a file")
    private_database_file(Path(parsed.database))
    # Connections to a file are cheap and writers queue on SQLite's lock anyway, so the pool may
    # grow to as many threads as the server runs sync endpoints on (AnyIO's default limiter):
    # a burst then waits on busy_timeout, never on an exhausted pool.
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        pool_size=pool_size,
        max_overflow=max(pool_size, SQLITE_THREADS_MAX),
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves: pysqlite's implicit BEGIN is always DEFERRED.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (*SQLITE_PRAGMAS, "foreign_keys=ON"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY_OPTION, False)
        # Through the driver: every transaction pays for this, and Core's execute costs more
        # than the BEGIN itself (see store/raw.py); errors still arrive as SQLAlchemy's.
        run(connection, "BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


SQLITE_COMPANIONS: Final = ("-wal", "-shm", "-journal")
PRIVATE_FILE_MODE: Final = 0o600
PRIVATE_DIR_MODE: Final = 0o700


def private_database_file(path: Path) -> None:
    """The database file (and its log files) readable by their owner only, before SQLite
    opens it: SQLite creates ``-wal`` and ``-shm`` with the database file's own mode, so a file
    made 0600 here keeps its companions 0600 too. A directory made here is 0700; files left by
    an earlier version with wider modes are narrowed."""
    path.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE_MODE))
    for candidate in (path, *(Path(f"{path}{suffix}") for suffix in SQLITE_COMPANIONS)):
        if candidate.exists() and candidate.stat().st_mode & 0o077:
            os.chmod(candidate, PRIVATE_FILE_MODE)


PREPARED_STATEMENTS_OPTION = "prepared_statements"
"""A PostgreSQL URL's own option, taken out before psycopg sees the URL: ``on`` (the default)
or ``off``, for a pooler that hands each transaction another server connection and keeps no
prepared statement across them (PgBouncer's transaction mode before 1.21, or without
``max_prepared_statements``): every statement is then sent unnamed (store/pg_wire.py)."""


@dataclass(frozen=True, slots=True)
class PgAddress:
    """Where a PostgreSQL URL's server is, as libpq reads the URL: for the tools and libraries
    that take a host and a port rather than the URL (``pg_dump``, ``pgbench``, DuckDB)."""

    host: str | None
    """A name, an address, or the directory of a Unix socket (or several, comma-separated, as
    libpq lists them); None: libpq's default (``PGHOST``, else the local socket)."""
    port: str | None
    """As written (a number, or one per host); None: libpq's default, 5432."""

    @property
    def on_this_machine(self) -> bool:
        """A Unix socket, the loopback, or libpq's default (which is the local socket)."""
        return self.host is None or self.host.startswith("/") or self.host in _LOOPBACK

    def __str__(self) -> str:
        return f"{self.host or 'the local socket'}:{self.port or 5432}"


_LOOPBACK: Final = ("", "localhost", "127.0.0.1", "::1")


def pg_address(url: str | URL) -> PgAddress:
    """The server of a PostgreSQL URL: its host and port, or the ``host`` and ``port`` of its
    query (``postgresql://user@/db?host=/var/run/postgresql``, a server on the same machine by
    its Unix socket, which libpq reads so and a host name cannot say)."""
    parsed = make_url(url)
    port = str(parsed.port) if parsed.port else _query_value(parsed, "port")
    return PgAddress(parsed.host or _query_value(parsed, "host") or None, port or None)


def _query_value(url: URL, name: str) -> str | None:
    value = url.query.get(name)
    if isinstance(value, tuple):  # given more than once: libpq's list of hosts, comma-separated
        return ",".join(value)
    return value


def driver_url(url: URL) -> URL:
    """A PostgreSQL URL as psycopg takes it, gongji's own options (``prepared_statements``) taken
    out: for an engine made other than by :func:`make_engine` (a bench's administrative one)."""
    return url.difference_update_query([PREPARED_STATEMENTS_OPTION])


def _postgres_engine(url: str, *, schema: str | None, pool_size: int) -> Engine:
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    prepared = parsed.query.get(PREPARED_STATEMENTS_OPTION, "on")
    if prepared not in ("on", "off"):
        raise ValueError(f"{PREPARED_STATEMENTS_OPTION} in the database URL is on or off")
    parsed = driver_url(parsed)
    # psycopg prepares nothing itself: its rollback deallocates every prepared statement of the
    # connection, those of store/pg_wire.py too, which prepares the hot statements.
    connect_args: dict[str, Any] = {"prepare_threshold": None}
    if schema is not None:
        if not _SCHEMA_NAME.match(schema):
            raise ValueError(f"invalid schema name: {schema!r}")
        connect_args["options"] = f"-csearch_path={schema}"
    engine = create_engine(
        parsed,
        connect_args=connect_args,
        pool_size=pool_size,
        max_overflow=pool_size,
        isolation_level="READ COMMITTED",
    )
    _ping_when_idle(engine)
    if prepared == "off":

        @event.listens_for(engine, "connect")
        def _unnamed_only(dbapi_connection: Any, _record: Any) -> None:
            setattr(dbapi_connection, UNNAMED_ONLY, True)

    @event.listens_for(engine, "before_cursor_execute")
    def _deferred_first(connection: Any, *_: Any) -> None:
        # A Core statement goes after the writes the transaction deferred (store/raw.py).
        send_deferred(connection)

    return engine


def _ping_when_idle(engine: Engine) -> None:
    """``pool_pre_ping``, but only for a connection idle longer than ``PING_AFTER_IDLE_S``.

    A ping is a round trip on every checkout, as long as a whole single-transfer transaction's
    share of network waits; a connection checked in a moment ago is as alive as one can know
    without asking. A dead one is discarded and replaced, as ``pool_pre_ping`` would.
    """

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _mark_idle(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is not None and time.monotonic() - idle_since < PING_AFTER_IDLE_S:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise DisconnectionError(str(error)) from error
        if not alive:
            raise DisconnectionError("the connection did not answer its ping")
