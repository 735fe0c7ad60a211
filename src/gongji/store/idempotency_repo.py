"""SQL for idempotency keys: a write's key, its request hash and its stored answer. No decisions.

A key is read, claimed and answered in every message of the national interface's visits, so
those three statements are text sent through the driver (gongji.store.raw), not Core: a Core
statement cost about ten times the Python, and on PostgreSQL it went to the server at once,
with the writes waiting before it, where the claim and the answer can wait for the
transaction's next read and its ``COMMIT``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlalchemy import Connection, delete

from gongji.store import raw
from gongji.store.tables_access import idempotency_keys

_RECORD: Final = (
    'SELECT scope, "key", request_hash, status_code, response_body, created_at_us'
    ' FROM idempotency_keys WHERE scope = :scope AND "key" = :key'
)
_CLAIM: Final = (
    'INSERT INTO idempotency_keys (scope, "key", request_hash, status_code, response_body,'
    " created_at_us) VALUES (:scope, :key, :request_hash, 0, '', :created_at_us)"
)
_ANSWER: Final = (
    "UPDATE idempotency_keys SET status_code = :status_code, response_body = :response_body"
    ' WHERE scope = :scope AND "key" = :key'
)


@dataclass(frozen=True, slots=True)
class IdempotencyRow:
    scope: str
    key: str
    request_hash: str
    status_code: int
    response_body: str
    created_at_us: int


def idempotency_record(connection: Connection, scope: str, key: str) -> IdempotencyRow | None:
    rows = raw.fetch(connection, *idempotency_record_read(scope, key))
    return IdempotencyRow(*rows[0]) if rows else None


def idempotency_record_read(scope: str, key: str) -> raw.Read:
    """The read of :func:`idempotency_record`, to make ahead (``raw.prefetch``)."""
    return _RECORD, {"scope": scope, "key": key}


def claim_idempotency_key(
    connection: Connection, scope: str, key: str, request_hash: str, at_us: int
) -> None:
    """Insert the key before the command runs: a concurrent duplicate blocks where its claim
    reaches PostgreSQL (at once, or with its transaction's next read when writes wait:
    ``raw.defer_writes``) until this transaction ends, then fails with a unique violation and
    is retried, and finds the key."""
    values = {"scope": scope, "key": key, "request_hash": request_hash, "created_at_us": at_us}
    raw.execute(connection, _CLAIM, values)


def store_idempotent_response(
    connection: Connection, scope: str, key: str, status_code: int, response_body: str
) -> None:
    answer = {"status_code": status_code, "response_body": response_body}
    raw.execute(connection, _ANSWER, {"scope": scope, "key": key, **answer})


def purge_idempotency_keys(connection: Connection, created_before_us: int) -> int:
    statement = delete(idempotency_keys).where(idempotency_keys.c.created_at_us < created_before_us)
    return int(connection.execute(statement).rowcount or 0)
