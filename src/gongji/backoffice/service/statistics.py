"""The back office's business figures (docs/backoffice.md §Statistics): wallets opened,
relationships by kind, grants by state, yuan shared and spent, by day, month, region and
province pair, spending by institution type and med_type, premiums paid for relatives.

Figures answer from ``stats_summary``, which :func:`refresh` keeps: it recomputes, whole, every
business day whose rows changed since its last run (a grant accepted, expired or returned, a
settlement or its reversal, a wallet, a relationship, a premium), then rolls those days' months
and years up, so a refresh is idempotent and a page never scans the ledger or the grant rows; a
year's figures read a year's rows. The watermark is read back by ``REWIND_US``
because a row's time is taken before its transaction commits; a write that stays uncommitted
longer than that after taking its time would be counted only when its day is refreshed again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import ClassVar

from gongji.backoffice.domain import periods
from gongji.backoffice.store import stats_repo as repo
from gongji.backoffice.store.stats_repo import Row
from gongji.core.clock import from_us
from gongji.core.errors import GongjiError
from gongji.kernel.context import BUSINESS_TZ, Context
from gongji.store.uow import UnitOfWork, run_in_transaction

REWIND_US = 10 * 60 * 1_000_000
PERIOD_DAYS_MAX = 3_660


class PeriodInvalid(GongjiError):
    code: ClassVar[str] = "period_invalid"
    message_zh: ClassVar[str] = "统计期间应为 年-月-日，起始不晚于截止，且不超过十年"
    message_en: ClassVar[str] = "A period is two dates, YYYY-MM-DD, in order, at most ten years"


def period(first: str, last: str, today: date) -> tuple[date, date]:
    """The days asked for; by default this month up to today."""
    try:
        end = date.fromisoformat(last) if last else today
        start = date.fromisoformat(first) if first else end.replace(day=1)
    except ValueError:
        raise PeriodInvalid() from None
    if start > end or (end - start).days > PERIOD_DAYS_MAX:
        raise PeriodInvalid()
    return start, end


US_PER_DAY = 86_400 * 1_000_000


def _start_us(day: date) -> int:
    return int(datetime.combine(day, time(0), tzinfo=BUSINESS_TZ).timestamp() * 1_000_000)


def _day_of(at_us: int) -> date:
    return from_us(at_us).astimezone(BUSINESS_TZ).date()


def dirty_days(uow: UnitOfWork, since_us: int) -> set[str]:
    connection = uow.connection
    days = repo.changed_grant_days(connection, since_us)
    days |= repo.changed_settlement_days(connection, since_us)
    span = repo.changed_span_us(connection, since_us)
    if span is not None:
        day, last = _day_of(span[0]), _day_of(span[1])
        while day <= last:
            days.add(day.isoformat())
            day += timedelta(days=1)
    return days


def refresh_in(ctx: Context, uow: UnitOfWork) -> int:
    """Recompute every changed day in the caller's unit of work, then the months and years they
    belong to; returns how many days."""
    now_us = ctx.now_us()
    since = max(repo.watermark(uow.connection) - REWIND_US, 0)
    days = sorted(dirty_days(uow, since))
    for text in days:
        day = date.fromisoformat(text)
        found = repo.day_rows(uow.connection, text, _start_us(day), _start_us(day + timedelta(1)))
        repo.replace_period(uow.connection, text, shaped(text, found))
    for month, first, last in sorted({periods.month_of(d) for d in days}):
        repo.roll_up(uow.connection, month, first, last, len(first))
    for year, first, last in sorted({periods.year_of(d) for d in days}):
        repo.roll_up(uow.connection, year, first, last, len(first))
    repo.set_watermark(uow.connection, now_us)
    return len(days)


def shaped(day: str, rows: list[Row]) -> list[Row]:
    """A day's rows as stored: money spent between two cities becomes what left the one and
    reached the other, and what went between their provinces; plus the day's totals."""
    kept = [r for r in rows if r.metric != "spent_flow"]
    moved: dict[tuple[str, str, str], Amount] = defaultdict(Amount)
    for r in rows:
        if r.metric == "spent_flow":
            amount = Amount(r.count, r.amount_fen)
            for key in (
                ("spent_out", r.region, ""),
                ("spent_in", r.other, ""),
                ("spent_pair", province(r.region), province(r.other)),
            ):
                moved[key] = moved[key] + amount
    kept += [Row(day, m, region, other, a.count, a.fen) for (m, region, other), a in moved.items()]
    totals = {
        "grants": _total([r for r in rows if r.metric == "grants"]),
        "grants_accepted": _total([r for r in rows if r.metric == "grants_accepted"]),
        "spent": _total([r for r in rows if r.metric == "spent_flow"]),
    }
    kept += [Row(day, repo.DAY_TOTAL, "", name, a.count, a.fen) for name, a in totals.items()]
    return kept


def refresh(ctx: Context) -> int:
    def work(uow: UnitOfWork) -> int:
        done = refresh_in(ctx, uow)
        uow.commit()
        return done

    return run_in_transaction(ctx.engine, work)


def province(region: str) -> str:
    return f"{region[:2]}0000" if len(region) == 6 else region


@dataclass(frozen=True, slots=True)
class Amount:
    count: int = 0
    fen: int = 0

    def __add__(self, other: Amount) -> Amount:
        return Amount(self.count + other.count, self.fen + other.fen)


@dataclass(frozen=True, slots=True)
class Figures:
    first: date
    last: date
    wallets_opened: int
    relationships: dict[str, int]  # kind → how many proposed in the period
    grants: dict[str, Amount]  # state now → offered in the period
    accepted: Amount  # yuan shared: grants accepted
    spent: Amount  # shared money spent on settlements
    premiums_for_others: Amount
    by_region: dict[str, dict[str, int]] = field(default_factory=dict)
    province_pairs: dict[tuple[str, str], Amount] = field(default_factory=dict)
    spending_by_type: dict[str, Amount] = field(default_factory=dict)
    institutions: dict[tuple[str, str], Amount] = field(default_factory=dict)  # (region, code)

    @property
    def offered(self) -> Amount:
        return sum(self.grants.values(), Amount())

    def top_institutions(self, region: str | None, count: int) -> list[tuple[str, Amount]]:
        """Where the most shared money was spent (in ``region``, or anywhere)."""
        found = [(code, a) for (r, code), a in self.institutions.items() if region in (None, r)]
        return sorted(found, key=lambda item: (-item[1].fen, item[0]))[:count]

    @property
    def cross_province(self) -> Amount:
        """Shared money spent in another province than the contributor's (异地共济)."""
        pairs = self.province_pairs.items()
        return sum((amount for (a, b), amount in pairs if a != b), Amount())


def figures(uow: UnitOfWork, first: date, last: date) -> Figures:
    rows = repo.totals(uow.connection, periods.periods(first, last))
    grouped: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        grouped[row.metric].append(row)
    return Figures(
        first=first,
        last=last,
        wallets_opened=sum(r.count for r in grouped["wallets_opened"]),
        relationships=_sum_by(grouped["relationships"], lambda r: r.other.split(":")[0]),
        grants=_amounts_by(grouped["grants"], lambda r: r.other),
        accepted=_total(grouped["grants_accepted"]),
        spent=_total(grouped["spent_out"]),
        premiums_for_others=_total(grouped["premiums_for_others"]),
        by_region=_by_region(grouped),
        province_pairs=_pairs(grouped["spent_pair"]),
        spending_by_type=_amounts_by(grouped["spent_by_type"], lambda r: r.other),
        institutions=_pairs(grouped["spent_at"]),
    )


def _total(rows: list[Row]) -> Amount:
    return Amount(sum(r.count for r in rows), sum(r.amount_fen for r in rows))


def _sum_by(rows: list[Row], key: Callable[[Row], str]) -> dict[str, int]:
    found: dict[str, int] = defaultdict(int)
    for row in rows:
        found[key(row)] += row.count
    return dict(found)


def _amounts_by(rows: list[Row], key: Callable[[Row], str]) -> dict[str, Amount]:
    found: dict[str, Amount] = defaultdict(Amount)
    for row in rows:
        name = key(row)
        found[name] = found[name] + Amount(row.count, row.amount_fen)
    return dict(found)


def _pairs(rows: list[Row]) -> dict[tuple[str, str], Amount]:
    return {(row.region, row.other): Amount(row.count, row.amount_fen) for row in rows}


def _by_region(grouped: dict[str, list[Row]]) -> dict[str, dict[str, int]]:
    """Per region: grants offered (count), yuan shared, spent out of and spent in (fen)."""
    found: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in grouped["grants"]:
        found[row.region]["offered"] += row.count
    for row in grouped["grants_accepted"]:
        found[row.region]["shared_fen"] += row.amount_fen
    for row in grouped["spent_out"]:
        found[row.region]["spent_out_fen"] += row.amount_fen
    for row in grouped["spent_in"]:
        found[row.region]["spent_in_fen"] += row.amount_fen
    return {region: dict(values) for region, values in sorted(found.items())}


@dataclass(frozen=True, slots=True)
class DayPoint:
    day: str
    shared_fen: int
    spent_fen: int
    offered: int


def series(uow: UnitOfWork, first: date, last: date) -> list[DayPoint]:
    """Per day of the period (days without figures too): what the charts draw."""
    points: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in repo.day_totals(uow.connection, first.isoformat(), last.isoformat()):
        if row.metric == "grants_accepted":
            points[row.day]["shared"] += row.amount_fen
        elif row.metric == "spent":
            points[row.day]["spent"] += row.amount_fen
        elif row.metric == "grants":
            points[row.day]["offered"] += row.count
    days = []
    day = first
    while day <= last:
        p = points.get(day.isoformat(), {})
        days.append(
            DayPoint(day.isoformat(), p.get("shared", 0), p.get("spent", 0), p.get("offered", 0))
        )
        day += timedelta(days=1)
    return days


@dataclass(frozen=True, slots=True)
class MonthPoint:
    month: str  # YYYY-MM
    offered: int
    shared: Amount  # grants accepted
    spent: Amount  # shared money spent


def month_series(uow: UnitOfWork, first: date, last: date) -> list[MonthPoint]:
    """Per month the period touches (months without figures too), counting only the period's
    days: whole months read their rolled-up rows, the part-months at either end their days."""
    head = first if first.day == 1 else _next_month(first)
    tail = _next_month(last) - timedelta(days=1)  # the last day of ``last``'s month
    whole_end = last if last == tail else last.replace(day=1) - timedelta(days=1)
    reads: list[tuple[date, date, int]] = []
    if head <= whole_end:
        reads.append((head, whole_end, 7))
        if first < head:
            reads.append((first, head - timedelta(days=1), 10))
        if whole_end < last:
            reads.append((whole_end + timedelta(days=1), last, 10))
    else:
        reads.append((first, last, 10))
    found: dict[str, dict[str, Amount]] = defaultdict(lambda: defaultdict(Amount))
    for start, end, length in reads:
        keys = (start.isoformat()[:length], end.isoformat()[:length])
        for row in repo.period_totals(uow.connection, *keys, length):
            found[row.day[:7]][row.metric] += Amount(row.count, row.amount_fen)
    months = []
    month = first.replace(day=1)
    while month <= last:
        totals = found.get(month.isoformat()[:7], {})
        months.append(
            MonthPoint(
                month.isoformat()[:7],
                totals.get("grants", Amount()).count,
                totals.get("grants_accepted", Amount()),
                totals.get("spent", Amount()),
            )
        )
        month = _next_month(month)
    return months


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def summary_rows(uow: UnitOfWork) -> int:
    """How many rows the summary holds: what every figure is read from."""
    return repo.size(uow.connection)
