"""SQL of notifications and persons' settings. No decisions.

An insert names its id and writes only when the id is new, so a business event enqueued twice is
one row. An SMS changes state only from the state the caller saw (``WHERE sms_state = …``):
of two deliverers racing for one message, one claims it and the other sees nothing to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TypedDict, Unpack

from sqlalchemy import Connection, func, select, update

from gongji.store import raw
from gongji.store.tables_family import notifications


@dataclass(frozen=True, slots=True)
class NotificationRow:
    id: str
    psn_no: str
    kind: str
    params: str
    created_at_us: int
    read_at_us: int | None
    sms_state: str
    sms_attempts: int
    sms_due_at_us: int
    sms_claimed_at_us: int | None
    sms_done_at_us: int | None


@dataclass(frozen=True, slots=True)
class SettingsRow:
    psn_no: str
    sms_enabled: bool
    sms_muted_kinds: str
    quiet_start: str
    quiet_end: str
    use_mutual_aid: bool | None  # None: the person never chose (docs/rules.md §6.2)
    updated_at_us: int


class SmsChanges(TypedDict, total=False):
    """What a step of an SMS's delivery may change; its state always."""

    sms_state: str
    sms_attempts: int
    sms_due_at_us: int
    sms_claimed_at_us: int
    sms_done_at_us: int


_COLUMNS = [notifications.c[name] for name in NotificationRow.__dataclass_fields__]


def insert_if_new(connection: Connection, row: NotificationRow) -> bool:
    """``INSERT … ON CONFLICT DO NOTHING`` on both databases: two transactions enqueuing the same
    event at once never fail each other's business write over a notification. Fixed text to
    the driver (store/raw.py): built through Core, with its values inlined, this statement cost
    a settlement that tells contributors more than the rest of its writes together."""
    values = raw.record_params(row)
    statement = _insert_if_new_statement(tuple(values))
    return bool(raw.fetch(connection, statement, values))


def insert_unless_there(connection: Connection, row: NotificationRow) -> None:
    """As :func:`insert_if_new` without asking whether it was new: a write that answers
    nothing, which on PostgreSQL may wait for the transaction's next statement
    (``uow.defer_writes``) instead of a round trip of its own."""
    values = raw.record_params(row)
    raw.execute(connection, _insert_if_new_statement(tuple(values), answer=False), values)


@lru_cache(maxsize=8)
def _insert_if_new_statement(columns: tuple[str, ...], *, answer: bool = True) -> str:
    statement = f"{raw.insert_statement('notifications', columns)} ON CONFLICT DO NOTHING"
    return f"{statement} RETURNING id" if answer else statement


def notification(connection: Connection, notification_id: str) -> NotificationRow | None:
    row = connection.execute(select(*_COLUMNS).where(notifications.c.id == notification_id)).first()
    return NotificationRow(*row) if row else None


def inbox(
    connection: Connection, psn_no: str, limit: int, before_us: int | None = None
) -> list[NotificationRow]:
    statement = select(*_COLUMNS).where(notifications.c.psn_no == psn_no)
    if before_us is not None:
        statement = statement.where(notifications.c.created_at_us < before_us)
    statement = statement.order_by(
        notifications.c.created_at_us.desc(), notifications.c.id.desc()
    ).limit(limit)
    return [NotificationRow(*row) for row in connection.execute(statement)]


def unread_count(connection: Connection, psn_no: str) -> int:
    statement = select(func.count()).where(
        notifications.c.psn_no == psn_no, notifications.c.read_at_us.is_(None)
    )
    return int(connection.execute(statement).scalar_one())


def mark_read(connection: Connection, psn_no: str, now_us: int) -> int:
    statement = (
        update(notifications)
        .where(notifications.c.psn_no == psn_no, notifications.c.read_at_us.is_(None))
        .values(read_at_us=now_us)
    )
    return connection.execute(statement).rowcount


def due_sms(connection: Connection, now_us: int, limit: int) -> list[NotificationRow]:
    statement = (
        select(*_COLUMNS)
        .where(notifications.c.sms_state == "pending", notifications.c.sms_due_at_us <= now_us)
        .order_by(notifications.c.sms_due_at_us, notifications.c.id)
        .limit(limit)
    )
    return [NotificationRow(*row) for row in connection.execute(statement)]


def stale_claims(connection: Connection, claimed_before_us: int) -> list[str]:
    statement = select(notifications.c.id).where(
        notifications.c.sms_state == "sending",
        notifications.c.sms_claimed_at_us < claimed_before_us,
    )
    return [row[0] for row in connection.execute(statement)]


def move_sms(
    connection: Connection, notification_id: str, from_state: str, **values: Unpack[SmsChanges]
) -> bool:
    """Change an SMS's state only if it is still ``from_state``; True when this call did."""
    statement = (
        update(notifications)
        .where(notifications.c.id == notification_id, notifications.c.sms_state == from_state)
        .values(**values)
    )
    return connection.execute(statement).rowcount == 1


_SETTINGS_OF = (
    f"SELECT {', '.join(SettingsRow.__dataclass_fields__)} FROM person_settings"
    " WHERE psn_no = :psn_no"
)


def settings_read(psn_no: str) -> raw.Read:
    """The read of :func:`settings`, to make ahead (``raw.prefetch``): every settlement paid
    from an account asks for the patient's standing choice of shared money."""
    return _SETTINGS_OF, {"psn_no": psn_no}


def settings(connection: Connection, psn_no: str) -> SettingsRow | None:
    found = raw.fetch(connection, *settings_read(psn_no))
    if not found:
        return None
    psn, sms_enabled, muted, quiet_start, quiet_end, use_mutual_aid, updated_at_us = found[0]
    chosen = None if use_mutual_aid is None else bool(use_mutual_aid)
    return SettingsRow(  # SQLite's booleans arrive as 0 and 1 through the driver
        psn, bool(sms_enabled), muted, quiet_start, quiet_end, chosen, updated_at_us
    )


def save_settings(connection: Connection, row: SettingsRow) -> None:
    """The person's settings, made or replaced: one upsert by text, which on PostgreSQL waits
    for the transaction's next statement (``uow.defer_writes``)."""
    raw.execute(connection, _SAVE_SETTINGS, raw.record_params(row))


_SETTINGS_COLUMNS = raw.field_names(SettingsRow)
_SAVE_SETTINGS = (
    f"{raw.insert_statement('person_settings', _SETTINGS_COLUMNS)} ON CONFLICT (psn_no) DO UPDATE"
    f" SET {', '.join(f'{c} = excluded.{c}' for c in _SETTINGS_COLUMNS if c != 'psn_no')}"
)
