"""SQL for the nonces of signed institution requests, kept to refuse a replay. No decisions."""

from __future__ import annotations

from sqlalchemy import Connection

from gongji.store import raw

_NONCE_SEEN = "SELECT seen_at_us FROM request_nonces WHERE key_id = :key_id AND nonce = :nonce"


_INSERT_NONCE = (
    "INSERT INTO request_nonces (key_id, nonce, seen_at_us) VALUES (:key_id, :nonce, :seen_at_us)"
)


_PURGE_NONCES = "DELETE FROM request_nonces WHERE seen_at_us < :before_us"


def nonce_read(key_id: str, nonce: str) -> raw.Read:
    return _NONCE_SEEN, {"key_id": key_id, "nonce": nonce}


def nonce_seen(connection: Connection, key_id: str, nonce: str) -> bool:
    return bool(raw.fetch(connection, *nonce_read(key_id, nonce)))


def insert_nonce(connection: Connection, key_id: str, nonce: str, now_us: int) -> None:
    """Raises a unique violation when a racing request inserted the same nonce first. Nothing
    but the nonce's own check reads this table: what the transaction read ahead stays."""
    params = {"key_id": key_id, "nonce": nonce, "seen_at_us": now_us}
    raw.execute(connection, _INSERT_NONCE, params, keeps_reads=True)


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
