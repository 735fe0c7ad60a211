"""SQL for premiums paid for relatives (代缴) and the draws that paid them. No decisions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

from sqlalchemy import Connection, insert, select

from gongji.store import raw
from gongji.store.tables_clearing import (
    premium_draws,
    premium_payments,
)

PREMIUMS_LISTED_MAX = 500


@dataclass(frozen=True, slots=True)
class PremiumRow:
    psn_no: str
    year: int
    kind: str
    payer: str
    source: str
    region: str
    amount_fen: int
    paid_at_us: int


@dataclass(frozen=True, slots=True)
class PremiumDrawRow:
    """One draw of a premium payment (its key and place come from the payment)."""

    source: str  # own | grant
    source_id: str
    contributor: str
    contributor_region: str
    region: str
    amount_fen: int
    business_date: str


_PREMIUM_COLUMNS = [premium_payments.c[f.name] for f in fields(PremiumRow)]


def premium_payment(connection: Connection, psn_no: str, year: int, kind: str) -> PremiumRow | None:
    statement = select(*_PREMIUM_COLUMNS).where(
        premium_payments.c.psn_no == psn_no,
        premium_payments.c.year == year,
        premium_payments.c.kind == kind,
    )
    row = connection.execute(statement).mappings().first()
    return None if row is None else PremiumRow(**dict(row))


def insert_premium_payment(
    connection: Connection, row: PremiumRow, draws: Sequence[PremiumDrawRow]
) -> None:
    connection.execute(
        insert(premium_payments), [{f.name: getattr(row, f.name) for f in fields(row)}]
    )
    connection.execute(
        insert(premium_draws),
        [
            {"psn_no": row.psn_no, "year": row.year, "kind": row.kind, "seq": seq}
            | {f.name: getattr(draw, f.name) for f in fields(draw)}
            for seq, draw in enumerate(draws)
        ],
    )


def premiums_involving(
    connection: Connection, psn_no: str, limit: int = PREMIUMS_LISTED_MAX
) -> list[PremiumRow]:
    """Premiums the person paid or that were paid for them, latest year first."""
    found = raw.fetch(connection, *premiums_involving_read(psn_no, limit))
    return [PremiumRow(*row) for row in found]


def premiums_involving_read(psn_no: str, limit: int = PREMIUMS_LISTED_MAX) -> raw.Read:
    """The read of :func:`premiums_involving`, to make ahead (``raw.prefetch``)."""
    statement = (
        f"SELECT {raw.column_list(PremiumRow)} FROM premium_payments"
        " WHERE psn_no = :psn_no OR payer = :psn_no"
        " ORDER BY year DESC, paid_at_us DESC, kind LIMIT :limit"
    )
    return statement, {"psn_no": psn_no, "limit": limit}
