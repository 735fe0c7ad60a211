"""SQL of the statistics: which business days changed, a day's figures recomputed from the rows
of record, and the per-day summary read back. No decisions.

Recomputing reads other areas' tables (grants, wallets, relationships, settlements and their
draws, premium payments) read-only, by day and through indexes, the third named inter-area
table read of docs/architecture.md: a summary must count exactly what those rows say.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    String,
    and_,
    delete,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
)

from gongji.store import raw
from gongji.store.tables_clearing import premium_payments
from gongji.store.tables_people import grants, relationships, wallets
from gongji.store.tables_settlements import settlement_draws, settlements
from gongji.store.tables_stats import stats_state, stats_summary

WATERMARK = "refreshed_until_us"
DAY_TOTAL = "day_total"
DAY_LENGTH = 10
SHARED_DRAW_KINDS = ("grant", "authorization")
# Inline, not a bound parameter: PostgreSQL matches a grouped expression to its GROUP BY by text,
# and two binds of the same value are two different parameters.
_COLON = literal_column("':'", String)


@dataclass(frozen=True, slots=True)
class Row:
    day: str
    metric: str
    region: str
    other: str
    count: int
    amount_fen: int


def watermark(connection: Connection) -> int:
    statement = select(stats_state.c.value).where(stats_state.c.name == WATERMARK)
    found = connection.execute(statement).scalar()
    return int(found) if found is not None else 0


def set_watermark(connection: Connection, value_us: int) -> None:
    connection.execute(delete(stats_state).where(stats_state.c.name == WATERMARK))
    connection.execute(insert(stats_state), [{"name": WATERMARK, "value": value_us}])


def changed_grant_days(connection: Connection, since_us: int) -> set[str]:
    g = grants.c
    changed = or_(g.offered_at_us >= since_us, g.accepted_at_us >= since_us)
    statement = select(g.business_date).where(or_(changed, g.closed_at_us >= since_us))
    return {str(day) for day in connection.execute(statement.distinct()).scalars()}


def changed_settlement_days(connection: Connection, since_us: int) -> set[str]:
    """Days of settlements made since, and of those a reversal since has undone."""
    s = settlements.c
    made = select(s.business_date, s.reverses).where(s.created_at_us >= since_us)
    days: set[str] = set()
    undone: list[str] = []
    for row in connection.execute(made):
        days.add(str(row.business_date))
        if row.reverses:
            undone.append(str(row.reverses))
    if undone:
        originals = select(s.business_date).where(s.setl_id.in_(undone)).distinct()
        days |= {str(day) for day in connection.execute(originals).scalars()}
    return days


def changed_span_us(connection: Connection, since_us: int) -> tuple[int, int] | None:
    """The earliest and latest time of a wallet, relationship or premium written since."""
    spans = []
    for column in (
        wallets.c.opened_at_us,
        relationships.c.created_at_us,
        relationships.c.updated_at_us,
        premium_payments.c.paid_at_us,
    ):
        found = connection.execute(
            select(func.min(column), func.max(column)).where(column >= since_us)
        ).first()
        if found is not None and found[0] is not None:
            spans.append((int(found[0]), int(found[1])))
    if not spans:
        return None
    return min(s[0] for s in spans), max(s[1] for s in spans)


def replace_period(connection: Connection, period: str, rows: Iterable[Row]) -> None:
    connection.execute(delete(stats_summary).where(stats_summary.c.period == period))
    values = [_values(r) for r in rows]
    if values:
        connection.execute(insert(stats_summary), values)


def _values(row: Row) -> dict[str, Any]:
    return {
        "period": row.day,
        "metric": row.metric,
        "region": row.region,
        "other": row.other,
        "count": row.count,
        "amount_fen": row.amount_fen,
    }


def roll_up(connection: Connection, period: str, first: str, last: str, length: int) -> None:
    """Replace ``period`` (a month or a year) by the sum of its parts: the periods of
    ``length`` characters from ``first`` to ``last``."""
    t = stats_summary.c
    parts = (
        select(t.metric, t.region, t.other, func.sum(t.count), func.sum(t.amount_fen))
        .where(t.period >= first, t.period <= last, func.length(t.period) == length)
        .group_by(t.metric, t.region, t.other)
    )
    rows = [Row(period, r[0], r[1], r[2], int(r[3]), int(r[4])) for r in connection.execute(parts)]
    replace_period(connection, period, rows)


def _rows(connection: Connection, day: str, metric: str, statement: Any) -> list[Row]:
    return [
        Row(day, metric, str(r[0] or ""), str(r[1] or ""), int(r[2]), int(r[3] or 0))
        for r in connection.execute(statement)
    ]


def day_rows(connection: Connection, day: str, start_us: int, end_us: int) -> list[Row]:
    """Every figure of one business day, recomputed from the rows of record."""
    return [
        *_grant_rows(connection, day),
        *_spent_rows(connection, day),
        *_rows(connection, day, "wallets_opened", _wallets(start_us, end_us)),
        *_rows(connection, day, "relationships", _relationships(start_us, end_us)),
        *_rows(connection, day, "premiums_for_others", _premiums(start_us, end_us)),
    ]


def _grant_rows(connection: Connection, day: str) -> list[Row]:
    g = grants.c
    count, amount = func.count(), func.sum(g.amount_fen)
    by_state = (
        select(g.contributor_region, g.state, count, amount)
        .where(g.business_date == day)
        .group_by(g.contributor_region, g.state)
    )
    accepted = (
        select(g.contributor_region, literal(""), count, amount)
        .where(g.business_date == day, g.accepted_at_us.is_not(None))
        .group_by(g.contributor_region)
    )
    return _rows(connection, day, "grants", by_state) + _rows(
        connection, day, "grants_accepted", accepted
    )


def _spent_rows(connection: Connection, day: str) -> list[Row]:
    d, s = settlement_draws.c, settlements.c
    reversal = settlements.alias("reversal")
    kept = and_(
        d.business_date == day,
        d.kind.in_(SHARED_DRAW_KINDS),
        ~select(reversal.c.setl_id).where(reversal.c.reverses == d.setl_id).exists(),
    )
    count, amount = func.count(), func.sum(d.amount_fen)
    flows = (
        select(d.contributor_region, d.treatment_region, count, amount)
        .where(kept)
        .group_by(d.contributor_region, d.treatment_region)
    )
    place = func.substr(s.institution_code, 1, 1) + _COLON + s.med_type
    by_type = (
        select(d.treatment_region, place, count, amount)
        .select_from(settlement_draws.join(settlements, s.setl_id == d.setl_id))
        .where(kept)
        .group_by(d.treatment_region, place)
    )
    by_place = (
        select(d.treatment_region, s.institution_code, count, amount)
        .select_from(settlement_draws.join(settlements, s.setl_id == d.setl_id))
        .where(kept)
        .group_by(d.treatment_region, s.institution_code)
    )
    return [
        *_rows(connection, day, "spent_flow", flows),
        *_rows(connection, day, "spent_by_type", by_type),
        *_rows(connection, day, "spent_at", by_place),
    ]


def _wallets(start_us: int, end_us: int) -> Any:
    w = wallets.c
    return (
        select(w.place_of_use, literal(""), func.count(), literal(0))
        .where(w.opened_at_us >= start_us, w.opened_at_us < end_us)
        .group_by(w.place_of_use)
    )


def _relationships(start_us: int, end_us: int) -> Any:
    r = relationships.c
    other = r.kind + _COLON + r.status
    return (
        select(literal(""), other, func.count(), literal(0))
        .where(r.created_at_us >= start_us, r.created_at_us < end_us)
        .group_by(other)
    )


def _premiums(start_us: int, end_us: int) -> Any:
    p = premium_payments.c
    return (
        select(p.region, p.kind, func.count(), func.sum(p.amount_fen))
        .where(p.paid_at_us >= start_us, p.paid_at_us < end_us, p.psn_no != p.payer)
        .group_by(p.region, p.kind)
    )


def totals(connection: Connection, periods: Sequence[str]) -> list[Row]:
    """The summary over these periods (days, months, years that do not overlap). Read through
    the driver's cursor: a year is a few thousand rows, and Core's per-row work was most of the
    answer's time."""
    params: dict[str, Any] = {"day_total": DAY_TOTAL}
    statement = (
        "SELECT metric, region, other, SUM(count), SUM(amount_fen) FROM stats_summary"
        f" WHERE {raw.in_list('period', list(periods), params)} AND metric <> :day_total"
        " GROUP BY metric, region, other"
    )
    return [
        Row("", metric, region, other, int(count), int(fen))
        for metric, region, other, count, fen in raw.fetch(connection, statement, params)
    ]


_DAY_TOTALS = (
    "SELECT period, other, count, amount_fen FROM stats_summary"
    " WHERE metric = :day_total AND period >= :first AND period <= :last"
    " AND LENGTH(period) = :day_length ORDER BY period"
)


def day_totals(connection: Connection, first_day: str, last_day: str) -> list[Row]:
    """Each day's totals (``other`` names the metric): what the charts draw."""
    return period_totals(connection, first_day, last_day, DAY_LENGTH)


def period_totals(connection: Connection, first: str, last: str, length: int) -> list[Row]:
    """The totals of each stored period of ``length`` characters (10 a day, 7 a month) from
    ``first`` to ``last``, both included; ``other`` names the metric."""
    params = {"day_total": DAY_TOTAL, "first": first, "last": last, "day_length": length}
    return [
        Row(period, other, "", "", int(count), int(fen))
        for period, other, count, fen in raw.fetch(connection, _DAY_TOTALS, params)
    ]


def size(connection: Connection) -> int:
    return int(connection.execute(select(func.count()).select_from(stats_summary)).scalar_one())
