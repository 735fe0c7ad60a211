"""What a bureau sends upward each month (docs/backoffice.md §Reports): the mutual-aid report of
a month for one pooling region or all (counts, amounts, cross-province flows, top institutions)
and the month's inheritance payouts. Figures come from the statistics summary, payouts from the
people area's register; the clearing statement is the monthly clearing's own (``/admin/clearing``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import ClassVar, Final

from gongji.backoffice.service import statistics
from gongji.backoffice.service.statistics import Amount, Figures
from gongji.core.errors import GongjiError
from gongji.kernel.context import BUSINESS_TZ
from gongji.people.service import search
from gongji.store.uow import UnitOfWork

TOP_INSTITUTIONS: Final = 10


class MonthInvalid(GongjiError):
    code: ClassVar[str] = "report_month_invalid"
    message_zh: ClassVar[str] = "报表月份应为 年-月，例如 2026-03，且已开始"
    message_en: ClassVar[str] = "A report month is YYYY-MM, e.g. 2026-03, and has begun"


@dataclass(frozen=True, slots=True)
class MonthlyReport:
    month: str
    region: str | None  # None: every region
    figures: Figures
    top_institutions: list[tuple[str, Amount]]
    payouts: list[search.InheritancePayout]

    @property
    def region_figures(self) -> dict[str, dict[str, int]]:
        regions = self.figures.by_region
        return regions if self.region is None else {self.region: regions.get(self.region, {})}

    @property
    def payouts_fen(self) -> int:
        return sum(p.amount_fen for p in self.payouts)


def month_span(text: str, today: date) -> tuple[date, date]:
    try:
        first = date.fromisoformat(f"{text}-01")
    except ValueError:
        raise MonthInvalid() from None
    if first > today:
        raise MonthInvalid()
    following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def _us(day: date) -> int:
    return int(datetime.combine(day, time(0), tzinfo=BUSINESS_TZ).timestamp() * 1_000_000)


def monthly(uow: UnitOfWork, month: str, region: str | None, today: date) -> MonthlyReport:
    first, last = month_span(month, today)
    figures = statistics.figures(uow, first, last)
    payouts = search.inheritance_payouts(uow, _us(first), _us(last + timedelta(days=1)))
    return MonthlyReport(
        month=month,
        region=region,
        figures=figures,
        top_institutions=figures.top_institutions(region, TOP_INSTITUTIONS),
        payouts=payouts,
    )
