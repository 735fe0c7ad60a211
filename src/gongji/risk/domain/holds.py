"""Which stored alerts hold a new grant offer (docs/rules.md §12.4): a pure decision over the
alerts still standing about the offer's parties, what the screen found now, and the policy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gongji.risk.domain.alerts import Alert, RuleCode
from gongji.risk.domain.common import PolicyFor


@dataclass(frozen=True, slots=True)
class StandingAlert:
    """A stored alert about a person, not gathered into a case in one of the states left out:
    what the write-time check needs to tell whether it still holds (no evidence is read)."""

    id: int
    fingerprint: str
    rule: str
    reason: str
    subject: str
    region: str


def standing_holds(
    standing: Sequence[StandingAlert], found: Sequence[Alert], policy_for: PolicyFor
) -> list[StandingAlert]:
    """Of the stored alerts about an offer's parties not closed as unfounded (``standing``), those
    that hold it: their rule holds in their region; and where the screen found an alert of the
    same rule, clause and person now, only that very alert — the rule has just judged that
    clause again, and a fan-in or a relation's large grants grow with each offer (the newest
    alert names every grant), so the earlier ones of the clause add nothing. An alert the
    screen finds again but that a case closed as unfounded is not standing, and takes the
    earlier ones of its clause with it."""
    judged = {(a.rule.value, a.reason, a.subject) for a in found}
    now = {a.fingerprint for a in found}
    holding = []
    for alert in standing:
        params = policy_for(alert.region).of(RuleCode(alert.rule))
        if not (params.enabled and params.hold):
            continue
        if (alert.rule, alert.reason, alert.subject) in judged and alert.fingerprint not in now:
            continue
        holding.append(alert)
    return holding
