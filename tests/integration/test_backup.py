"""Backups taken while writers write are consistent snapshots; the tools' versions are checked.

A SQLite backup is taken in the middle of a stream of committed transfers: restored, its
ledger checks clean and holds a prefix of the stream (every transfer up to some point, none
after), never half of a batch.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from conftest import sqlite_url
from gongji.core.clock import ManualClock
from gongji.ledger.book import Ledger
from gongji.ledger.check import check_ledger
from gongji.ledger.types import CreateAccountResult, CreateTransferResult, NewAccount, Transfer
from gongji.store import backup
from gongji.store.engine import make_engine
from gongji.store.migrate import upgrade

BATCHES = 300
PER_BATCH = 4


def test_a_sqlite_backup_during_writes_is_one_consistent_snapshot(
    tmp_path: Path, clock: ManualClock
) -> None:
    engine = make_engine(sqlite_url(tmp_path))
    upgrade(engine)
    ledger = Ledger(engine, clock)
    assert (
        ledger.create_accounts([NewAccount("a", 1, 1), NewAccount("b", 1, 1)])
        == [CreateAccountResult.OK] * 2
    )
    started = threading.Event()

    def write() -> None:
        for batch in range(BATCHES):
            transfers = [Transfer(f"t{batch:04d}-{n}", "a", "b", 1, 1, 1) for n in range(PER_BATCH)]
            assert ledger.create_transfers(transfers) == [CreateTransferResult.OK] * PER_BATCH
            if batch == 20:
                started.set()

    writer = threading.Thread(target=write)
    writer.start()
    assert started.wait(60)
    out = tmp_path / "backup.db"
    backup.backup_sqlite(tmp_path / "gongji.db", out)
    writer.join()
    engine.dispose()

    restored_dir = tmp_path / "restored"
    backup.restore_sqlite(out, restored_dir / "gongji.db")
    restored = make_engine(sqlite_url(restored_dir))
    try:
        assert check_ledger(restored).ok
        with restored.connect() as connection:
            ids = [row[0] for row in connection.execute(text("SELECT id FROM ledger_transfers"))]
    finally:
        restored.dispose()
    assert len(ids) % PER_BATCH == 0 and len(ids) > 0  # whole batches only
    batches = sorted({transfer_id.split("-")[0] for transfer_id in ids})
    assert batches == [f"t{batch:04d}" for batch in range(len(batches))]  # a prefix


def test_backup_refuses_to_overwrite_and_reports_a_missing_database(tmp_path: Path) -> None:
    existing = tmp_path / "exists.db"
    existing.write_bytes(b"keep me")
    with pytest.raises(backup.BackupProblem, match="no database"):
        backup.backup_sqlite(tmp_path / "absent.db", tmp_path / "new.db")
    make_engine(sqlite_url(tmp_path)).dispose()
    with pytest.raises(backup.BackupProblem, match="exists"):
        backup.backup_sqlite(tmp_path / "gongji.db", existing)
    assert existing.read_bytes() == b"keep me"


def test_an_older_pg_dump_than_the_server_is_refused_with_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(backup, "tool_major", lambda _name: 15)
    with pytest.raises(backup.BackupProblem, match="postgresql-client-17"):
        backup.backup_postgres("postgresql://u@h/db", tmp_path / "out.dump", server_major=17)
    assert not (tmp_path / "out.dump").exists()


def test_the_installed_pg_dump_version_is_read() -> None:
    if not backup.shutil.which("pg_dump"):
        pytest.skip("pg_dump is not installed")
    assert backup.tool_major("pg_dump") >= 10


def test_a_url_becomes_tool_arguments_without_its_password() -> None:
    target = backup.pg_target(
        "postgresql+psycopg://gongji:s3cret@db.internal:6432/prod?options=-csearch_path%3Dbureau"
    )
    assert "s3cret" not in " ".join(target.args)
    assert target.env["PGPASSWORD"] == "s3cret"
    assert target.schema == "bureau"
    assert target.args[-2:] == ("--dbname", "prod")
