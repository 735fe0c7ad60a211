"""Benefit tables by region and effective date: which table governs a patient's scheme where
and when (docs/rules.md §13). The rules inside one table are :mod:`.benefits`' and unchanged.

A policy file's ``benefits`` entries are those of :func:`~.benefits.parse_benefits` plus two
optional keys: ``region`` (a province or city code; absent for the national defaults) and
``effective_from`` (a date; absent for "always").

Resolution works on whole tables, one per insutype × med_type, because that is how a bureau
publishes them (合肥市职工医保普通门诊待遇). For a patient insured in region R on date D:

1. the candidates are R's city, then R's province, then the national defaults;
2. the first of them with a table for the patient's insutype × med_type in force on D wins, and
   of its dated versions the latest on or before D (a new version replaces the old one whole);
3. inside that table the most specific rule for the institution level and employment applies.

So a city's table overrides its province's and the national one for that insutype × med_type
only, and a table is never mixed with another's cells: a level the winning table leaves out is
``benefit_rule_missing``, not the national number. An entry with the same region, date and cell
as an earlier one replaces it (a bureau's file loaded after the shipped file wins).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Final

from gongji.core.errors import GongjiError
from gongji.core.policy_values import parse_date
from gongji.core.regions import RegionLevel, city_of, level_of, province_of
from gongji.institutions.domain.institutions import InstitutionLevel
from gongji.settlement.domain.benefits import (
    BenefitEntry,
    BenefitRule,
    BenefitRuleMissing,
    BenefitTable,
    BenefitValueInvalid,
    Employment,
    parse_benefits,
)

REGION_KEY: Final = "region"
EFFECTIVE_FROM_KEY: Final = "effective_from"
BOOK_ENTRIES_MAX: Final = 100_000
"""Most entries of all regions together: a nation of a few hundred cities, a few hundred each."""

_Pair = tuple[str, str]  # insutype, med_type
_Version = tuple[date, tuple[BenefitEntry, ...]]


@dataclass(frozen=True)
class DatedEntry:
    """One benefit entry and where and from when it applies (``region`` None: national)."""

    region: str | None
    effective_from: date
    entry: BenefitEntry


@dataclass(frozen=True)
class GoverningTable:
    """The table that governs one insutype × med_type for a region on a date, and its origin."""

    region: str | None
    effective_from: date
    table: BenefitTable

    @property
    def provenance(self) -> str:
        where = self.region or "national"
        if self.effective_from == date.min:
            return where
        return f"{where} from {self.effective_from.isoformat()}"


@dataclass(frozen=True)
class BenefitBook:
    entries: tuple[DatedEntry, ...]
    _versions: Mapping[tuple[str | None, str, str], tuple[_Version, ...]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        cells: dict[tuple[str | None, str, str, date], dict[object, BenefitEntry]] = {}
        for dated in self.entries:
            entry = dated.entry
            slot = (dated.region, entry.insutype, entry.med_type, dated.effective_from)
            cells.setdefault(slot, {})[entry.key] = entry  # a later entry replaces its cell
        versions: dict[tuple[str | None, str, str], list[_Version]] = {}
        for (region, insutype, med_type, since), by_key in cells.items():
            versions.setdefault((region, insutype, med_type), []).append(
                (since, tuple(by_key.values()))
            )
        index = {key: tuple(sorted(found, key=lambda v: v[0])) for key, found in versions.items()}
        object.__setattr__(self, "_versions", index)

    def pairs(self) -> list[_Pair]:
        """Every insutype × med_type some table covers, sorted."""
        return sorted({(insutype, med_type) for _, insutype, med_type in self._versions})

    def governing(
        self, region: str | None, on: date, insutype: str, med_type: str
    ) -> GoverningTable | None:
        """The table for this insutype × med_type in ``region`` on ``on`` (see the module)."""
        for candidate in _chain(region):
            in_force = [
                version
                for version in self._versions.get((candidate, insutype, med_type), ())
                if version[0] <= on
            ]
            if in_force:
                since, entries = in_force[-1]
                return GoverningTable(candidate, since, BenefitTable(entries))
        return None

    def table(self, region: str | None, on: date) -> BenefitTable:
        """Every governing table of ``region`` on ``on``, as one table (for display and checks)."""
        entries: list[BenefitEntry] = []
        for insutype, med_type in self.pairs():
            found = self.governing(region, on, insutype, med_type)
            if found is not None:
                entries.extend(found.table.entries)
        return BenefitTable(tuple(entries))

    def lookup(
        self,
        region: str | None,
        on: date,
        insutype: str,
        med_type: str,
        level: InstitutionLevel,
        employment: Employment,
    ) -> BenefitRule:
        """The patient's rule, or ``benefit_rule_missing``."""
        found = self.governing(region, on, insutype, med_type)
        if found is None:
            raise BenefitRuleMissing(
                insutype=insutype, med_type=med_type, level=level.value, employment=employment.value
            )
        return found.table.lookup(insutype, med_type, level, employment)


def _chain(region: str | None) -> tuple[str | None, ...]:
    """Most specific first: the city (unless a province is asked), the province, national."""
    if region is None:
        return (None,)
    if level_of(region) is RegionLevel.PROVINCE:
        return (region, None)
    return (city_of(region), province_of(region), None)


def check_benefit_book(raw: Sequence[Mapping[str, object]]) -> list[GongjiError]:
    """Every problem of a policy file's ``benefits`` list, one per bad entry, with its index."""
    if len(raw) > BOOK_ENTRIES_MAX:
        return [BenefitValueInvalid(entry=BOOK_ENTRIES_MAX, field="entries")]
    problems: list[GongjiError] = []
    for index, mapping in enumerate(raw):
        try:
            _dated(mapping)
        except BenefitValueInvalid as problem:
            problem.detail["entry"] = index
            problems.append(problem)
    return problems


def parse_benefit_book(raw: Sequence[Mapping[str, object]]) -> BenefitBook:
    """A book from a policy file's ``benefits`` list; refuses with the first problem, carrying
    every problem in ``detail["problems"]``."""
    problems = check_benefit_book(raw)
    if problems:
        first = problems[0]
        first.detail["problems"] = [p.message("en") for p in problems]
        raise first
    return BenefitBook(tuple(_dated(mapping) for mapping in raw))


def _dated(mapping: Mapping[str, object]) -> DatedEntry:
    rule_keys = {k: v for k, v in mapping.items() if k not in (REGION_KEY, EFFECTIVE_FROM_KEY)}
    entry = parse_benefits([rule_keys]).entries[0]
    return DatedEntry(_region(mapping.get(REGION_KEY)), _since(mapping), entry)


def _region(raw: object) -> str | None:
    if raw is None:
        return None
    try:
        if isinstance(raw, str) and level_of(raw) is not RegionLevel.DISTRICT:
            return raw
    except GongjiError:
        pass
    raise BenefitValueInvalid(field=REGION_KEY, value=str(raw)[:40])


def _since(mapping: Mapping[str, object]) -> date:
    if EFFECTIVE_FROM_KEY not in mapping:
        return date.min
    try:
        return parse_date(mapping[EFFECTIVE_FROM_KEY])
    except ValueError:
        raw = mapping[EFFECTIVE_FROM_KEY]
        raise BenefitValueInvalid(field=EFFECTIVE_FROM_KEY, value=str(raw)[:40]) from None
