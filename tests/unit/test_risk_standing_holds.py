"""Which stored alerts about an offer's parties hold it (docs/rules.md §12.4): those whose rule
holds, enabled, in the alert's region; and, for a clause the screen has just found again, only
the alert it found."""

from __future__ import annotations

from gongji.risk.domain.alerts import Alert, Evidence, RuleCode, SubjectKind
from gongji.risk.domain.common import policy_lookup
from gongji.risk.domain.holds import StandingAlert, standing_holds
from gongji.risk.domain.params import RiskPolicyBook

HOME, OTHER = "620100", "370100"
HOLDING_RULES = (RuleCode.KINSHIP, RuleCode.FAN_IN, RuleCode.LIFECYCLE)
HOLDING_AT_HOME = policy_lookup(
    RiskPolicyBook(changes={HOME: {rule: {"hold": True} for rule in HOLDING_RULES}})
)


def found(rule: RuleCode, reason: str, subject: str, *grants: str) -> Alert:
    return Alert(rule, 1, SubjectKind.PERSON, subject, HOME, 10, reason, Evidence(grants=grants))


def stored(n: int, alert: Alert, region: str = HOME) -> StandingAlert:
    return StandingAlert(
        n, alert.fingerprint, alert.rule.value, alert.reason, alert.subject, region
    )


def test_only_rules_that_hold_in_the_alerts_region_hold() -> None:
    parents = found(RuleCode.KINSHIP, "too_many_parent", "P1")
    dead = found(RuleCode.LIFECYCLE, "after_death", "P2", "g1")
    standing = [stored(1, parents), stored(2, parents, OTHER), stored(3, dead)]
    held = standing_holds(standing, [], HOLDING_AT_HOME)
    assert [a.id for a in held] == [1, 3]  # the rules hold at home, not elsewhere


def test_a_disabled_rule_holds_nothing() -> None:
    off = {RuleCode.LIFECYCLE: {"hold": True, "enabled": False}}
    policy = policy_lookup(RiskPolicyBook(changes={HOME: off}))
    dead = found(RuleCode.LIFECYCLE, "after_death", "P2", "g1")
    assert standing_holds([stored(1, dead)], [], policy) == []


def test_a_clause_found_again_holds_by_the_alert_found_alone() -> None:
    earlier = found(RuleCode.FAN_IN, "many_contributors", "P1", "g1", "g2")
    newest = found(RuleCode.FAN_IN, "many_contributors", "P1", "g1", "g2", "g3")
    other_person = found(RuleCode.FAN_IN, "many_contributors", "P9", "g7")
    age = found(RuleCode.KINSHIP, "impossible_age", "P1")
    standing = [stored(1, earlier), stored(2, other_person), stored(3, age), stored(4, newest)]
    held = standing_holds(standing, [newest], HOLDING_AT_HOME)
    assert [a.id for a in held] == [2, 3, 4]  # fan-in of P1: the newest speaks for the clause
