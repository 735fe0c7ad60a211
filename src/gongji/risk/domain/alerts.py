"""What a rule says when it trips: an alert naming its subject, the rows that tripped it, the
figures it compared and the version of the rule that did."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum


class RuleCode(StrEnum):
    """The eight families of rules (docs/rules.md §12.2)."""

    FAN_IN = "fan_in"
    FAN_OUT = "fan_out"
    LOOP = "loop"
    GRANT_THEN_CASH = "grant_then_cash"
    GEOGRAPHY = "geography"
    KINSHIP = "kinship"
    LIFECYCLE = "lifecycle"
    INSTITUTION = "institution"

    @property
    def label_zh(self) -> str:
        return _LABEL_ZH[self]


_LABEL_ZH = {
    RuleCode.FAN_IN: "多人转入",
    RuleCode.FAN_OUT: "频繁转出",
    RuleCode.LOOP: "资金回流",
    RuleCode.GRANT_THEN_CASH: "转入即购药套现",
    RuleCode.GEOGRAPHY: "异地异常消费",
    RuleCode.KINSHIP: "亲属关系异常",
    RuleCode.LIFECYCLE: "死亡/终止/转出后仍有交易",
    RuleCode.INSTITUTION: "机构共济结算占比异常",
}


class SubjectKind(StrEnum):
    PERSON = "person"
    INSTITUTION = "institution"


Figure = tuple[str, int | str]


@dataclass(frozen=True, slots=True)
class Evidence:
    """The rows behind an alert, by id, and the figures the rule compared with its threshold."""

    grants: tuple[str, ...] = ()
    settlements: tuple[str, ...] = ()
    relationships: tuple[str, ...] = ()
    persons: tuple[str, ...] = ()
    figures: tuple[Figure, ...] = ()


@dataclass(frozen=True, slots=True)
class Alert:
    rule: RuleCode
    rule_version: int
    subject_kind: SubjectKind
    subject: str
    region: str
    weight: int
    reason: str
    """Which clause of the rule tripped, a stable snake_case word (``many_parents``)."""
    evidence: Evidence = field(default_factory=Evidence)

    @property
    def fingerprint(self) -> str:
        """Same rule, clause, subject and rows → same alert: a later run that sees the same
        evidence again raises nothing new (the store's unique key)."""
        parts = [self.rule, self.reason, self.subject, *sorted(self.evidence.grants)]
        parts += sorted(self.evidence.settlements) + sorted(self.evidence.relationships)
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
