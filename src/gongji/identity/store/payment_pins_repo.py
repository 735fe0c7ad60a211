"""SQL of payment passwords: one row per person who set one. No decisions here
(``gongji.identity.service.payment_password`` decides)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

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


def pin(connection: Connection, psn_no: str, *, for_update: bool = False) -> PinRow | None:
    """``for_update`` holds the row until the transaction ends (PostgreSQL), so two wrong
    attempts at once count as two; SQLite's write transaction already serializes them."""
    statement = select(payment_passwords).where(payment_passwords.c.psn_no == psn_no)
    if for_update and not is_sqlite(connection.engine):
        statement = statement.with_for_update()
    row = connection.execute(statement).mappings().first()
    return None if row is None else PinRow(**dict(row))


def insert_pin(connection: Connection, values: dict[str, Any]) -> None:
    connection.execute(insert(payment_passwords), [values])


def update_pin(connection: Connection, psn_no: str, **values: Any) -> None:
    connection.execute(
        update(payment_passwords).where(payment_passwords.c.psn_no == psn_no).values(**values)
    )
