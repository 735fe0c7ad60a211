"""Benefit tables (deductible, ratio, cap) from the policy files' ``[[benefits]]`` entries.

The policy book carries those entries untouched (gongji.core.policy); they are read here into
a :class:`~gongji.settlement.domain.benefit_book.BenefitBook`, which knows regions and dates
(a city's table over its province's over the national one, the latest version in force). With
no entries at all the book is empty and every lookup is ``benefit_rule_missing``: settling
without a configured table must fail loudly, never with made-up numbers.

The book is built once per policy book (they are immutable and live as long as the process);
a bad entry is refused on first use with every problem listed. Call :func:`benefit_book` at
start-up to refuse a bad bureau file before any settlement does.
"""

from __future__ import annotations

import threading
from datetime import date
from typing import Final

from gongji.core.policy import PolicyBook
from gongji.institutions.domain.institutions import InstitutionLevel
from gongji.kernel.context import Context
from gongji.settlement.domain.benefit_book import BenefitBook, GoverningTable, parse_benefit_book
from gongji.settlement.domain.benefits import BenefitRule, BenefitTable, Employment

_BOOKS_KEPT: Final = 8
_books: dict[int, tuple[PolicyBook, BenefitBook]] = {}
_books_lock = threading.Lock()


def benefit_book(ctx: Context) -> BenefitBook:
    """The benefit book of the context's policies (parsed once per policy book)."""
    policies = ctx.policies
    with _books_lock:
        cached = _books.get(id(policies))
        # The policy book is kept in the cache too, so its id cannot be reused by another.
        if cached is not None and cached[0] is policies:
            return cached[1]
    book = parse_benefit_book(list(policies.raw_benefits))
    with _books_lock:
        if len(_books) >= _BOOKS_KEPT:
            _books.clear()
        _books[id(policies)] = (policies, book)
    return book


def benefit_table(ctx: Context, region: str | None = None, on: date | None = None) -> BenefitTable:
    """The rules in force for patients insured in ``region`` (national if None) on ``on``
    (today if None), one governing table per insutype × med_type; empty if none is set."""
    return benefit_book(ctx).table(region, on or ctx.today())


def governing_table(
    ctx: Context, region: str, on: date, insutype: str, med_type: str
) -> GoverningTable | None:
    """Which table applies and where it comes from ("340100 from 2023-01-01"), for operators
    asking why a settlement paid what it paid."""
    return benefit_book(ctx).governing(region, on, insutype, med_type)


def benefit_rule(
    ctx: Context,
    region: str,
    on: date,
    insutype: str,
    med_type: str,
    level: InstitutionLevel,
    employment: Employment,
) -> BenefitRule:
    """The patient's own rule (only ever the patient's: 只共济资金, 不共享待遇)."""
    return benefit_book(ctx).lookup(region, on, insutype, med_type, level, employment)
