"""SQL of the person look-up record (``person_lookups``): append and read. No decisions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

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
    connection.execute(insert(person_lookups), [values])


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
