"""The history page's content: events in words, and money given and received per month drawn
as inline SVG bars (computed here, so the page needs no script and no chart library).

"Given" and "received" count accepted grants by the month they were accepted (business time):
that is when money changed hands as the wallet shows it; offers never accepted moved nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

from gongji.core.clock import from_us
from gongji.kernel.context import BUSINESS_TZ, Context
from gongji.mutual_aid.store import mutual_aid_repo as aid_repo
from gongji.store.records import GrantRecord, PersonEvent
from gongji.store.uow import UnitOfWork
from gongji.web import i18n

CHART_MONTHS: Final = 6
CHART_WIDTH: Final = 320
CHART_HEIGHT: Final = 150
CHART_LABEL_HEIGHT: Final = 24
GRANTS_READ_MAX: Final = 1_000
_MONEY_DETAILS: Final = ("amount_fen", "returned_fen", "quota_fen")


@dataclass(frozen=True, slots=True)
class MonthFlow:
    month: str  # YYYY-MM
    given_fen: int
    received_fen: int

    @property
    def label(self) -> str:
        return f"{int(self.month[5:])}月"


@dataclass(frozen=True, slots=True)
class Bar:
    x: int
    y: int
    width: int
    height: int
    kind: str  # given | received


@dataclass(frozen=True, slots=True)
class Chart:
    flows: list[MonthFlow]
    bars: list[Bar]
    labels: list[tuple[int, str]]  # (x of the label's centre, text)
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT + CHART_LABEL_HEIGHT
    baseline: int = CHART_HEIGHT

    @property
    def empty(self) -> bool:
        return not any(f.given_fen or f.received_fen for f in self.flows)


def months_back(today: date, count: int) -> list[str]:
    """The ``count`` months up to and including today's, oldest first."""
    year, month = today.year, today.month
    found: list[str] = []
    for _ in range(count):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return found[::-1]


def _by_month(grants: list[GrantRecord]) -> dict[str, int]:
    sums: dict[str, int] = {}
    for grant in grants:
        if grant.accepted_at_us is None:
            continue
        month = from_us(grant.accepted_at_us).astimezone(BUSINESS_TZ).strftime("%Y-%m")
        sums[month] = sums.get(month, 0) + grant.amount_fen
    return sums


def monthly_flows(ctx: Context, uow: UnitOfWork, psn_no: str) -> list[MonthFlow]:
    connection = uow.connection
    given = _by_month(aid_repo.grants_by(connection, contributor=psn_no, limit=GRANTS_READ_MAX))
    received = _by_month(aid_repo.grants_by(connection, recipient=psn_no, limit=GRANTS_READ_MAX))
    return [
        MonthFlow(month, given.get(month, 0), received.get(month, 0))
        for month in months_back(ctx.today(), CHART_MONTHS)
    ]


def chart(flows: list[MonthFlow]) -> Chart:
    """Two bars per month, scaled to the largest amount; a zero amount draws no bar."""
    top = max([1, *(f.given_fen for f in flows), *(f.received_fen for f in flows)])
    slot = CHART_WIDTH // max(len(flows), 1)
    bar_width = slot * 3 // 8
    bars: list[Bar] = []
    labels: list[tuple[int, str]] = []
    for index, flow in enumerate(flows):
        left = index * slot + (slot - 2 * bar_width) // 2
        for offset, kind, fen in ((0, "given", flow.given_fen), (1, "received", flow.received_fen)):
            height = fen * (CHART_HEIGHT - 8) // top
            if height > 0:
                x = left + offset * bar_width
                bars.append(Bar(x, CHART_HEIGHT - height, bar_width - 2, height, kind))
        labels.append((index * slot + slot // 2, flow.label))
    return Chart(flows, bars, labels)


@dataclass(frozen=True, slots=True)
class EventRow:
    at_us: int
    what: str
    amount_fen: int | None
    by: str


def _who(label: str, me: str, lang: i18n.Lang) -> str:
    kind, _, who = label.partition(":")
    t = i18n.chooser(lang)
    if kind == "person":
        return t("本人", "you") if who == me else t("亲属", "a relative")
    if kind == "operator":
        return t("经办机构", "the bureau")
    return t("系统", "the system")


def event_rows(events: list[PersonEvent], me: str, lang: i18n.Lang) -> list[EventRow]:
    rows = []
    for event in events:
        money = next((event.detail[k] for k in _MONEY_DETAILS if k in event.detail), None)
        rows.append(
            EventRow(
                at_us=event.at_us,
                what=i18n.word(i18n.EVENT, event.kind, lang),
                amount_fen=money if isinstance(money, int) else None,
                by=_who(event.actor, me, lang),
            )
        )
    return rows
