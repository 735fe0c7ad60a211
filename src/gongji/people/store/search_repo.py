"""SQL for finding persons by their keyed hashes, and a person's inheritance payout. No decisions.

Look-ups compare keyed hashes (``persons.*_hash``) only: no table is decrypted to search it.
Name with region joins the person's enrolments, since a name alone is not a person.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from gongji.store import raw
from gongji.store.query import all_rows, record_columns
from gongji.store.records import PersonRecord
from gongji.store.tables_people import enrolments, inheritance_payouts, persons

_PERSON_COLUMNS = record_columns(persons, PersonRecord)
FOUND_MAX = 50


def persons_by_name_in_region(
    connection: Connection, name_hash: str, region: str
) -> list[PersonRecord]:
    enrolled = select(enrolments.c.psn_no).where(enrolments.c.region == region)
    statement = (
        select(*_PERSON_COLUMNS)
        .where(persons.c.name_hash == name_hash, persons.c.psn_no.in_(enrolled))
        .order_by(persons.c.psn_no)
        .limit(FOUND_MAX)
    )
    return all_rows(connection, statement, PersonRecord)


@dataclass(frozen=True, slots=True)
class InheritancePayout:
    psn_no: str
    death_certificate_no: str
    heirs: list[dict[str, Any]]  # name and ID number masked, share in fen
    amount_fen: int
    operator: str
    paid_at_us: int


_PAYOUT = (
    "SELECT psn_no, death_certificate_no, heirs, amount_fen, operator, paid_at_us"
    " FROM inheritance_payouts WHERE psn_no = :psn_no"
)


def inheritance_payout(connection: Connection, psn_no: str) -> InheritancePayout | None:
    found = raw.fetch(connection, *inheritance_payout_read(psn_no))
    if not found:
        return None
    psn, certificate, heirs, amount_fen, operator, paid_at_us = found[0]
    return InheritancePayout(
        psn_no=psn,
        death_certificate_no=certificate,
        heirs=list(json.loads(heirs)),
        amount_fen=int(amount_fen),
        operator=operator,
        paid_at_us=int(paid_at_us),
    )


def inheritance_payout_read(psn_no: str) -> raw.Read:
    """The read of :func:`inheritance_payout`, to make ahead (``raw.prefetch``)."""
    return _PAYOUT, {"psn_no": psn_no}


def mobile_enc(connection: Connection, psn_no: str) -> str | None:
    statement = select(persons.c.mobile_enc).where(persons.c.psn_no == psn_no)
    row = connection.execute(statement).first()
    return None if row is None or row.mobile_enc is None else str(row.mobile_enc)


def payouts_between(connection: Connection, from_us: int, to_us: int) -> list[InheritancePayout]:
    """Inheritance payouts made in ``[from_us, to_us)``, in the order they were paid."""
    p = inheritance_payouts.c
    statement = (
        select(p.psn_no)
        .where(p.paid_at_us >= from_us, p.paid_at_us < to_us)
        .order_by(p.paid_at_us, p.psn_no)
    )
    found = [
        inheritance_payout(connection, str(psn_no))
        for psn_no in connection.execute(statement).scalars()
    ]
    return [payout for payout in found if payout is not None]
