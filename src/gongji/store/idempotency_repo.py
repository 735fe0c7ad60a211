"""SQL for idempotency keys: a write's key, its request hash and its stored answer. No decisions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select, update

from gongji.store.tables_access import idempotency_keys


@dataclass(frozen=True, slots=True)
class IdempotencyRow:
    scope: str
    key: str
    request_hash: str
    status_code: int
    response_body: str
    created_at_us: int


def idempotency_record(connection: Connection, scope: str, key: str) -> IdempotencyRow | None:
    statement = select(idempotency_keys).where(
        idempotency_keys.c.scope == scope, idempotency_keys.c.key == key
    )
    row = connection.execute(statement).mappings().first()
    return None if row is None else IdempotencyRow(**dict(row))


def claim_idempotency_key(
    connection: Connection, scope: str, key: str, request_hash: str, at_us: int
) -> None:
    """Insert the key before the command runs: a concurrent duplicate blocks here (PostgreSQL)
    until this transaction ends, then fails with a unique violation and is retried.
    """
    values = {
        "scope": scope,
        "key": key,
        "request_hash": request_hash,
        "status_code": 0,
        "response_body": "",
        "created_at_us": at_us,
    }
    connection.execute(insert(idempotency_keys), [values])


def store_idempotent_response(
    connection: Connection, scope: str, key: str, status_code: int, response_body: str
) -> None:
    statement = (
        update(idempotency_keys)
        .where(idempotency_keys.c.scope == scope, idempotency_keys.c.key == key)
        .values(status_code=status_code, response_body=response_body)
    )
    connection.execute(statement)


def purge_idempotency_keys(connection: Connection, created_before_us: int) -> int:
    statement = delete(idempotency_keys).where(idempotency_keys.c.created_at_us < created_before_us)
    return int(connection.execute(statement).rowcount or 0)
