"""Whether the configured secret key is the database's own, checked before anything runs.

A database remembers its key by a fingerprint (:func:`gongji.kernel.pii.fingerprint`) stored
at the first start with a key. From then on every process that opens the database (the server,
each command) refuses to start when:

- no key is configured and the key file is gone, but the database holds data sealed under a
  key (a fresh key would be generated and every sealed value would become unreadable, while
  writes under the new key went on succeeding): :class:`KeyMissing`;
- the configured key's fingerprint is not the stored one (operator sign-in and institutions'
  signatures would answer 500, SMS codes would silently not be sent): :class:`KeyMismatch`;
- a rotation was started and not finished (some rows are sealed under each key):
  :class:`KeyRotationUnfinished`.

A database that predates the fingerprint (or was populated before it) is checked once by
opening one sealed value of each declared table with the key, then fingerprinted.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import ClassVar

from cryptography.exceptions import InvalidTag
from sqlalchemy import Connection, Engine

from gongji.config import Settings
from gongji.core.clock import to_us
from gongji.core.errors import GongjiError
from gongji.kernel.pii import (
    Vault,
    derived_index_key,
    fingerprint,
    key_file,
    new_key,
    read_key,
    read_key_file,
    write_key_file,
)
from gongji.kernel.sealed import SealedTable
from gongji.store import keys_repo as repo
from gongji.store.uow import UnitOfWork, run_in_transaction

INDEX_KEY_CONTEXT = "blind index key"
FINGERPRINT_SHOWN = 16
"""Hex digits of a fingerprint printed in messages: enough to tell keys apart."""


class KeyMissing(GongjiError):
    code: ClassVar[str] = "secret_key_missing"
    message_zh: ClassVar[str] = (
        "数据库已有加密数据，但未配置密钥（GONGJI_SECRET_KEY）且密钥文件 {path} 不存在；"
        "请恢复原密钥，切勿生成新密钥"
    )
    message_en: ClassVar[str] = (
        "The database holds encrypted data but no key is configured (GONGJI_SECRET_KEY) and "
        "the key file {path} is missing; restore the original key, never generate a new one"
    )


class KeyMismatch(GongjiError):
    code: ClassVar[str] = "secret_key_mismatch"
    message_zh: ClassVar[str] = (
        "配置的密钥（指纹 {given}）不是本数据库的密钥（指纹 {stored}），拒绝启动"
    )
    message_en: ClassVar[str] = (
        "The configured key (fingerprint {given}) is not this database's key "
        "(fingerprint {stored}); refusing to start"
    )


class KeyRotationUnfinished(GongjiError):
    code: ClassVar[str] = "key_rotation_unfinished"
    message_zh: ClassVar[str] = (
        "密钥轮换尚未完成（目标指纹 {target}）：请用原密钥和新密钥再次运行 gongji keys rotate"
    )
    message_en: ClassVar[str] = (
        "A key rotation is unfinished (to fingerprint {target}): run gongji keys rotate again "
        "with the old and the new key"
    )


def short(fingerprint_hex: str) -> str:
    return fingerprint_hex[:FINGERPRINT_SHOWN]


def check_key(
    engine: Engine,
    settings: Settings,
    sealed: Sequence[SealedTable],
    *,
    allow_new_key: bool = True,
) -> Vault:
    """The vault of the configured key, once it is known to be the database's own (a database
    without a fingerprint gets one, and a key file is created only for a database that holds
    nothing sealed). ``sealed``: every area's encrypted columns (``bootstrap.SEALED_TABLES``).
    ``allow_new_key=False`` (production) refuses to create a key file even for an empty
    database: a production key comes from where keys are kept, never from a first start.

    Raises :class:`KeyMissing`, :class:`KeyMismatch` or :class:`KeyRotationUnfinished`.
    """
    key = read_key(settings.secret_key, settings.data_dir)
    if key is None and not allow_new_key:
        raise KeyMissing(path=str(key_file(settings.data_dir)))
    state = run_in_transaction(engine, lambda uow: repo.read_state(uow.connection), read_only=True)
    if state is None:
        return _first_start(engine, settings, key, sealed)
    if key is None:
        raise KeyMissing(path=str(key_file(settings.data_dir)))
    if state.rotating_to is not None:
        raise KeyRotationUnfinished(target=short(state.rotating_to))
    return vault_for(key, state)


def vault_for(key: bytes, state: repo.KeyStateRow) -> Vault:
    """The vault of ``key`` with the database's blind-index key, if ``key`` is its key."""
    given = fingerprint(key)
    if given != state.fingerprint:
        raise KeyMismatch(given=short(given), stored=short(state.fingerprint))
    return Vault(key, index_key=open_index_key(Vault(key), state.index_key_enc))


def open_index_key(vault: Vault, sealed_index_key: str) -> bytes:
    return base64.urlsafe_b64decode(vault.decrypt(sealed_index_key, context=INDEX_KEY_CONTEXT))


def seal_index_key(vault: Vault, index_key: bytes) -> str:
    return vault.encrypt(base64.urlsafe_b64encode(index_key).decode(), context=INDEX_KEY_CONTEXT)


def _first_start(
    engine: Engine, settings: Settings, key: bytes | None, sealed: Sequence[SealedTable]
) -> Vault:
    samples = run_in_transaction(
        engine, lambda uow: _samples(uow.connection, sealed), read_only=True
    )
    if key is None:
        if samples:
            raise KeyMissing(path=str(key_file(settings.data_dir)))
        key = _new_key_file(settings)
    vault = Vault(key)
    for value, context in samples:
        try:
            vault.decrypt(value, context=context)
        except (InvalidTag, ValueError):
            raise KeyMismatch(given=short(fingerprint(key)), stored="unrecorded") from None
    return _remember(engine, key, vault)


def _new_key_file(settings: Settings) -> bytes:
    """A new key file; when another process starting at the same moment made it first, its."""
    path = key_file(settings.data_dir)
    key = new_key()
    try:
        write_key_file(path, key)
    except FileExistsError:
        return read_key_file(path)
    return key


def _samples(connection: Connection, sealed: Sequence[SealedTable]) -> list[tuple[str, str]]:
    """One sealed value (with its context) per declared column that has any."""
    found: list[tuple[str, str]] = []
    for spec in sealed:
        for column in spec.columns:
            row = repo.first_sealed_value(connection, spec.table, spec.key, column.name)
            if row is not None:
                found.append((row[column.name], column.context(row[spec.key])))
    return found


def _remember(engine: Engine, key: bytes, vault: Vault) -> Vault:
    """Store the fingerprint; when another process got there first, its row decides."""

    def work(uow: UnitOfWork) -> repo.KeyStateRow:
        state = repo.read_state(uow.connection)
        if state is None:
            sealed_index = seal_index_key(vault, derived_index_key(key))
            repo.insert_state(uow.connection, fingerprint(key), sealed_index, _now_us())
            state = repo.read_state(uow.connection)
            assert state is not None
        uow.commit()
        return state

    return vault_for(key, run_in_transaction(engine, work))


def _now_us() -> int:
    return to_us(datetime.now(UTC))
