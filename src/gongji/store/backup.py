"""Backups of the database, consistent while the server runs, and their restore.

SQLite: the online backup API copies the pages of one read snapshot (in WAL mode a reader
blocks no writer), into a single self-contained file (rollback journal, no ``-wal``).
PostgreSQL: ``pg_dump --format=custom`` (one snapshot) and ``pg_restore --single-transaction``;
a password in the URL is handed to them in ``PGPASSWORD``, never on their command line.

Every file written here is 0600. The secret key is never inside a backup: a backup holds the
key's fingerprint (``key_state``), which restore compares with the key it is given.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import unquote

from sqlalchemy import Engine, inspect
from sqlalchemy.engine import URL, make_url

from gongji.store.engine import PRIVATE_FILE_MODE, pg_address, private_database_file

PG_TOOL_TIMEOUT_S: Final = 3600
_SEARCH_PATH = re.compile(r"-c\s*search_path=([a-z_][a-z0-9_]*)")


class BackupProblem(Exception):
    """A backup or restore that cannot go on; the message says why in one line."""


@dataclass(frozen=True, slots=True)
class PgTarget:
    """What ``pg_dump``/``pg_restore`` need of a database URL."""

    args: tuple[str, ...]
    env: Mapping[str, str]
    schema: str | None


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupProblem("a SQLite URL names a file: sqlite:///PATH")
    return Path(database)


def new_private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600; an existing file is never overwritten."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        raise BackupProblem(f"{path} exists: give a new file name") from None
    os.close(descriptor)
    os.chmod(path, PRIVATE_FILE_MODE)


# --- SQLite ---------------------------------------------------------------------------------


def backup_sqlite(database: Path, out: Path) -> None:
    if not database.exists():
        raise BackupProblem(f"no database at {database}")
    new_private_file(out)
    try:
        with closing(_read_only(database)) as source, closing(sqlite3.connect(out)) as copy:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
    except BaseException:
        out.unlink(missing_ok=True)
        raise


def restore_sqlite(backup: Path, database: Path) -> None:
    """Copy ``backup`` into a new (or empty) database file, in WAL mode like every gongji file."""
    if database.exists() and database.stat().st_size > 0:
        raise BackupProblem(f"{database} is not empty: restore into a new database")
    private_database_file(database)
    with closing(_read_only(backup)) as source, closing(sqlite3.connect(database)) as target:
        source.backup(target)
        target.execute("PRAGMA journal_mode=WAL")


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)


def sqlite_fingerprint(backup: Path) -> str | None:
    with closing(_read_only(backup)) as source:
        try:
            found = source.execute("SELECT fingerprint FROM key_state").fetchone()
        except sqlite3.DatabaseError as error:
            raise BackupProblem(f"{backup} is not a gongji SQLite backup ({error})") from None
    return str(found[0]) if found else None


# --- PostgreSQL -----------------------------------------------------------------------------


def pg_target(url: str | URL) -> PgTarget:
    parsed = make_url(url)
    address = pg_address(parsed)  # none given: libpq's default, as for gongji's own connections
    args = ["--host", address.host] if address.host else []
    args += ["--port", address.port] if address.port else []
    if parsed.username:
        args += ["--username", parsed.username]
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    options = parsed.query.get("options")
    found = _SEARCH_PATH.search(unquote(str(options))) if options else None
    return PgTarget((*args, "--dbname", parsed.database or "postgres"), env, found and found[1])


def pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupProblem(f"{name} not found: install the PostgreSQL client (postgresql-client)")
    return found


def tool_major(name: str) -> int:
    """The major version of ``pg_dump``/``pg_restore`` (``pg_dump (PostgreSQL) 15.20``)."""
    text = _run([pg_tool(name), "--version"], os.environ).strip()
    found = re.search(r"\(PostgreSQL\)\s+(\d+)", text)
    if found is None:
        raise BackupProblem(f"cannot read the version of {name}: {text}")
    return int(found[1])


def backup_postgres(url: str, out: Path, server_major: int) -> None:
    client = tool_major("pg_dump")
    if client < server_major:
        raise BackupProblem(
            f"pg_dump {client} cannot dump a PostgreSQL {server_major} server: "
            f"install postgresql-client-{server_major}"
        )
    target = pg_target(url)
    new_private_file(out)
    schema = ["--schema", target.schema] if target.schema else []
    command = [pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", *schema]
    try:
        _run([*command, "--file", str(out), *target.args], target.env)
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    os.chmod(out, PRIVATE_FILE_MODE)


def restore_postgres(backup: Path, url: str) -> None:
    target = pg_target(url)
    command = [pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error"]
    _run([*command, "--single-transaction", *target.args, str(backup)], target.env)


def postgres_fingerprint(backup: Path) -> str | None:
    """The fingerprint in a custom-format dump, read by ``pg_restore`` as text (no database)."""
    text = _run(
        [pg_tool("pg_restore"), "--data-only", "--table=key_state", "--file=-", str(backup)],
        os.environ,
    )
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if line.startswith("COPY ") and "key_state" in line and number + 1 < len(lines):
            columns = [c.strip() for c in line.split("(", 1)[1].split(")", 1)[0].split(",")]
            values = lines[number + 1].split("\t")
            if values[0] == "\\." or "fingerprint" not in columns:
                return None
            return values[columns.index("fingerprint")]
    return None


def _run(command: list[str], env: Mapping[str, str]) -> str:
    try:
        done = subprocess.run(
            command, env=dict(env), capture_output=True, text=True, timeout=PG_TOOL_TIMEOUT_S
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise BackupProblem(f"{Path(command[0]).name}: {error}") from None
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[0]
        raise BackupProblem(f"{Path(command[0]).name}: {first}")
    return done.stdout


def backup_format(path: Path) -> str:
    """``sqlite`` or ``postgres`` from a backup file's first bytes."""
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except OSError as error:
        raise BackupProblem(f"cannot read {path}: {error.strerror}") from None
    if head.startswith(b"SQLite format 3\0"):
        return "sqlite"
    if head.startswith(b"PGDMP"):
        return "postgres"
    raise BackupProblem(f"{path} is neither a SQLite backup nor a pg_dump custom-format file")


def server_major(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.exec_driver_sql("SHOW server_version_num").scalar_one()) // 10_000


def holds_gongji(engine: Engine) -> bool:
    """Whether the database (its schema on the search path) was ever migrated by gongji."""
    with engine.connect() as connection:
        return inspect(connection).has_table("alembic_version")
