"""SQL of the person look-up record (``person_lookups``): append and read. No decisions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from gongji.store import raw
from gongji.store.tables_people import person_lookups


@dataclass(frozen=True, slots=True)
class LookupRow:
    id: int
    institution_code: str
    psn_no: str | None
    cert_type: str
    purpose: str
    msgid: str
    operator: str
    outcome: str
    at_us: int


def insert_lookup(
    connection: Connection,
    *,
    institution_code: str,
    psn_no: str | None,
    cert_type: str,
    purpose: str,
    msgid: str,
    operator: str,
    outcome: str,
    at_us: int,
) -> None:
    """By text, not Core: in a transaction that defers its writes (the national interface's
    1101, a signed write) the row goes with the next read or the ``COMMIT``, where a Core
    statement was a round trip of its own on PostgreSQL. No read made ahead shows this table,
    so what was read ahead stays (``keeps_reads``)."""
    values = {
        "institution_code": institution_code,
        "psn_no": psn_no,
        "cert_type": cert_type,
        "purpose": purpose,
        "msgid": msgid,
        "operator": operator,
        "outcome": outcome,
        "at_us": at_us,
    }
    raw.execute(connection, _INSERT_LOOKUP, values, keeps_reads=True)


_INSERT_LOOKUP = raw.insert_statement(
    "person_lookups",
    ("institution_code", "psn_no", "cert_type", "purpose", "msgid", "operator", "outcome", "at_us"),
)


def lookups(
    connection: Connection,
    *,
    psn_no: str | None,
    institution_code: str | None,
    since_us: int,
    limit: int,
) -> list[LookupRow]:
    """The newest first, filtered by person and/or institution, at most ``limit``."""
    statement = select(person_lookups).where(person_lookups.c.at_us >= since_us)
    if psn_no is not None:
        statement = statement.where(person_lookups.c.psn_no == psn_no)
    if institution_code is not None:
        statement = statement.where(person_lookups.c.institution_code == institution_code)
    statement = statement.order_by(person_lookups.c.at_us.desc(), person_lookups.c.id.desc())
    rows = connection.execute(statement.limit(limit)).mappings()
    return [LookupRow(**dict(row)) for row in rows]
