"""Every rule over one history, and the scores the alerts roll up into."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from gongji.risk.domain.alerts import Alert, RuleCode, SubjectKind
from gongji.risk.domain.common import Focus, PolicyFor
from gongji.risk.domain.facts import History
from gongji.risk.domain.rules_money import fan_in, fan_out, loops
from gongji.risk.domain.rules_people import kinship, lifecycle
from gongji.risk.domain.rules_spending import geography, grant_then_cash, institutions

Rule = Callable[[History, PolicyFor, Focus], list[Alert]]

RULES: dict[RuleCode, Rule] = {
    RuleCode.FAN_IN: fan_in,
    RuleCode.FAN_OUT: fan_out,
    RuleCode.LOOP: loops,
    RuleCode.GRANT_THEN_CASH: grant_then_cash,
    RuleCode.GEOGRAPHY: geography,
    RuleCode.KINSHIP: kinship,
    RuleCode.LIFECYCLE: lifecycle,
    RuleCode.INSTITUTION: institutions,
}

SCORE_MAX = 100


def run_rules(
    history: History,
    policy_for: PolicyFor,
    *,
    persons: Focus = None,
    institutions_changed: Focus = None,
    only: Iterable[RuleCode] | None = None,
) -> list[Alert]:
    """Every enabled rule's alerts. An incremental run names the persons and institutions
    whose facts changed; the rules judge only those (loops: the groups they belong to)."""
    chosen = set(only) if only is not None else set(RULES)
    alerts: list[Alert] = []
    for code, rule in RULES.items():
        if code in chosen:
            focus = institutions_changed if code is RuleCode.INSTITUTION else persons
            alerts.extend(rule(history, policy_for, focus))
    return alerts


@dataclass(frozen=True, slots=True)
class Score:
    """A subject's risk: the weights of its distinct (rule, clause) alerts, capped at 100."""

    subject_kind: SubjectKind
    subject: str
    score: int
    rules: tuple[RuleCode, ...]
    alerts: int


def scores(alerts: Iterable[Alert]) -> list[Score]:
    """Alerts rolled up per subject, highest score first. A clause counts once however many
    rows repeat it, so one busy pattern does not outweigh two different ones."""
    clauses: defaultdict[tuple[SubjectKind, str], dict[tuple[RuleCode, str], int]] = defaultdict(
        dict
    )
    counts: defaultdict[tuple[SubjectKind, str], int] = defaultdict(int)
    for alert in alerts:
        key = (alert.subject_kind, alert.subject)
        clauses[key][(alert.rule, alert.reason)] = alert.weight
        counts[key] += 1
    rolled = [
        Score(
            kind,
            subject,
            min(SCORE_MAX, sum(weights.values())),
            tuple(sorted({rule for rule, _ in weights})),
            counts[(kind, subject)],
        )
        for (kind, subject), weights in clauses.items()
    ]
    return sorted(rolled, key=lambda s: (-s.score, s.subject))
