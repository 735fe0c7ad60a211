"""What a bureau sends upward each month (docs/backoffice.md §Reports): the mutual-aid report of
a month for one pooling region or all (counts, amounts, cross-province flows, top institutions)
and the month's inheritance payouts. Figures come from the statistics summary, payouts from the
people area's register; the clearing statement is the monthly clearing's own (``/admin/clearing``).

Reading a report through the operator API is recorded in the audit trail (:func:`record_read`):
the payouts name deceased persons and every report leaves the building, so the trail says who
took which report of which month in which file format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import ClassVar, Final

from gongji.audit.service import log as audit
from gongji.backoffice.service import statistics
from gongji.backoffice.service.statistics import Amount, Figures
from gongji.core.errors import GongjiError
from gongji.core.regions import province_of
from gongji.institutions.domain.institutions import InstitutionUnknown
from gongji.institutions.service import institutions
from gongji.kernel.context import BUSINESS_TZ, Actor, Context
from gongji.kernel.errors import RegionUnknown
from gongji.people.service import search
from gongji.store.uow import UnitOfWork

TOP_INSTITUTIONS: Final = 10
FORMATS: Final = ("json", "csv", "xlsx")


class MonthInvalid(GongjiError):
    code: ClassVar[str] = "report_month_invalid"
    message_zh: ClassVar[str] = "报表月份应为 年-月，例如 2026-03，且已开始"
    message_en: ClassVar[str] = "A report month is YYYY-MM, e.g. 2026-03, and has begun"


class FormatInvalid(GongjiError):
    code: ClassVar[str] = "report_format_invalid"
    message_zh: ClassVar[str] = "报表格式 {format} 无效，应为 json、csv 或 xlsx"
    message_en: ClassVar[str] = "Report format {format} is invalid: json, csv or xlsx"


@dataclass(frozen=True, slots=True)
class MonthlyReport:
    month: str
    region: str | None  # None: every region
    figures: Figures
    top_institutions: list[tuple[str, Amount]]
    payouts: list[search.InheritancePayout]
    institution_names: dict[str, str] = field(default_factory=dict)  # of the top institutions

    @property
    def region_figures(self) -> dict[str, dict[str, int]]:
        regions = self.figures.by_region
        return regions if self.region is None else {self.region: regions.get(self.region, {})}

    @property
    def province_flows(self) -> list[tuple[tuple[str, str], Amount]]:
        """Shared money spent across a province border (contributor's province → institution's),
        for a region's report only the flows in or out of its province."""
        province = None if self.region is None else province_of(self.region)
        return [
            (pair, amount)
            for pair, amount in sorted(self.figures.province_pairs.items())
            if pair[0] != pair[1] and province in (None, *pair)
        ]

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


def check_format(text: str) -> str:
    """``json``, ``csv`` or ``xlsx`` (any case), else ``report_format_invalid``."""
    wanted = text.strip().lower()
    if wanted not in FORMATS:
        raise FormatInvalid(format=text[:16])
    return wanted


def monthly(
    ctx: Context,
    uow: UnitOfWork,
    month: str,
    region: str | None,
    today: date,
) -> MonthlyReport:
    """The report of ``month`` for ``region`` (one of the reference regions) or all."""
    first, last = month_span(month, today)
    if region is not None and region not in ctx.regions:
        raise RegionUnknown(region=region[:6])
    figures = statistics.figures(uow, first, last)
    payouts = search.inheritance_payouts(uow, _us(first), _us(last + timedelta(days=1)))
    top = figures.top_institutions(region, TOP_INSTITUTIONS)
    return MonthlyReport(
        month=month,
        region=region,
        figures=figures,
        top_institutions=top,
        payouts=payouts,
        institution_names=_names(ctx, uow, [code for code, _ in top]),
    )


def _names(ctx: Context, uow: UnitOfWork, codes: list[str]) -> dict[str, str]:
    """The registered names of a few institutions (a code no longer registered keeps its code)."""
    names = {}
    for code in codes:
        try:
            names[code] = institutions.get_institution(ctx, uow, code).institution.name
        except InstitutionUnknown:
            names[code] = code
    return names


def payouts_of(uow: UnitOfWork, month: str, today: date) -> list[search.InheritancePayout]:
    """The inheritance payouts made in ``month``, oldest first, heirs' names masked."""
    first, last = month_span(month, today)
    return search.inheritance_payouts(uow, _us(first), _us(last + timedelta(days=1)))


def record_read(
    ctx: Context, uow: UnitOfWork, operator: Actor, report: str, month: str, **detail: str
) -> None:
    """The trail's record of an operator taking a report (``backoffice.report.read``)."""
    audit.record(ctx, uow, operator, "backoffice.report.read", report=report, month=month, **detail)
