"""SQL for monthly clearing (清算) and premiums paid for relatives (代缴). No decisions.

Clearing reads shared draws already summed per (contributor region, region where the money was
spent): a month of postings stays a few hundred rows however many settlements and premiums it
holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Connection, Select, func, insert, select

from gongji.store.tables_clearing import (
    clearing_lines,
    clearing_runs,
    premium_draws,
)
from gongji.store.tables_settlements import settlement_draws, settlements

SHARED_DRAW_KINDS = ("grant", "authorization")


@dataclass(frozen=True, slots=True)
class DrawSum:
    """Shared draws of one (contributor region, treatment region): their sum and count."""

    contributor_region: str
    treatment_region: str
    amount_fen: int
    draws: int


@dataclass(frozen=True, slots=True)
class ClearingRunRow:
    month: str
    digest: str
    draws: int
    total_fen: int
    computed_at_us: int


@dataclass(frozen=True, slots=True)
class ClearingLineRow:
    month: str
    payer_region: str
    payee_region: str
    amount_fen: int
    draws: int


def _sums(connection: Connection, statement: Select[Any]) -> list[DrawSum]:
    return [
        DrawSum(str(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in connection.execute(statement)
    ]


def shared_draw_sums(connection: Connection, first_date: str, last_date: str) -> list[DrawSum]:
    """Grant and authorization draws of settlements made on business dates first..last."""
    d = settlement_draws
    statement = (
        select(d.c.contributor_region, d.c.treatment_region, func.sum(d.c.amount_fen), func.count())
        .where(
            d.c.kind.in_(SHARED_DRAW_KINDS),
            d.c.business_date >= first_date,
            d.c.business_date <= last_date,
        )
        .group_by(d.c.contributor_region, d.c.treatment_region)
    )
    return _sums(connection, statement)


def premium_draw_sums(connection: Connection, first_date: str, last_date: str) -> list[DrawSum]:
    """Draws of premiums paid on business dates first..last: all of them are mutual aid."""
    d = premium_draws
    statement = (
        select(d.c.contributor_region, d.c.region, func.sum(d.c.amount_fen), func.count())
        .where(d.c.business_date >= first_date, d.c.business_date <= last_date)
        .group_by(d.c.contributor_region, d.c.region)
    )
    return _sums(connection, statement)


def reversed_draw_sums(connection: Connection, first_date: str, last_date: str) -> list[DrawSum]:
    """The shared draws of the settlements reversed on business dates first..last.

    A reversal writes no draws of its own: it gives back exactly its original's, so these are
    read through ``reverses``, whatever month the original was settled in.
    """
    d, s = settlement_draws, settlements
    statement = (
        select(d.c.contributor_region, d.c.treatment_region, func.sum(d.c.amount_fen), func.count())
        .select_from(s.join(d, d.c.setl_id == s.c.reverses))
        .where(
            s.c.kind == "reversal",
            s.c.business_date >= first_date,
            s.c.business_date <= last_date,
            d.c.kind.in_(SHARED_DRAW_KINDS),
        )
        .group_by(d.c.contributor_region, d.c.treatment_region)
    )
    return _sums(connection, statement)


_RUN_COLUMNS = [clearing_runs.c[f.name] for f in fields(ClearingRunRow)]
_LINE_COLUMNS = [clearing_lines.c[f.name] for f in fields(ClearingLineRow)]


def clearing_run(connection: Connection, month: str) -> ClearingRunRow | None:
    statement = select(*_RUN_COLUMNS).where(clearing_runs.c.month == month)
    row = connection.execute(statement).mappings().first()
    return None if row is None else ClearingRunRow(**dict(row))


def clearing_lines_of(connection: Connection, month: str) -> list[ClearingLineRow]:
    statement = (
        select(*_LINE_COLUMNS)
        .where(clearing_lines.c.month == month)
        .order_by(clearing_lines.c.payer_region, clearing_lines.c.payee_region)
    )
    return [ClearingLineRow(**dict(row)) for row in connection.execute(statement).mappings()]


def insert_clearing(
    connection: Connection, run: ClearingRunRow, lines: Sequence[ClearingLineRow]
) -> None:
    """The run row first: a concurrent second run fails on its key and retries as a reader."""
    connection.execute(insert(clearing_runs), [{f.name: getattr(run, f.name) for f in fields(run)}])
    if lines:
        connection.execute(
            insert(clearing_lines),
            [{f.name: getattr(line, f.name) for f in fields(line)} for line in lines],
        )
