"""Re-encrypting every sealed column under a new secret key: resumable, all-or-nothing per batch.

The rotation first records its target (``key_state.rotating_to``, the new key's fingerprint):
from then on no process starts (``KeyRotationUnfinished``) until it is finished, since rows are
sealed under either key. Each declared table (``gongji.kernel.sealed``) is walked in primary-key
order in batches; one batch is one transaction that rewrites its rows and records the last key
done (``key_rotation``), so a rotation stopped anywhere (a crash, ``kill -9``, a full disk)
leaves every row under exactly one known key and resumes after the last committed batch when run
again with the same two keys. The last transaction switches the fingerprint, seals the carried
blind-index key under the new key and forgets the progress.

The keyed hashes (the blind index) do not change: the index key is carried over (see
``gongji.kernel.pii``). The server must be stopped while a rotation runs (docs/security.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar, Final

from sqlalchemy import Engine

from gongji.core.clock import to_us
from gongji.core.errors import GongjiError
from gongji.kernel.keys import seal_index_key, short, vault_for
from gongji.kernel.pii import Vault, fingerprint
from gongji.kernel.sealed import SealedTable
from gongji.store import keys_repo as repo
from gongji.store.uow import UnitOfWork, run_in_transaction

ROTATION_BATCH_ROWS: Final = 500
"""Rows per transaction: small enough that a batch holds its locks briefly, large enough that a
million persons take a few thousand commits."""

BatchHook = Callable[[str, int], None]
"""Called inside each batch's transaction, before its commit, with the table name and the rows
done so far: what a test uses to stop a rotation half-way."""


class KeyRotationRefused(GongjiError):
    code: ClassVar[str] = "key_rotation_refused"
    message_zh: ClassVar[str] = "拒绝密钥轮换：{reason_zh}"
    message_en: ClassVar[str] = "Key rotation refused: {reason_en}"


class KeyStateMissing(GongjiError):
    code: ClassVar[str] = "key_state_missing"
    message_zh: ClassVar[str] = "数据库尚未记录密钥指纹：请先用现有密钥启动一次（任一 gongji 命令）"
    message_en: ClassVar[str] = (
        "The database has no key fingerprint yet: start once with the current key (any gongji "
        "command)"
    )


@dataclass(frozen=True, slots=True)
class RotationReport:
    old_fingerprint: str
    new_fingerprint: str
    rows: dict[str, int]
    resumed: bool


def rotate_key(
    engine: Engine,
    old_key: bytes,
    new_key: bytes,
    sealed: Sequence[SealedTable],
    *,
    batch_rows: int = ROTATION_BATCH_ROWS,
    on_batch: BatchHook | None = None,
) -> RotationReport:
    """Re-encrypt every value of ``sealed`` from ``old_key`` to ``new_key``, or resume doing so."""
    old_vault, new_vault, resumed = _begin(engine, old_key, new_key)
    target = fingerprint(new_key)
    rows = {
        spec.table.name: _rotate_table(
            engine, spec, old_vault, new_vault, target, batch_rows, on_batch
        )
        for spec in sealed
    }
    _finish(engine, new_vault, target)
    return RotationReport(fingerprint(old_key), target, rows, resumed)


def _begin(engine: Engine, old_key: bytes, new_key: bytes) -> tuple[Vault, Vault, bool]:
    target = fingerprint(new_key)

    def work(uow: UnitOfWork) -> tuple[Vault, Vault, bool]:
        state = repo.read_state(uow.connection)
        if state is None:
            raise KeyStateMissing()
        old_vault = vault_for(old_key, state)  # KeyMismatch unless old_key is the database's
        if target == state.fingerprint:
            raise KeyRotationRefused(
                reason_zh="新密钥与当前密钥相同", reason_en="the new key is the current key"
            )
        if state.rotating_to not in (None, target):
            raise KeyRotationRefused(
                reason_zh=f"另一轮换（目标指纹 {short(state.rotating_to or '')}）尚未完成，"
                "请用那把新密钥继续",
                reason_en=f"another rotation (to {short(state.rotating_to or '')}) is "
                "unfinished; continue it with that new key",
            )
        repo.start_rotation(uow.connection, _now_us(), target)
        uow.commit()
        new_vault = Vault(new_key, index_key=old_vault.index_key)
        return old_vault, new_vault, state.rotating_to is not None

    return run_in_transaction(engine, work)


def _rotate_table(
    engine: Engine,
    spec: SealedTable,
    old: Vault,
    new: Vault,
    target: str,
    batch_rows: int,
    on_batch: BatchHook | None,
) -> int:
    """Batches until the table is done; returns its rows re-encrypted (over every run)."""
    names = [column.name for column in spec.columns]
    while True:

        def batch(uow: UnitOfWork) -> repo.Progress:
            done = repo.progress(uow.connection, target, spec.table.name)
            if done.finished:
                return done
            rows = repo.rows_after(
                uow.connection, spec.table, spec.key, names, done.last_key, batch_rows
            )
            for row in rows:
                repo.update_row(
                    uow.connection, spec.table, spec.key, _resealed(spec, row, old, new)
                )
            last = rows[-1][spec.key] if rows else done.last_key
            now = repo.Progress(last, done.rows_done + len(rows), len(rows) < batch_rows)
            repo.save_progress(uow.connection, target, spec.table.name, now)
            if on_batch is not None:
                on_batch(spec.table.name, now.rows_done)
            uow.commit()
            return now

        progress = run_in_transaction(engine, batch)
        if progress.finished:
            return progress.rows_done


def _resealed(
    spec: SealedTable, row: dict[str, object], old: Vault, new: Vault
) -> dict[str, object]:
    key = str(row[spec.key])
    changed: dict[str, object] = {spec.key: row[spec.key]}
    for column in spec.columns:
        value = row[column.name]
        if value is None:
            continue
        context = column.context(key)
        changed[column.name] = new.encrypt(
            old.decrypt(str(value), context=context), context=context
        )
    return changed


def _finish(engine: Engine, new_vault: Vault, target: str) -> None:
    def work(uow: UnitOfWork) -> None:
        sealed = seal_index_key(new_vault, new_vault.index_key)
        repo.finish_rotation(uow.connection, _now_us(), target, sealed)
        repo.forget_progress(uow.connection)
        uow.commit()

    run_in_transaction(engine, work)


def _now_us() -> int:
    return to_us(datetime.now(UTC))
