"""Idempotent writes: the same request sent twice has its effects once and gets the same answer.

A write names a key (the client's ``Idempotency-Key``). Within a scope (who is asking), the key
is claimed *before* the command runs, and the response is stored in the *same* transaction as the
command's effects, so either both are committed or neither is:

- same key, same request → the stored response, nothing runs again (``replayed``);
- same key, another request → ``idempotency_key_reused``;
- a concurrent duplicate blocks on the key's primary key until the first transaction ends; its
  unique violation is retried by :func:`gongji.store.uow.run_in_transaction`, and the retry finds
  the stored response;
- a refused command (a ``GongjiError``) raises through here, the caller's transaction rolls back,
  and nothing is stored: the client may correct the cause and send the same key again.

Keys are kept at least :data:`KEYS_KEPT_MIN_US` (48 h); a job purges older ones.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from gongji.core.errors import GongjiError, InvariantViolation
from gongji.kernel.context import Context
from gongji.store import idempotency_repo as repo
from gongji.store.raw import Read
from gongji.store.uow import UnitOfWork

KEY_LENGTH_MAX = 128
SCOPE_LENGTH_MAX = 80
KEYS_KEPT_MIN_US = 48 * 3600 * 1_000_000
_PRINTABLE_ASCII = frozenset(chr(code) for code in range(0x20, 0x7F))


class IdempotencyKeyRequired(GongjiError):
    code: ClassVar[str] = "idempotency_key_required"
    message_zh: ClassVar[str] = "写操作须带 Idempotency-Key 请求头"
    message_en: ClassVar[str] = "A write needs an Idempotency-Key header"


class IdempotencyKeyInvalid(GongjiError):
    code: ClassVar[str] = "idempotency_key_invalid"
    message_zh: ClassVar[str] = "Idempotency-Key 须为 1 至 128 个可打印 ASCII 字符"
    message_en: ClassVar[str] = "The Idempotency-Key must be 1 to 128 printable ASCII characters"


class IdempotencyKeyReused(GongjiError):
    code: ClassVar[str] = "idempotency_key_reused"
    message_zh: ClassVar[str] = "该 Idempotency-Key 已用于另一个请求"
    message_en: ClassVar[str] = "This Idempotency-Key was already used for a different request"


class IdempotencyKeyInUse(GongjiError):
    code: ClassVar[str] = "idempotency_key_in_use"
    message_zh: ClassVar[str] = "使用该 Idempotency-Key 的请求仍在处理中"
    message_en: ClassVar[str] = "A request with this Idempotency-Key is still being processed"


def validate_key(key: str | None) -> str:
    """The key as given, or a refusal: 1–128 printable ASCII characters (space included)."""
    if key is None:
        raise IdempotencyKeyRequired()
    if not 1 <= len(key) <= KEY_LENGTH_MAX or not set(key) <= _PRINTABLE_ASCII:
        raise IdempotencyKeyInvalid()
    return key


def request_hash(name: str, body: Mapping[str, Any]) -> str:
    """SHA-256 of the command name and the canonical JSON of its body (sorted keys, no spaces):
    the same request written with other whitespace or key order hashes the same.
    """
    canonical = json.dumps(
        {"command": name, "body": body},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def scope_for(label: str) -> str:
    """A scope that fits the column: short labels as they are, long ones by their hash."""
    if len(label) <= SCOPE_LENGTH_MAX:
        return label
    return "sha256:" + hashlib.sha256(label.encode()).hexdigest()


def record_read(scope: str, key: str) -> Read:
    """What :func:`run_idempotent` reads first, to make ahead with others (``uow.prefetch``):
    the key's record, unlocked."""
    return repo.idempotency_record_read(scope, key)


def run_idempotent(
    ctx: Context,
    uow: UnitOfWork,
    scope: str,
    key: str,
    request_hash: str,
    status_code: int,
    produce: Callable[[], Mapping[str, Any]],
) -> tuple[int, dict[str, Any], bool]:
    """``(status, body, replayed)``: the stored answer, or ``produce()``'s, recorded with it.

    Never commits: the caller commits once, after this returns, so the key and the effects of
    ``produce`` land together. From the claim on, the transaction defers its writes
    (``uow.defer_writes``): on PostgreSQL the claim, and the command's writes that answer
    nothing, wait for the command's next read or the COMMIT instead of a round trip each; a
    write's error then comes out of the statement that carries it, in this transaction still.
    """
    validate_key(key)
    connection = uow.connection
    found = repo.idempotency_record(connection, scope, key)
    if found is not None:
        return _replay(found, request_hash)
    uow.defer_writes()
    repo.claim_idempotency_key(connection, scope, key, request_hash, ctx.now_us())
    body = dict(produce())
    encoded = json.dumps(body, ensure_ascii=False, sort_keys=True, default=str)
    repo.store_idempotent_response(connection, scope, key, status_code, encoded)
    return status_code, json.loads(encoded), False


def _replay(found: repo.IdempotencyRow, wanted_hash: str) -> tuple[int, dict[str, Any], bool]:
    if found.request_hash != wanted_hash:
        raise IdempotencyKeyReused()
    if found.status_code == 0:
        # The claim and the response are written in one transaction, so a committed claim
        # without a response means a command committed by itself: answer 409, not a guess.
        raise IdempotencyKeyInUse()
    body = json.loads(found.response_body)
    if not isinstance(body, dict):
        raise InvariantViolation(f"stored idempotent response is not an object: {found.key!r}")
    return found.status_code, body, True


def stored_response(uow: UnitOfWork, scope: str, key: str) -> dict[str, Any] | None:
    """The answer recorded under a key, if a command under it committed (for a caller that
    must know what an earlier request did, such as the national interface's 2601)."""
    found = repo.idempotency_record(uow.connection, scope, key)
    if found is None or found.status_code == 0:
        return None
    body = json.loads(found.response_body)
    return body if isinstance(body, dict) else None


def purge_idempotency_keys(ctx: Context, uow: UnitOfWork, older_than_us: int) -> int:
    """Delete keys created more than ``older_than_us`` ago; never fewer than 48 h are kept."""
    kept_us = max(older_than_us, KEYS_KEPT_MIN_US)
    return repo.purge_idempotency_keys(uow.connection, ctx.now_us() - kept_us)
