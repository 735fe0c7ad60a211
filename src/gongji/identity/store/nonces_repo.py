"""SQL for the nonces of signed institution requests, kept to refuse a replay. No decisions."""

from __future__ import annotations

from sqlalchemy import Connection

from gongji.store import raw

_SPEND_NONCE = (
    "INSERT INTO request_nonces (key_id, nonce, seen_at_us) VALUES (:key_id, :nonce, :seen_at_us)"
    " ON CONFLICT (key_id, nonce) DO NOTHING RETURNING seen_at_us"
)


_PURGE_NONCES = "DELETE FROM request_nonces WHERE seen_at_us < :before_us"


def spend_read(key_id: str, nonce: str, now_us: int) -> raw.Read:
    """The nonce's insert, which answers a row when the nonce is new and none when it was seen
    already: a statement that answers, so that it can go with the reads a transaction makes
    ahead (``uow.prefetch``). Nothing but this statement reads the table, so what is read with
    it stays true.

    A racing copy of the same request that inserted it first makes this one wait for its end
    (the unique index): committed, the nonce is seen; rolled back, it is spent here."""
    return _SPEND_NONCE, {"key_id": key_id, "nonce": nonce, "seen_at_us": now_us}


def spent_now(connection: Connection, key_id: str, nonce: str, now_us: int) -> bool:
    """Spend the nonce: True when it was new, False when it had been seen (a replay)."""
    return bool(raw.fetch(connection, *spend_read(key_id, nonce, now_us)))


def forget_key_nonces(connection: Connection, before_us: int, key_id: str) -> None:
    """As :func:`purge_nonces` for one key, without the count: a write nothing waits on, which
    a transaction that defers its writes sends with its next statement."""
    params = {"before_us": before_us, "key_id": key_id}
    raw.execute(connection, _PURGE_NONCES + " AND key_id = :key_id", params, keeps_reads=True)


def purge_nonces(connection: Connection, before_us: int, key_id: str | None = None) -> int:
    """Delete nonces seen before ``before_us`` (of one key, or of all); returns how many."""
    if key_id is None:
        return raw.changed(connection, _PURGE_NONCES, {"before_us": before_us})
    params = {"before_us": before_us, "key_id": key_id}
    return raw.changed(connection, _PURGE_NONCES + " AND key_id = :key_id", params)
