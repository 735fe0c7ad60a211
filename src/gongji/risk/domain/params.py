"""The rules' parameters: one table per rule, national defaults and regional changes.

Each rule has its own parameter table with ``enabled``, ``version`` (stamped on every alert so
an alert can be read against the rule that raised it), ``weight`` (its share of a score) and
``hold`` (a write-time rule holds the grant or settlement for review instead of only flagging
it). A region changes any of them for itself; a city's change wins over its province's, as in
the main policy (docs/rules.md §12.1). Values are whole numbers or booleans, refused otherwise.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar

from gongji.core.errors import GongjiError
from gongji.risk.domain.alerts import RuleCode


class RiskPolicyInvalid(GongjiError):
    code: ClassVar[str] = "risk_policy_invalid"
    message_zh: ClassVar[str] = "风险规则参数 {where} 无效：{reason}"
    message_en: ClassVar[str] = "Risk rule parameter {where} is invalid: {reason}"


@dataclass(frozen=True, slots=True)
class RuleParams:
    enabled: bool = True
    version: int = 1
    weight: int = 30
    hold: bool = False


@dataclass(frozen=True, slots=True)
class FanInParams(RuleParams):
    window_days: int = 30
    min_contributors: int = 5


@dataclass(frozen=True, slots=True)
class FanOutParams(RuleParams):
    window_days: int = 30
    grant_amount_max_fen: int = 200_000
    near_limit_pct: int = 90
    grants_per_day_max: int = 3
    min_limit_days: int = 5
    min_recipients: int = 5


@dataclass(frozen=True, slots=True)
class LoopParams(RuleParams):
    min_cycle_fen: int = 10_000


@dataclass(frozen=True, slots=True)
class GrantThenCashParams(RuleParams):
    minutes: int = 60
    min_resellable_fen: int = 30_000
    window_days: int = 30
    repeat_at_one_institution: int = 3


@dataclass(frozen=True, slots=True)
class GeographyParams(RuleParams):
    window_days: int = 90
    min_settlements: int = 3
    usual_min_visits: int = 2


@dataclass(frozen=True, slots=True)
class KinshipParams(RuleParams):
    recent_days: int = 3
    large_total_fen: int = 150_000
    parent_gap_years: int = 15
    grandparent_gap_years: int = 30
    spouse_min_age: int = 20
    max_parents: int = 2
    max_grandparents_per_side: int = 2
    max_spouses: int = 1


@dataclass(frozen=True, slots=True)
class LifecycleParams(RuleParams):
    weight: int = 60
    grace_days: int = 0


@dataclass(frozen=True, slots=True)
class InstitutionParams(RuleParams):
    min_settlements: int = 20
    min_share_pct: int = 40
    peer_multiple_pct: int = 300


PARAMS_TYPES: Mapping[RuleCode, type[RuleParams]] = {
    RuleCode.FAN_IN: FanInParams,
    RuleCode.FAN_OUT: FanOutParams,
    RuleCode.LOOP: LoopParams,
    RuleCode.GRANT_THEN_CASH: GrantThenCashParams,
    RuleCode.GEOGRAPHY: GeographyParams,
    RuleCode.KINSHIP: KinshipParams,
    RuleCode.LIFECYCLE: LifecycleParams,
    RuleCode.INSTITUTION: InstitutionParams,
}


@dataclass(frozen=True)
class RiskPolicy:
    """Every rule's parameters for one region."""

    rules: Mapping[RuleCode, RuleParams]

    def of(self, rule: RuleCode) -> Any:
        """The parameters of ``rule``; typed ``Any`` so each rule reads its own class's fields."""
        return self.rules[rule]


NATIONAL = RiskPolicy({code: kind() for code, kind in PARAMS_TYPES.items()})


@dataclass(frozen=True)
class RiskPolicyBook:
    """The national parameters and each region's changes, rule by rule."""

    national: RiskPolicy = NATIONAL
    changes: Mapping[str, Mapping[RuleCode, Mapping[str, int | bool]]] = field(default_factory=dict)

    def for_region(self, region: str) -> RiskPolicy:
        """National, then the province's changes (``620000``), then the city's (``620100``)."""
        rules = dict(self.national.rules)
        for code in dict.fromkeys((region[:2] + "0000", region[:4] + "00", region)):
            for rule, values in self.changes.get(code, {}).items():
                rules[rule] = _changed(rules[rule], values)
        return RiskPolicy(rules)


def parse_risk_policy(text: str) -> RiskPolicyBook:
    """Read ``[national.<rule>]`` tables and ``[[region]]`` entries (``code``, ``rule``, values)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as problem:
        raise RiskPolicyInvalid(where="file", reason=str(problem)) from None
    unknown = set(raw) - {"national", "region"}
    if unknown:
        raise RiskPolicyInvalid(where=", ".join(sorted(unknown)), reason="unknown table")
    national = {code: kind() for code, kind in PARAMS_TYPES.items()}
    for name, values in raw.get("national", {}).items():
        rule = _rule(name)
        national[rule] = _changed(national[rule], _values(rule, values, f"national.{name}"))
    changes: dict[str, dict[RuleCode, dict[str, int | bool]]] = {}
    for index, entry in enumerate(raw.get("region", [])):
        where = f"region[{index}]"
        entry = dict(entry)
        code, rule = str(entry.pop("code", "")), _rule(str(entry.pop("rule", "")))
        if len(code) != 6 or not code.isdigit():
            raise RiskPolicyInvalid(where=where, reason="code must be a six-digit division code")
        changes.setdefault(code, {})[rule] = _values(rule, entry, where)
    return RiskPolicyBook(RiskPolicy(national), changes)


def _changed(params: RuleParams, values: Mapping[str, int | bool]) -> RuleParams:
    changes: dict[str, Any] = dict(values)
    return replace(params, **changes)


def _rule(name: str) -> RuleCode:
    try:
        return RuleCode(name)
    except ValueError:
        raise RiskPolicyInvalid(where=name or "rule", reason="unknown rule") from None


def _values(rule: RuleCode, raw: Mapping[str, object], where: str) -> dict[str, int | bool]:
    kinds = {f.name: f.type for f in fields(PARAMS_TYPES[rule])}
    checked: dict[str, int | bool] = {}
    for key, value in raw.items():
        if key not in kinds:
            raise RiskPolicyInvalid(where=f"{where}.{key}", reason="unknown parameter")
        wants_bool = kinds[key] in (bool, "bool")
        if isinstance(value, bool) != wants_bool or not isinstance(value, int):
            expected = "true or false" if wants_bool else "a whole number"
            raise RiskPolicyInvalid(where=f"{where}.{key}", reason=f"{expected} expected")
        if not wants_bool and not 0 <= value <= 10**12:
            raise RiskPolicyInvalid(where=f"{where}.{key}", reason="out of range")
        checked[key] = value
    return checked
