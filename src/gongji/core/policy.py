"""Policy: the parameters of the rule book, per region and per effective date.

A policy file is TOML: a ``[national]`` table of defaults, then ``[[region]]`` entries, each with
a province or city ``code``, an ``effective_from`` date and any subset of the keys. A reserved
top-level ``benefits`` key is carried through untouched for the settlement rules.

Resolution is per key. For region R on date D, a key takes its value from the latest entry of
R's city effective on or before D that sets the key; failing that, from the latest such entry of
R's province; failing that, from the national defaults. So a city overrides its province, an
entry only changes the keys it names, and a later entry only changes them from its date on.
Books stack (:meth:`PolicyBook.merged_with`): a bureau's file wins over the shipped one for the
same region and date, while dates still order entries across files. Every resolved value says
where it came from, because an operator asked "why was this grant refused?" needs the answer.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from types import MappingProxyType
from typing import Any

from gongji.core.errors import GongjiError
from gongji.core.policy_values import (
    POLICY_KEYS,
    AuthorizationScope,
    PaymentSource,
    Policy,
    PolicyEntryDuplicate,
    PolicyError,
    PolicyIncomplete,
    PolicyKeyMissing,
    PolicyKeyUnknown,
    PolicyTomlInvalid,
    PolicyValue,
    PolicyValueInvalid,
    parse_date,
)
from gongji.core.regions import RegionLevel, city_of, level_of, province_of

__all__ = [
    "AuthorizationScope",
    "PaymentSource",
    "Policy",
    "PolicyBook",
    "PolicyEntry",
    "PolicyError",
    "ResolvedPolicy",
    "parse_policy_toml",
]

NATIONAL = "national"
REGION = "region"
BENEFITS = "benefits"
"""Top-level keys of a policy file; ``benefits`` belongs to the settlement rules."""

REGION_ENTRIES_MAX = 10_000
RESOLVED_KEPT_MAX = 4_096  # (region, date) pairs remembered by PolicyBook.resolve


@dataclass(frozen=True)
class PolicyEntry:
    """One table of a policy file: the national defaults (no region) or a regional change."""

    region_code: str | None
    effective_from: date
    values: Mapping[str, PolicyValue]
    source_name: str
    layer: int = 0
    """Position of the file in a merged book; a higher layer wins a tie on region and date."""

    @property
    def provenance(self) -> str:
        """Where a value came from, in the words an operator reads."""
        if self.region_code is None:
            return f"national defaults ({self.source_name})"
        return f"{self.region_code} from {self.effective_from.isoformat()} ({self.source_name})"


@dataclass(frozen=True)
class ResolvedPolicy:
    """The policy for a region on a date, with the provenance of every field."""

    region_code: str
    on: date
    policy: Policy
    sources: Mapping[str, str]

    def source_of(self, key: str) -> str:
        """Where the value of ``key`` came from, e.g. ``370000 from 2026-01-01 (bureau.toml)``."""
        return self.sources[key]


@dataclass(frozen=True)
class PolicyBook:
    """All entries of one or more policy files, ready to resolve.

    ``raw_benefits`` holds the ``benefits`` data of each file in file order (later files take
    precedence); it is not interpreted here.
    """

    entries: tuple[PolicyEntry, ...]
    raw_benefits: tuple[Mapping[str, Any], ...] = ()
    sources: tuple[str, ...] = ()
    _by_region: Mapping[str | None, tuple[PolicyEntry, ...]] = field(
        init=False, repr=False, compare=False
    )
    _resolved: dict[tuple[str, date], ResolvedPolicy] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_region: dict[str | None, list[PolicyEntry]] = {}
        for entry in self.entries:
            by_region.setdefault(entry.region_code, []).append(entry)
        index = {code: tuple(group) for code, group in by_region.items()}
        object.__setattr__(self, "_by_region", MappingProxyType(index))
        object.__setattr__(self, "_resolved", {})

    def merged_with(self, other: PolicyBook) -> PolicyBook:
        """A book where ``other`` (a bureau's file) overrides this one (the shipped file)."""
        offset = max((entry.layer for entry in self.entries), default=-1) + 1
        shifted = tuple(replace(entry, layer=entry.layer + offset) for entry in other.entries)
        return PolicyBook(
            entries=self.entries + shifted,
            raw_benefits=self.raw_benefits + other.raw_benefits,
            sources=self.sources + other.sources,
        )

    def missing_national_keys(self) -> tuple[str, ...]:
        """Keys the national defaults do not set; a book to run with must have none."""
        national = self._by_region.get(None, ())
        return tuple(key for key in POLICY_KEYS if not any(key in e.values for e in national))

    def resolve(self, region_code: str, on: date) -> ResolvedPolicy:
        """The policy in force in ``region_code`` (any level) on business date ``on``.

        Remembered per (region, date): the book never changes, and a settlement asks two or
        three times (about 150 µs each, a twentieth of a settlement's time)."""
        key = (region_code, on)
        found = self._resolved.get(key)
        if found is None:
            found = self._resolve(region_code, on)
            if len(self._resolved) >= RESOLVED_KEPT_MAX:
                self._resolved.clear()
            self._resolved[key] = found
        return found

    def _resolve(self, region_code: str, on: date) -> ResolvedPolicy:
        chain = _resolution_chain(region_code)
        values: dict[str, PolicyValue] = {}
        sources: dict[str, str] = {}
        for key in POLICY_KEYS:
            entry = self._winner(key, chain, on)
            if entry is not None:
                values[key] = entry.values[key]
                sources[key] = entry.provenance
        missing = [key for key in POLICY_KEYS if key not in values]
        if missing:
            raise PolicyIncomplete(region=region_code, on=on.isoformat(), keys=", ".join(missing))
        policy = Policy(**values)  # type: ignore[arg-type]  # each value was parsed for its key
        return ResolvedPolicy(region_code, on, policy, MappingProxyType(sources))

    def _winner(self, key: str, chain: tuple[str | None, ...], on: date) -> PolicyEntry | None:
        for code in chain:
            candidates = [
                entry
                for entry in self._by_region.get(code, ())
                if key in entry.values and entry.effective_from <= on
            ]
            if candidates:
                return max(candidates, key=lambda entry: (entry.effective_from, entry.layer))
        return None


def _resolution_chain(region_code: str) -> tuple[str | None, ...]:
    """Most specific first: the city (unless the region is a province), the province, national."""
    if level_of(region_code) is RegionLevel.PROVINCE:
        return (region_code, None)
    return (city_of(region_code), province_of(region_code), None)


def parse_policy_toml(text: str, source_name: str) -> PolicyBook:
    """Read a policy file (its text; the caller does the IO) into a one-file book.

    Every problem is collected; the first is raised with ``detail["problems"]`` listing all of
    them, each with its own code, so one run shows a bureau everything to fix.
    """
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyTomlInvalid(source=source_name, reason=str(exc)) from None
    problems: list[GongjiError] = []
    entries: list[PolicyEntry] = []
    benefits: list[Mapping[str, Any]] = []
    for key, raw in document.items():
        if key == NATIONAL:
            entries.extend(_national_entry(raw, source_name, problems))
        elif key == REGION:
            entries.extend(_region_entries(raw, source_name, problems))
        elif key == BENEFITS:
            benefits.extend(_raw_benefits(raw, source_name, problems))
        else:
            problems.append(PolicyKeyUnknown(source=source_name, where="top level", key=key))
    problems.extend(_duplicates(entries, source_name))
    if problems:
        raise _refusal(problems)
    return PolicyBook(tuple(entries), tuple(benefits), (source_name,))


def _national_entry(raw: object, source: str, problems: list[GongjiError]) -> list[PolicyEntry]:
    where = f"[{NATIONAL}]"
    if not isinstance(raw, dict):
        problems.append(_not_a_table(source, where, NATIONAL, raw))
        return []
    values = _values(raw, source, where, problems, reserved=())
    return [PolicyEntry(None, date.min, MappingProxyType(values), source)]


def _region_entries(raw: object, source: str, problems: list[GongjiError]) -> list[PolicyEntry]:
    if not isinstance(raw, list) or len(raw) > REGION_ENTRIES_MAX:
        reason = f"an array of at most {REGION_ENTRIES_MAX} [[{REGION}]] tables is expected"
        problems.append(_invalid(source, "top level", REGION, raw, reason))
        return []
    entries: list[PolicyEntry] = []
    for number, table in enumerate(raw, start=1):
        where = f"[[{REGION}]] #{number}"
        if not isinstance(table, dict):
            problems.append(_not_a_table(source, where, REGION, table))
            continue
        code = _entry_code(table, source, where, problems)
        effective_from = _entry_date(table, source, where, problems)
        values = _values(table, source, where, problems, reserved=("code", "effective_from"))
        if code is not None and effective_from is not None:
            entries.append(PolicyEntry(code, effective_from, MappingProxyType(values), source))
    return entries


def _entry_code(
    table: dict[str, Any], source: str, where: str, problems: list[GongjiError]
) -> str | None:
    """The entry's region: a province or a city (districts follow their city)."""
    if "code" not in table:
        problems.append(PolicyKeyMissing(source=source, where=where, key="code"))
        return None
    raw = table["code"]
    try:
        level = level_of(raw)
    except GongjiError as exc:
        problems.append(_invalid(source, where, "code", raw, exc.message("en")))
        return None
    if level is RegionLevel.DISTRICT:
        reason = "a province or city code is expected, not a district"
        problems.append(_invalid(source, where, "code", raw, reason))
        return None
    return str(raw)


def _entry_date(
    table: dict[str, Any], source: str, where: str, problems: list[GongjiError]
) -> date | None:
    if "effective_from" not in table:
        problems.append(PolicyKeyMissing(source=source, where=where, key="effective_from"))
        return None
    try:
        return parse_date(table["effective_from"])
    except ValueError as exc:
        problems.append(_invalid(source, where, "effective_from", table["effective_from"], exc))
        return None


def _values(
    table: dict[str, Any],
    source: str,
    where: str,
    problems: list[GongjiError],
    reserved: tuple[str, ...],
) -> dict[str, PolicyValue]:
    """The policy keys of one table, parsed; unknown keys and bad values become problems."""
    values: dict[str, PolicyValue] = {}
    for key, raw in table.items():
        if key in reserved:
            continue
        parse = POLICY_KEYS.get(key)
        if parse is None:
            problems.append(PolicyKeyUnknown(source=source, where=where, key=key))
            continue
        try:
            values[key] = parse(raw)
        except ValueError as exc:
            problems.append(_invalid(source, where, key, raw, exc))
    return values


def _raw_benefits(raw: object, source: str, problems: list[GongjiError]) -> list[Mapping[str, Any]]:
    """The ``benefits`` data as given: one table, or an array of tables."""
    tables = raw if isinstance(raw, list) else [raw]
    mappings = [MappingProxyType(table) for table in tables if isinstance(table, dict)]
    if len(mappings) != len(tables):
        problems.append(_not_a_table(source, "top level", BENEFITS, raw))
        return []
    return list(mappings)


def _duplicates(entries: list[PolicyEntry], source: str) -> list[GongjiError]:
    seen: set[tuple[str | None, date]] = set()
    problems: list[GongjiError] = []
    for entry in entries:
        if entry.region_code is None:
            continue
        identity = (entry.region_code, entry.effective_from)
        if identity in seen:
            problems.append(
                PolicyEntryDuplicate(
                    source=source,
                    region=entry.region_code,
                    effective_from=entry.effective_from.isoformat(),
                )
            )
        seen.add(identity)
    return problems


def _invalid(source: str, where: str, key: str, raw: object, reason: object) -> PolicyValueInvalid:
    return PolicyValueInvalid(
        source=source, where=where, key=key, value=repr(raw), reason=str(reason)
    )


def _not_a_table(source: str, where: str, key: str, raw: object) -> PolicyValueInvalid:
    return _invalid(source, where, key, raw, "a table is expected")


def _refusal(problems: list[GongjiError]) -> GongjiError:
    """The first problem, carrying the list of all of them (code and English message each)."""
    first = problems[0]
    first.detail["problems"] = [
        {"code": problem.code, "message": problem.message("en")} for problem in problems
    ]
    return first
