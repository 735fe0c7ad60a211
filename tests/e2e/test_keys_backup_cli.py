"""The key and the backups as an operator meets them on the command line: refusals with their
own exit codes, rotation, and the restore drill (backup → restore into a new database → ledger
check passes, balances equal) on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from typer.testing import CliRunner, Result

from conftest import PG_URL, PostgresSchema, require_postgres
from gongji.cli.common import EXIT_KEY_MISMATCH, EXIT_KEY_MISSING, EXIT_KEY_ROTATION_UNFINISHED
from gongji.cli.main import app
from gongji.sim.bench_pg import LOCAL_SOCKET_DIR
from gongji.store.engine import make_engine

OTHER_KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()


def gongji(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200", **env})


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"GONGJI_DATA_DIR": str(tmp_path / "var")}


def seeded(env: dict[str, str]) -> None:
    result = gongji(env, "demo", "seed")
    assert result.exit_code == 0, result.output


def test_wrong_key_and_missing_key_file_are_refused_with_their_own_exit_codes(
    env: dict[str, str], tmp_path: Path
) -> None:
    seeded(env)
    wrong = gongji({**env, "GONGJI_SECRET_KEY": OTHER_KEY}, "ledger", "check")
    assert wrong.exit_code == EXIT_KEY_MISMATCH
    lines = wrong.output.strip().splitlines()
    assert len(lines) == 1 and "secret_key_mismatch" in lines[0]
    assert "拒绝启动" in lines[0] and "refusing to start" in lines[0]

    serve = gongji({**env, "GONGJI_SECRET_KEY": OTHER_KEY, "GONGJI_PORT": "1"}, "serve")
    assert serve.exit_code == EXIT_KEY_MISMATCH  # refused before it listens

    key = tmp_path / "var" / "secret.key"
    key.rename(tmp_path / "kept.key")
    missing = gongji(env, "persons", "token", "P620100000001")
    assert missing.exit_code == EXIT_KEY_MISSING
    assert "secret_key_missing" in missing.output and "Traceback" not in missing.output
    assert not key.exists()  # not silently regenerated


def test_rotation_then_the_old_key_is_refused(env: dict[str, str], tmp_path: Path) -> None:
    seeded(env)
    before = gongji(env, "keys", "fingerprint").output.strip()
    new_key = tmp_path / "new.key"
    assert gongji(env, "keys", "generate", str(new_key)).exit_code == 0
    assert new_key.stat().st_mode & 0o777 == 0o600
    rotated = gongji(env, "keys", "rotate", "--new-key-file", str(new_key), "--batch-rows", "2")
    assert rotated.exit_code == 0, rotated.output
    assert "persons 5" in rotated.output
    after = gongji(env, "keys", "fingerprint").output.strip()
    assert after != before and len(after) == 64
    old = next((tmp_path / "var").glob("secret.key.*.old"))
    refused = gongji({**env, "GONGJI_SECRET_KEY": old.read_text().strip()}, "ledger", "check")
    assert refused.exit_code == EXIT_KEY_MISMATCH
    assert gongji(env, "operators", "totp", "demo").exit_code == 0  # sealed values open


def test_rotation_with_keys_from_the_environment(env: dict[str, str]) -> None:
    old = {**env, "GONGJI_SECRET_KEY": OTHER_KEY}
    seeded(old)
    new_key = base64.urlsafe_b64encode(bytes(range(50, 82))).decode()
    rotated = gongji({**old, "GONGJI_NEW_SECRET_KEY": new_key}, "keys", "rotate")
    assert rotated.exit_code == 0, rotated.output
    assert "set GONGJI_SECRET_KEY to the new key" in rotated.output
    assert gongji(old, "ledger", "check").exit_code == EXIT_KEY_MISMATCH
    assert gongji({**env, "GONGJI_SECRET_KEY": new_key}, "ledger", "check").exit_code == 0
    missing = gongji({**env, "GONGJI_SECRET_KEY": new_key}, "keys", "rotate")
    assert missing.exit_code == 2 and "GONGJI_NEW_SECRET_KEY" in missing.output


def test_an_unfinished_rotation_stops_every_start(env: dict[str, str], tmp_path: Path) -> None:
    seeded(env)
    database = make_engine(f"sqlite:///{tmp_path / 'var' / 'gongji.db'}")
    with database.begin() as connection:
        connection.execute(text("UPDATE key_state SET rotating_to = :t"), {"t": "ab" * 32})
    database.dispose()
    result = gongji(env, "ledger", "check")
    assert result.exit_code == EXIT_KEY_ROTATION_UNFINISHED
    assert "gongji keys rotate" in result.output


def test_sqlite_restore_drill(env: dict[str, str], tmp_path: Path) -> None:
    seeded(env)
    backup = tmp_path / "backup.db"
    made = gongji(env, "backup", str(backup), "--include-key")
    assert made.exit_code == 0, made.output
    key_copy = tmp_path / "backup.db.key"
    assert backup.stat().st_mode & 0o777 == 0o600 and key_copy.stat().st_mode & 0o777 == 0o600
    assert key_copy.read_bytes().strip() not in backup.read_bytes()

    elsewhere = {"GONGJI_DATA_DIR": str(tmp_path / "restored")}
    wrong = tmp_path / "wrong.key"
    wrong.write_text(OTHER_KEY)
    refused = gongji(elsewhere, "restore", str(backup), "--key-file", str(wrong))
    assert refused.exit_code == EXIT_KEY_MISMATCH, refused.output
    assert not (tmp_path / "restored" / "gongji.db").exists()

    restored = gongji(elsewhere, "restore", str(backup), "--key-file", str(key_copy))
    assert restored.exit_code == 0, restored.output
    assert "ledger check: ok" in restored.output
    assert gongji(elsewhere, "ledger", "check").exit_code == 0
    assert _balances(f"sqlite:///{tmp_path / 'var' / 'gongji.db'}") == _balances(
        f"sqlite:///{tmp_path / 'restored' / 'gongji.db'}"
    )
    again = gongji(elsewhere, "restore", str(backup), "--key-file", str(key_copy))
    assert again.exit_code == 2 and "not empty" in again.output


@pytest.fixture(params=["as given", "by the local socket"])
def pg_source(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """A throw-away schema's URL on the test server, and a new empty database's URL with the
    same search path (pg_dump keeps the schema's name): as the test server's URL gives them, and
    by the server's Unix socket (where the URL's host is empty and the query names the socket's
    directory, which pg_dump and pg_restore must be given too)."""
    require_postgres()
    server = make_url(PG_URL)
    if request.param == "by the local socket":
        if not (LOCAL_SOCKET_DIR / ".s.PGSQL.5432").exists():
            pytest.skip(f"no PostgreSQL socket in {LOCAL_SOCKET_DIR} on this machine")
        server = server.set(host=None, port=None).update_query_dict({"host": str(LOCAL_SOCKET_DIR)})
    schema = PostgresSchema()
    database = f"r_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {database}"))
    search_path = {"options": f"-csearch_path={schema.name}"}

    def with_path(url: URL) -> str:
        return url.update_query_dict(search_path).render_as_string(hide_password=False)

    yield with_path(server), with_path(server.set(database=database))
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
    admin.dispose()
    schema.drop()


@pytest.mark.postgres
def test_postgres_restore_drill(pg_source: tuple[str, str], tmp_path: Path) -> None:
    source_url, target_url = pg_source
    key = {"GONGJI_SECRET_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode()}
    source = {"GONGJI_DATA_DIR": str(tmp_path / "a"), "GONGJI_DATABASE_URL": source_url, **key}
    seeded(source)
    backup = tmp_path / "backup.dump"
    made = gongji(source, "backup", str(backup))
    assert made.exit_code == 0, made.output
    assert backup.stat().st_mode & 0o777 == 0o600
    assert not (tmp_path / "backup.dump.key").exists()

    target = {"GONGJI_DATA_DIR": str(tmp_path / "b"), "GONGJI_DATABASE_URL": target_url}
    wrong = gongji({**target, "GONGJI_SECRET_KEY": OTHER_KEY}, "restore", str(backup))
    assert wrong.exit_code == EXIT_KEY_MISMATCH, wrong.output
    restored = gongji({**target, **key}, "restore", str(backup))
    assert restored.exit_code == 0, restored.output
    assert "ledger check: ok" in restored.output
    assert gongji({**target, **key}, "ledger", "check").exit_code == 0
    assert _balances(source_url) == _balances(target_url)


def _balances(url: str) -> list[tuple[object, ...]]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT id, debits_pending, debits_posted, credits_pending, credits_posted "
                    "FROM ledger_accounts ORDER BY id"
                )
            )
            found = [tuple(row) for row in rows]
    finally:
        engine.dispose()
    assert found, "no accounts: the drill compared nothing"
    return found
