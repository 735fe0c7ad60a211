"""Benefit rules: deductible, reimbursement ratio and annual cap of the patient's own scheme.

A rule is keyed by insutype × med_type × institution level × employed/retired (docs/rules.md §13).
Bureaus publish tables where many cells share a value, so a rule may leave the level or the
employment open (``"*"`` in a file, ``None`` here); the most specific rule that matches wins.
Sharing money never changes the rule that applies (只共济资金, 不共享待遇): it is always looked up
for the patient, never for a contributor.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Final, TypeVar

from gongji.core.errors import GongjiError
from gongji.institutions.domain.institutions import InstitutionLevel

WILDCARD: Final = "*"
"""How a benefit file leaves the institution level or the employment open."""

BENEFIT_ENTRIES_MAX: Final = 10_000
"""Most entries one table may hold; a province's table has a few hundred."""

_ENTRY_KEYS: Final = frozenset(
    {
        "insutype",
        "med_type",
        "level",
        "employment",
        "deductible_fen",
        "ratio",
        "annual_cap_fen",
        "pool",
    }
)
_REQUIRED_KEYS: Final = _ENTRY_KEYS - {"level", "employment", "pool"}
_POOL: Final = re.compile(r"[a-z0-9_]{1,16}")
_RATIO_TEXT_LENGTH_MAX: Final = 16
_AMOUNT_FEN_MAX: Final = 10**13

_E = TypeVar("_E", bound=StrEnum)


class BenefitRuleMissing(GongjiError):
    """No rule of the table matches the patient's scheme: the bureau has not configured it."""

    code = "benefit_rule_missing"
    message_zh = "未配置待遇标准：险种 {insutype} 医疗类别 {med_type} 机构等级 {level} {employment}"
    message_en = (
        "No benefit rule for insutype {insutype}, med_type {med_type}, level {level}, {employment}"
    )


class BenefitValueInvalid(GongjiError):
    """A benefit entry is malformed; ``entry`` is its 0-based index, ``field`` the bad key."""

    code = "benefit_value_invalid"
    message_zh = "待遇标准第 {entry} 条的 {field} 不正确"
    message_en = "Benefit entry {entry} has an invalid {field}"


class Employment(StrEnum):
    """Employed or retired (在职/退休): retirees usually get a higher ratio and cap."""

    EMPLOYED = "employed"
    RETIRED = "retired"


@dataclass(frozen=True)
class BenefitRule:
    """Yearly deductible (起付线), the fund's ratio above it, and the annual cap (封顶线).

    ``pool`` names the yearly account of deductible used and fund paid that the rule draws on:
    outpatient and inpatient care have their own deductibles and caps, while pharmacy purchases
    usually share the outpatient pool (门诊统筹). A policy entry without ``pool`` has one of its
    own, named by its ``med_type``.
    """

    deductible_fen: int
    ratio: Decimal
    annual_cap_fen: int
    pool: str = ""

    def __post_init__(self) -> None:
        for field, amount in (
            ("deductible_fen", self.deductible_fen),
            ("annual_cap_fen", self.annual_cap_fen),
        ):
            if not _amount_ok(amount):
                raise BenefitValueInvalid(field=field, value=str(amount))
        if not isinstance(self.ratio, Decimal) or not _ratio_ok(self.ratio):
            raise BenefitValueInvalid(field="ratio", value=str(self.ratio))
        if self.pool and not _POOL.fullmatch(self.pool):
            raise BenefitValueInvalid(field="pool", value=self.pool[:40])


@dataclass(frozen=True)
class BenefitEntry:
    """A rule and the schemes it applies to; ``None`` level or employment matches any."""

    insutype: str
    med_type: str
    level: InstitutionLevel | None
    employment: Employment | None
    rule: BenefitRule

    @property
    def key(self) -> tuple[str, str, InstitutionLevel | None, Employment | None]:
        return (self.insutype, self.med_type, self.level, self.employment)

    def matches(
        self, insutype: str, med_type: str, level: InstitutionLevel, employment: Employment
    ) -> bool:
        return (
            self.insutype == insutype
            and self.med_type == med_type
            and self.level in (None, level)
            and self.employment in (None, employment)
        )

    @property
    def specificity(self) -> int:
        """Higher is more specific. The level outranks the employment because bureaus organise
        their tables by institution level first, so a level-specific cell is the deliberate one."""
        return (2 if self.level is not None else 0) + (1 if self.employment is not None else 0)


@dataclass(frozen=True)
class BenefitTable:
    """The benefit rules of one policy; refuses two entries with the same key."""

    entries: tuple[BenefitEntry, ...]

    def __post_init__(self) -> None:
        if len(self.entries) > BENEFIT_ENTRIES_MAX:
            raise BenefitValueInvalid(entry=BENEFIT_ENTRIES_MAX, field="entries")
        seen: set[tuple[str, str, InstitutionLevel | None, Employment | None]] = set()
        for index, entry in enumerate(self.entries):
            if entry.key in seen:
                raise BenefitValueInvalid(entry=index, field="key", reason="duplicate")
            seen.add(entry.key)

    def lookup(
        self, insutype: str, med_type: str, level: InstitutionLevel, employment: Employment
    ) -> BenefitRule:
        """The most specific rule for the patient's scheme, or ``benefit_rule_missing``."""
        matching = [e for e in self.entries if e.matches(insutype, med_type, level, employment)]
        if not matching:
            raise BenefitRuleMissing(
                insutype=insutype, med_type=med_type, level=level.value, employment=employment.value
            )
        return max(matching, key=lambda entry: entry.specificity).rule


def hefei_example_table() -> BenefitTable:
    """EXAMPLE ONLY — Hefei (合肥) employee outpatient (insutype 310, med_type 11), 2023.

    docs/rules.md §13's worked example, shipped to show the shape of a table, not as anyone's
    policy:
    deductible 200 yuan at primary level and 400 yuan at level 2–3; ratio 60 % primary and 50 %
    level 2–3, ten points more for retirees; annual cap 4 000 yuan employed, 5 000 yuan retired.
    A bureau loads its own table.
    """
    rows: list[BenefitEntry] = []
    for level, deductible_fen, ratio in (
        (InstitutionLevel.PRIMARY, 20_000, Decimal("0.60")),
        (InstitutionLevel.SECONDARY, 40_000, Decimal("0.50")),
        (InstitutionLevel.TERTIARY, 40_000, Decimal("0.50")),
    ):
        for employment, bonus, cap_fen in (
            (Employment.EMPLOYED, Decimal(0), 400_000),
            (Employment.RETIRED, Decimal("0.10"), 500_000),
        ):
            rule = BenefitRule(deductible_fen, ratio + bonus, cap_fen, pool="outpatient")
            rows.append(BenefitEntry("310", "11", level, employment, rule))
    return BenefitTable(tuple(rows))


def check_benefits(raw: Sequence[Mapping[str, object]]) -> list[BenefitValueInvalid]:
    """Every problem of a TOML-shaped benefit list, one per bad entry, with its index."""
    if len(raw) > BENEFIT_ENTRIES_MAX:
        return [BenefitValueInvalid(entry=BENEFIT_ENTRIES_MAX, field="entries")]
    problems: list[BenefitValueInvalid] = []
    seen: set[tuple[str, str, InstitutionLevel | None, Employment | None]] = set()
    for index, mapping in enumerate(raw):
        try:
            entry = _parse_entry(mapping)
        except BenefitValueInvalid as problem:
            problem.detail["entry"] = index
            problems.append(problem)
            continue
        if entry.key in seen:
            problems.append(BenefitValueInvalid(entry=index, field="key", reason="duplicate"))
        seen.add(entry.key)
    return problems


def parse_benefits(raw: Sequence[Mapping[str, object]]) -> BenefitTable:
    """Build a table from a list of dicts (keys: insutype, med_type, level, employment,
    deductible_fen, ratio as a string such as ``"0.6"``, annual_cap_fen, and optionally pool).

    ``level`` and ``employment`` may be ``"*"`` or absent for "any". Refuses with the first
    problem :func:`check_benefits` finds; use that to show them all.
    """
    problems = check_benefits(raw)
    if problems:
        raise problems[0]
    return BenefitTable(tuple(_parse_entry(mapping) for mapping in raw))


def _parse_entry(mapping: Mapping[str, object]) -> BenefitEntry:
    unknown = sorted(set(mapping) - _ENTRY_KEYS)
    if unknown:
        raise BenefitValueInvalid(field=unknown[0], reason="unknown key")
    missing = sorted(_REQUIRED_KEYS - set(mapping))
    if missing:
        raise BenefitValueInvalid(field=missing[0], reason="missing")
    med_type = _code(mapping, "med_type")
    pool = mapping.get("pool", med_type)
    if not isinstance(pool, str) or not _POOL.fullmatch(pool):
        raise BenefitValueInvalid(field="pool", value=str(pool)[:40])
    rule = BenefitRule(
        deductible_fen=_amount(mapping, "deductible_fen"),
        ratio=_ratio(mapping["ratio"]),
        annual_cap_fen=_amount(mapping, "annual_cap_fen"),
        pool=pool,
    )
    return BenefitEntry(
        insutype=_code(mapping, "insutype"),
        med_type=med_type,
        level=_optional(mapping, "level", InstitutionLevel),
        employment=_optional(mapping, "employment", Employment),
        rule=rule,
    )


def _code(mapping: Mapping[str, object], field: str) -> str:
    value = mapping[field]
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) > 6:
        raise BenefitValueInvalid(field=field, value=str(value))
    return value


def _optional(mapping: Mapping[str, object], field: str, kind: type[_E]) -> _E | None:
    value = mapping.get(field, WILDCARD)
    if value == WILDCARD:
        return None
    if not isinstance(value, str) or value not in {member.value for member in kind}:
        raise BenefitValueInvalid(field=field, value=str(value))
    return kind(value)


def _amount(mapping: Mapping[str, object], field: str) -> int:
    value = mapping[field]
    if not _amount_ok(value) or not isinstance(value, int):
        raise BenefitValueInvalid(field=field, value=str(value))
    return value


def _ratio(value: object) -> Decimal:
    # Strings or Decimals only: a TOML float such as 0.6 is not exactly 0.6.
    if isinstance(value, str) and len(value) <= _RATIO_TEXT_LENGTH_MAX:
        try:
            value = Decimal(value.strip())
        except InvalidOperation:
            raise BenefitValueInvalid(field="ratio", value=value) from None
    if not isinstance(value, Decimal) or not _ratio_ok(value):
        raise BenefitValueInvalid(field="ratio", value=str(value)[:_RATIO_TEXT_LENGTH_MAX])
    return value


def _ratio_ok(ratio: Decimal) -> bool:
    return ratio.is_finite() and 0 <= ratio <= 1


def _amount_ok(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _AMOUNT_FEN_MAX
