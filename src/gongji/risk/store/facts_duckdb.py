"""DuckDB reading the operational database: the other engine a full run may read its facts with.

Issue #18 allows an embedded analytical engine for the heavy rule run if it is clearly faster
than SQL on the operational database; docs/benchmarks.md (risk) measures both on the same
database, and the full run reads through SQL by default. This reader sends the very statements
of ``facts_repo`` (``WholeWindow``) to an in-memory DuckDB that has the operational database
attached read-only: the SQLite file through DuckDB's ``sqlite_scanner`` extension, or the
PostgreSQL database (the connection's schema) through ``postgres_scanner``.

DuckDB fetches an extension from the internet on first use; a bureau's server cannot, and
nothing here may try. The extensions come from PyPI as packages of their own (the ``analytics``
extra: ``duckdb-extension-sqlite-scanner``, ``duckdb-extension-postgres-scanner``, each of the
same version as ``duckdb``), which hold the file under
``<package>/extensions/v<duckdb version>/<name>.duckdb_extension``; it is loaded from there by
path, with DuckDB's automatic install and load switched off.

DuckDB reads through connections of its own, outside the run's transaction: it sees what was
committed when it reads, no older than the run's watermark (read first, on the run's
connection), so anything it sees that came after the watermark is judged again by the next
incremental run, as a late commit is (alerts are kept by fingerprint).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import import_module, resources
from typing import Any

from sqlalchemy import Connection

from gongji.core.errors import GongjiError
from gongji.risk.store.facts_repo import Rows, WholeWindow
from gongji.store import raw
from gongji.store.engine import pg_address

SCANNERS = {
    "sqlite": ("duckdb_extension_sqlite_scanner", "sqlite_scanner", "sqlite"),
    "postgresql": ("duckdb_extension_postgres_scanner", "postgres_scanner", "postgres"),
}
"""Per dialect: the Python package holding the extension, the extension, DuckDB's ATTACH type."""
OFFLINE = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
ATTACHED = "operational"
_NAMED = re.compile(r"(?<![:\w]):(\w+)")


class AnalyticsUnavailable(GongjiError):
    code = "analytics_unavailable"
    message_zh = "分析引擎不可用：{reason}（请安装 gongji[analytics]）"
    message_en = "The analytical engine is unavailable: {reason} (install gongji[analytics])"


@contextmanager
def whole_window(connection: Connection) -> Iterator[WholeWindow]:
    """A full run's reads through DuckDB, over the database ``connection`` is on."""
    try:
        duckdb = import_module("duckdb")
    except ImportError as missing:
        raise AnalyticsUnavailable(reason="duckdb is not installed") from missing
    dialect = connection.dialect.name
    package, extension, kind = SCANNERS[dialect]
    duck = duckdb.connect(":memory:", config=dict(OFFLINE))
    try:
        duck.execute(f"LOAD {_quoted(_extension_file(package, extension, duckdb.__version__))}")
        target = _quoted(_target(connection))
        duck.execute(f"ATTACH {target} AS {ATTACHED} (TYPE {kind}, READ_ONLY)")
        duck.execute(f"USE {ATTACHED}{_schema(connection)}")

        def fetch(sql: str, params: dict[str, Any]) -> Rows:
            rows: Rows = duck.execute(_NAMED.sub(r"$\1", sql), params).fetchall()
            return rows

        yield WholeWindow(fetch)
    finally:
        duck.close()


def _extension_file(package: str, extension: str, version: str) -> str:
    """The extension's file in its package, for this very DuckDB version (DuckDB refuses
    another's)."""
    try:
        root = resources.files(import_module(package))
    except ImportError as missing:
        raise AnalyticsUnavailable(reason=f"{package} is not installed") from missing
    found = root / "extensions" / f"v{version}" / f"{extension}.duckdb_extension"
    if not found.is_file():
        raise AnalyticsUnavailable(reason=f"{package} holds no {extension} for DuckDB {version}")
    return str(found)


def _target(connection: Connection) -> str:
    """The SQLite file, or a libpq connection string for the PostgreSQL database."""
    url = connection.engine.url
    if connection.dialect.name == "sqlite":
        return str(url.database)
    address = pg_address(url)
    parts = {
        "host": address.host, "port": address.port, "dbname": url.database,
        "user": url.username, "password": url.password,
    }  # fmt: skip
    return " ".join(f"{key}={_libpq(str(value))}" for key, value in parts.items() if value)


def _schema(connection: Connection) -> str:
    """``.schema`` on PostgreSQL: the run's own connection's (its search path), where the
    tables are; nothing on SQLite."""
    if connection.dialect.name == "sqlite":
        return ""
    found = raw.fetch(connection, "SELECT current_schema()", {})
    return "." + _identifier(str(found[0][0]))


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _libpq(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
