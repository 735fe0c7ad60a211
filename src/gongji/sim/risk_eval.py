"""`gongji risk evaluate`: the rules on a synthetic population, precision and recall per
pattern, the share of honest persons alerted, and how long the rule run took."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass

from gongji.risk.domain.alerts import Alert, RuleCode
from gongji.risk.domain.common import policy_lookup
from gongji.risk.domain.engine import run_rules
from gongji.risk.domain.params import RiskPolicyBook
from gongji.sim.risk_fraud import inject
from gongji.sim.risk_population import Population, honest_population


@dataclass(frozen=True, slots=True)
class PatternResult:
    pattern: RuleCode
    injected: int
    found: int
    alerted: int
    alerted_involved: int

    @property
    def recall(self) -> float:
        return self.found / self.injected if self.injected else 1.0

    @property
    def precision(self) -> float:
        return self.alerted_involved / self.alerted if self.alerted else 1.0


@dataclass(frozen=True, slots=True)
class Evaluation:
    seed: int
    persons: int
    honest: int
    honest_alerted: int
    grants: int
    settlements: int
    build_s: float
    rules_s: float
    rules_cpu_s: float
    patterns: tuple[PatternResult, ...]

    @property
    def honest_alerted_share(self) -> float:
        return self.honest_alerted / self.honest if self.honest else 0.0


def synthetic(persons: int, seed: int, grants_per_employee: float, rate: float) -> Population:
    """The honest population of ``persons`` and every fraud pattern injected on top."""
    population = honest_population(persons, seed, grants_per_employee)
    inject(population, len(population.persons), rate)
    return population


def evaluate(
    persons: int, seed: int, grants_per_employee: float = 2.0, rate_per_mille: float = 0.5
) -> Evaluation:
    began = time.perf_counter()
    population = synthetic(persons, seed, grants_per_employee, rate_per_mille)
    history = population.history()
    built, cpu = time.perf_counter(), time.process_time()
    alerts = run_rules(history, policy_lookup(RiskPolicyBook()))
    ran, cpu = time.perf_counter(), time.process_time() - cpu
    honest = [p.psn_no for p in population.persons if p.psn_no not in population.involved]
    alerted = {a.subject for a in alerts}
    return Evaluation(
        seed=seed,
        persons=len(population.persons),
        honest=len(honest),
        honest_alerted=sum(1 for psn in honest if psn in alerted),
        grants=len(history.grants),
        settlements=len(history.settlements),
        build_s=built - began,
        rules_s=ran - built,
        rules_cpu_s=cpu,
        patterns=_patterns(population, alerts),
    )


def _patterns(population: Population, alerts: list[Alert]) -> tuple[PatternResult, ...]:
    by_rule: defaultdict[RuleCode, set[str]] = defaultdict(set)
    for alert in alerts:
        by_rule[alert.rule].add(alert.subject)
    results = []
    for rule in RuleCode:
        injected = population.subjects.get(rule, set())
        named = by_rule[rule]
        results.append(
            PatternResult(
                rule,
                len(injected),
                len(injected & named),
                len(named),
                len(named & population.involved),
            )
        )
    return tuple(results)


def render(result: Evaluation) -> list[str]:
    """The evaluation as the lines `gongji risk evaluate` prints."""
    lines = [
        f"seed {result.seed}: {result.persons} persons ({result.honest} honest), "
        f"{result.grants} grants, {result.settlements} settlements",
        f"population built in {result.build_s:.1f} s, rules ran in {result.rules_s:.1f} s "
        f"({result.rules_cpu_s:.1f} s CPU)",
        f"{'pattern':<16} {'injected':>8} {'found':>6} {'recall':>7} "
        f"{'alerted':>8} {'precision':>9}",
    ]
    for row in result.patterns:
        lines.append(
            f"{row.pattern:<16} {row.injected:>8} {row.found:>6} {row.recall:>7.3f} "
            f"{row.alerted:>8} {row.precision:>9.3f}"
        )
    lines.append(
        f"honest persons alerted: {result.honest_alerted} of {result.honest} "
        f"({result.honest_alerted_share:.2%})"
    )
    return lines
