"""SQL of payment passwords: one row per person who set one. No decisions here
(``gongji.identity.service.payment_password`` decides)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, update

from gongji.store import raw
from gongji.store.engine import is_sqlite
from gongji.store.tables_access import payment_passwords


@dataclass(frozen=True, slots=True)
class PinRow:
    psn_no: str
    pin_hash: str
    set_at_us: int
    failed_attempts: int
    locked_until_us: int | None
    reset_code_hash: str | None
    reset_expires_at_us: int | None
    reset_attempts: int


_PIN = f"SELECT {raw.column_list(PinRow)} FROM payment_passwords WHERE psn_no = :psn_no"
_PIN_LOCKED = f"{_PIN} FOR UPDATE"


def pin_read(psn_no: str) -> raw.Read:
    """The read of :func:`pin` (unlocked), to make ahead with others (``uow.prefetch``)."""
    return _PIN, {"psn_no": psn_no}


def pin(connection: Connection, psn_no: str, *, for_update: bool = False) -> PinRow | None:
    """``for_update`` holds the row until the transaction ends (PostgreSQL), so two wrong
    attempts at once count as two; SQLite's write transaction already serializes them. By
    text, not Core: on PostgreSQL the locking read then carries its transaction's ``BEGIN``,
    where psycopg sends it in a round trip of its own."""
    locked = for_update and not is_sqlite(connection.engine)
    rows = raw.fetch(connection, _PIN_LOCKED if locked else _PIN, {"psn_no": psn_no})
    return PinRow(*rows[0]) if rows else None


def insert_pin(connection: Connection, values: dict[str, Any]) -> None:
    connection.execute(insert(payment_passwords), [values])


def update_pin(connection: Connection, psn_no: str, **values: Any) -> None:
    connection.execute(
        update(payment_passwords).where(payment_passwords.c.psn_no == psn_no).values(**values)
    )
