"""The secret key: a database remembers its key's fingerprint, refuses any other key and a lost
key file, and re-encrypts everything under a new key, resumably, batch by batch.

On SQLite and PostgreSQL (the ``engine`` fixture), through the real services.
"""

from __future__ import annotations

import base64
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from gongji.bootstrap import SEALED_TABLES
from gongji.config import Settings
from gongji.core.clock import ManualClock
from gongji.institutions.service.institutions import issue_credentials
from gongji.kernel.context import Context
from gongji.kernel.key_rotation import KeyRotationRefused, rotate_key
from gongji.kernel.keys import KeyMismatch, KeyMissing, KeyRotationUnfinished, check_key
from gongji.kernel.pii import Vault, fingerprint, key_file
from gongji.sim.demo import seed
from gongji.store.tables import metadata
from support.world import build_context, insured, run

OLD = bytes(range(32))
NEW = bytes(range(100, 132))
OTHER = bytes(range(200, 232))


def settings_with(tmp_path: Path, key: bytes | None) -> Settings:
    env = {"GONGJI_DATA_DIR": str(tmp_path / "data")}
    if key is not None:
        env["GONGJI_SECRET_KEY"] = base64.urlsafe_b64encode(key).decode()
    return Settings.from_env(env)


def populated(engine: Engine, clock: ManualClock, vault: Vault, persons: int = 0) -> Context:
    ctx = replace(build_context(engine, clock), vault=vault)
    seed(ctx)
    for number in range(persons):
        insured(ctx, f"P62010000{number + 100:04d}", wallet=False)
    run(ctx, lambda uow: issue_credentials(ctx, uow, "H62010000001"))
    return ctx


def sealed_plaintexts(engine: Engine, vault: Vault) -> dict[tuple[str, str, str], str]:
    """Every sealed value opened with ``vault`` (raises if one is under another key)."""
    opened: dict[tuple[str, str, str], str] = {}
    with engine.connect() as connection:
        for spec in SEALED_TABLES:
            names = [spec.table.c[c.name] for c in spec.columns]
            for row in connection.execute(select(spec.table.c[spec.key], *names)):
                key = row[0]
                for column, value in zip(spec.columns, row[1:], strict=True):
                    if value is not None:
                        context = column.context(key)
                        opened[(spec.table.name, key, column.name)] = vault.decrypt(
                            value, context=context
                        )
    return opened


def test_every_encrypted_column_is_declared_for_rotation() -> None:
    declared = {(s.table.name, c.name) for s in SEALED_TABLES for c in s.columns}
    in_schema = {
        (table.name, column.name)
        for table in metadata.tables.values()
        for column in table.columns
        if column.name.endswith("_enc") and table.name != "key_state"  # resealed by rotate_key
    }
    assert declared == in_schema


def test_first_start_fingerprints_and_later_starts_refuse_another_key(
    engine: Engine, tmp_path: Path
) -> None:
    vault = check_key(engine, settings_with(tmp_path, OLD), SEALED_TABLES)
    assert vault.index_key  # the blind index key came back out of the database
    assert check_key(engine, settings_with(tmp_path, OLD), SEALED_TABLES).index_key == (
        vault.index_key
    )
    with pytest.raises(KeyMismatch) as refused:
        check_key(engine, settings_with(tmp_path, OTHER), SEALED_TABLES)
    assert fingerprint(OLD)[:16] in refused.value.message("en")
    assert base64.urlsafe_b64encode(OLD).decode() not in refused.value.message("en")


def test_missing_key_file_next_to_sealed_data_is_refused_not_regenerated(
    engine: Engine, clock: ManualClock, tmp_path: Path
) -> None:
    settings = settings_with(tmp_path, None)
    with pytest.raises(KeyMissing):  # production: never a key made up at first start
        check_key(engine, settings, SEALED_TABLES, allow_new_key=False)
    assert not key_file(settings.data_dir).exists()
    vault = check_key(engine, settings, SEALED_TABLES)  # an empty database: a key file is made
    assert key_file(settings.data_dir).stat().st_mode & 0o777 == 0o600
    populated(engine, clock, vault)
    key_file(settings.data_dir).unlink()
    with pytest.raises(KeyMissing):
        check_key(engine, settings, SEALED_TABLES)
    assert not key_file(settings.data_dir).exists()


def test_a_database_sealed_before_fingerprints_is_checked_by_opening_its_values(
    engine: Engine, clock: ManualClock, tmp_path: Path
) -> None:
    populated(engine, clock, Vault(OLD))  # written as before: no fingerprint yet
    with pytest.raises(KeyMismatch):
        check_key(engine, settings_with(tmp_path, OTHER), SEALED_TABLES)
    with pytest.raises(KeyMissing):
        check_key(engine, settings_with(tmp_path, None), SEALED_TABLES)
    assert check_key(engine, settings_with(tmp_path, OLD), SEALED_TABLES).index_key == (
        Vault(OLD).index_key
    )


def test_rotation_interrupted_mid_table_resumes_and_switches_the_key(
    engine: Engine, clock: ManualClock, tmp_path: Path
) -> None:
    vault = check_key(engine, settings_with(tmp_path, OLD), SEALED_TABLES)
    ctx = populated(engine, clock, vault, persons=4)
    before = sealed_plaintexts(engine, vault)
    id_hashes = _column(engine, "persons", "id_hash")

    class Interrupted(Exception):
        pass

    def crash_in_third_batch(table: str, rows_done: int) -> None:
        if table == "persons" and rows_done > 4:
            raise Interrupted  # inside the batch's transaction: it must leave nothing

    with pytest.raises(Interrupted):
        rotate_key(engine, OLD, NEW, SEALED_TABLES, batch_rows=2, on_batch=crash_in_third_batch)
    with pytest.raises(KeyRotationUnfinished):
        check_key(engine, settings_with(tmp_path, OLD), SEALED_TABLES)
    new_vault = Vault(NEW, index_key=vault.index_key)
    under_new = _opens(engine, "persons", "name_enc", new_vault)
    assert under_new == [True] * 4 + [False] * (len(under_new) - 4)  # two committed batches
    with pytest.raises(KeyRotationRefused):
        rotate_key(engine, OLD, OTHER, SEALED_TABLES)  # another target while one is unfinished

    report = rotate_key(engine, OLD, NEW, SEALED_TABLES, batch_rows=2)

    assert report.resumed and report.rows["persons"] == len(under_new)
    with pytest.raises(KeyMismatch):
        check_key(engine, settings_with(tmp_path, OLD), SEALED_TABLES)
    after = check_key(engine, settings_with(tmp_path, NEW), SEALED_TABLES)
    assert sealed_plaintexts(engine, after) == before
    assert _column(engine, "persons", "id_hash") == id_hashes  # the blind index is carried over
    assert after.lookup_hash("x", context="id_number") == ctx.vault.lookup_hash(
        "x", context="id_number"
    )
    with pytest.raises(KeyRotationRefused):
        rotate_key(engine, NEW, NEW, SEALED_TABLES)


def _column(engine: Engine, table: str, column: str) -> list[Any]:
    found = metadata.tables[table]
    with engine.connect() as connection:
        rows = connection.execute(select(found.c[column]).order_by(*found.primary_key.columns))
        return [row[0] for row in rows]


def _opens(engine: Engine, table: str, column: str, vault: Vault) -> list[bool]:
    """Whether each row's value (in key order) opens under ``vault``."""
    context = {"name_enc": "name", "id_enc": "id_number"}[column]
    opened = []
    for value in _column(engine, table, column):
        try:
            vault.decrypt(value, context=context)
            opened.append(True)
        except Exception:
            opened.append(False)
    return opened
