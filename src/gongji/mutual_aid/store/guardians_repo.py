"""SQL of guardians' consents (亲情账户). No decisions here (``mutual_aid.service.guardians``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from gongji.store.tables_family import guardian_consents


@dataclass(frozen=True, slots=True)
class ConsentRow:
    id: str
    relationship_id: str
    holder: str
    guardian: str
    granted_at_us: int
    ended_at_us: int | None
    end_reason: str | None


def _rows(connection: Connection, *conditions: Any) -> list[ConsentRow]:
    statement = (
        select(guardian_consents)
        .where(*conditions)
        .order_by(guardian_consents.c.granted_at_us, guardian_consents.c.id)
    )
    return [ConsentRow(**dict(row)) for row in connection.execute(statement).mappings()]


def consent(connection: Connection, consent_id: str) -> ConsentRow | None:
    found = _rows(connection, guardian_consents.c.id == consent_id)
    return found[0] if found else None


def open_consents_of_holder(connection: Connection, holder: str) -> list[ConsentRow]:
    return _rows(
        connection, guardian_consents.c.holder == holder, guardian_consents.c.ended_at_us.is_(None)
    )


def open_consents_of_guardian(connection: Connection, guardian: str) -> list[ConsentRow]:
    return _rows(
        connection,
        guardian_consents.c.guardian == guardian,
        guardian_consents.c.ended_at_us.is_(None),
    )


def open_consents_of_relationship(connection: Connection, relationship_id: str) -> list[ConsentRow]:
    return _rows(
        connection,
        guardian_consents.c.relationship_id == relationship_id,
        guardian_consents.c.ended_at_us.is_(None),
    )


def insert_consent(connection: Connection, values: dict[str, Any]) -> None:
    connection.execute(insert(guardian_consents), [values])


def end_consent(connection: Connection, consent_id: str, at_us: int, reason: str) -> bool:
    """False when it had ended already (a racing revocation, a replay)."""
    result = connection.execute(
        update(guardian_consents)
        .where(guardian_consents.c.id == consent_id, guardian_consents.c.ended_at_us.is_(None))
        .values(ended_at_us=at_us, end_reason=reason)
    )
    return bool(result.rowcount)
