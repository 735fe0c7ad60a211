"""Monthly clearing (清算, docs/rules.md §11): who owes whom for mutual-aid money spent outside the
contributor's insured city. Pure: the service reads the month's draws, these functions decide.

Money is cleared per city (the pooling area): a grant or authorization draw whose contributor is
insured in city P and which was spent in city Q ≠ P makes P's fund owe Q's. Province pairs are
the roll-up of city pairs across province borders (the national level); money between two
cities of one province is the province's own clearing and appears only among the city pairs.

Reversals are counted in the month they happen, negatively, with the draws of the settlement
they reverse: a month once published never changes, and a late reversal corrects the month in
which it was made. When a pair's reversals exceed its new spending, the difference is owed the
other way and is added to the opposite line, so every line is a positive amount owed.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import ClassVar

from gongji.core.errors import GongjiError, InvariantViolation
from gongji.core.regions import city_of, province_of

_MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")
MONTH_YEAR_MIN = 1900
MONTH_YEAR_MAX = 2999
"""Months outside these years name no clearing that can exist; refusing them also keeps the
month's arithmetic (its last day, the day after) inside what ``date`` can hold."""


class ClearingMonthInvalid(GongjiError):
    code: ClassVar[str] = "clearing_month_invalid"
    message_zh: ClassVar[str] = "清算月份 {month} 无效，应为 YYYY-MM"
    message_en: ClassVar[str] = "The clearing month {month} is invalid: YYYY-MM expected"


class ClearingMonthOpen(GongjiError):
    """Clearing is in full (全额) for a month: a month still running would change afterwards."""

    code: ClassVar[str] = "clearing_month_open"
    message_zh: ClassVar[str] = "{month} 尚未结束，{closes_on} 起才能清算"
    message_en: ClassVar[str] = "{month} has not ended; it can be cleared from {closes_on}"


@dataclass(frozen=True, slots=True)
class Month:
    text: str
    first: date
    last: date

    @property
    def next_first(self) -> date:
        return self.last + timedelta(days=1)


def parse_month(text: str) -> Month:
    match = _MONTH.fullmatch(text) if isinstance(text, str) else None
    if match is None or not MONTH_YEAR_MIN <= int(match[1]) <= MONTH_YEAR_MAX:
        raise ClearingMonthInvalid(month=str(text)[:20])
    first = date(int(match[1]), int(match[2]), 1)
    next_first = (first + timedelta(days=31)).replace(day=1)
    return Month(text, first, next_first - timedelta(days=1))


def check_month_closed(month: Month, today: date) -> None:
    """A month may be cleared from the first day after it (business date)."""
    if today <= month.last:
        raise ClearingMonthOpen(month=month.text, closes_on=month.next_first.isoformat())


@dataclass(frozen=True, slots=True)
class Flow:
    """Shared draws from contributors of one region spent in another; ``sign`` −1 for reversals."""

    contributor_region: str
    treatment_region: str
    amount_fen: int
    draws: int
    sign: int = 1

    def __post_init__(self) -> None:
        # Flows are sums the database made of stored draws: a bad one is a bug, not input.
        if self.sign not in (1, -1) or self.amount_fen < 0 or self.draws < 0:
            raise InvariantViolation(f"clearing flow out of range: {self}")


@dataclass(frozen=True, slots=True)
class PairLine:
    """``payer`` (where the contributors are insured) owes ``payee`` (where it was spent)."""

    payer: str
    payee: str
    amount_fen: int
    draws: int


@dataclass(frozen=True, slots=True)
class NetPosition:
    region: str
    received_fen: int
    paid_fen: int

    @property
    def net_fen(self) -> int:
        """Received less paid: positive for a province owed money, negative for one that owes."""
        return self.received_fen - self.paid_fen


@dataclass(frozen=True, slots=True)
class Clearing:
    month: str
    lines: tuple[PairLine, ...]  # city pairs, sorted
    draws: int  # every cross-city draw counted, settled or reversed, netted out or not
    digest: str

    @property
    def total_fen(self) -> int:
        return sum(line.amount_fen for line in self.lines)

    def province_lines(self) -> tuple[PairLine, ...]:
        return province_lines(self.lines)

    def net_positions(self) -> tuple[NetPosition, ...]:
        return net_positions(self.province_lines())


def clear(month: str, flows: Iterable[Flow]) -> Clearing:
    """The month's clearing from its flows (any order, any grouping)."""
    signed: dict[tuple[str, str], int] = defaultdict(int)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for flow in flows:
        pair = (city_of(flow.contributor_region), city_of(flow.treatment_region))
        if pair[0] != pair[1]:
            signed[pair] += flow.sign * flow.amount_fen
            counts[pair] += flow.draws
    lines = _owed_lines(signed, counts)
    return of_lines(month, lines, sum(counts.values()))


def of_lines(month: str, lines: Iterable[PairLine], draws: int) -> Clearing:
    """A clearing from its lines (as stored), with its digest."""
    ordered = tuple(sorted(lines, key=lambda line: (line.payer, line.payee)))
    return Clearing(month, ordered, draws, digest_of(month, ordered, draws))


def _owed_lines(
    signed: dict[tuple[str, str], int], counts: dict[tuple[str, str], int]
) -> list[PairLine]:
    """Signed sums per ordered pair → positive amounts owed; negative sums flip direction."""
    owed: dict[tuple[str, str], int] = defaultdict(int)
    owed_draws: dict[tuple[str, str], int] = defaultdict(int)
    for (payer, payee), amount in signed.items():
        direction = (payer, payee) if amount > 0 else (payee, payer)
        if amount != 0:
            owed[direction] += abs(amount)
            owed_draws[direction] += counts[(payer, payee)]
    return [PairLine(p, q, amount, owed_draws[(p, q)]) for (p, q), amount in owed.items()]


def province_lines(city_lines: Iterable[PairLine]) -> tuple[PairLine, ...]:
    """City pairs rolled up to province pairs; pairs within one province are left out."""
    amounts: dict[tuple[str, str], int] = defaultdict(int)
    draws: dict[tuple[str, str], int] = defaultdict(int)
    for line in city_lines:
        pair = (province_of(line.payer), province_of(line.payee))
        if pair[0] != pair[1]:
            amounts[pair] += line.amount_fen
            draws[pair] += line.draws
    return tuple(PairLine(p, q, amounts[(p, q)], draws[(p, q)]) for p, q in sorted(amounts))


def net_positions(lines: Iterable[PairLine]) -> tuple[NetPosition, ...]:
    """Per region of ``lines``: what it receives, what it pays, sorted by region code."""
    received: dict[str, int] = defaultdict(int)
    paid: dict[str, int] = defaultdict(int)
    for line in lines:
        paid[line.payer] += line.amount_fen
        received[line.payee] += line.amount_fen
    regions = sorted(set(received) | set(paid))
    return tuple(NetPosition(r, received.get(r, 0), paid.get(r, 0)) for r in regions)


def digest_of(month: str, lines: Iterable[PairLine], draws: int) -> str:
    """SHA-256 of the canonical text of a clearing: what was published, checkable later."""
    text = "\n".join(
        [
            f"gongji-clearing-v1|{month}|{draws}",
            *(f"{line.payer}|{line.payee}|{line.amount_fen}|{line.draws}" for line in lines),
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()
