"""Rules over who gives to whom: fan-in, fan-out and loops (docs/rules.md §16.2.1–3)."""

from __future__ import annotations

from collections import Counter, defaultdict

from gongji.risk.domain.alerts import Alert, Figure, RuleCode
from gongji.risk.domain.common import Focus, PolicyFor, person_alert, subjects, window_start
from gongji.risk.domain.facts import US_PER_DAY, GrantFact, History, business_day
from gongji.risk.domain.graph import strongly_connected
from gongji.risk.domain.params import FanOutParams


def fan_in(history: History, policy_for: PolicyFor, focus: Focus = None) -> list[Alert]:
    """A recipient given money by more distinct contributors within ``window_days`` than a
    family explains (``min_contributors``). The evidence is the busiest such window."""
    alerts = []
    for psn_no in subjects(history.by_recipient, focus):
        person = history.persons.get(psn_no)
        region = person.region if person else ""
        params = policy_for(region).of(RuleCode.FAN_IN)
        if not params.enabled:
            continue
        start = window_start(history, params.window_days)
        grants = [g for g in history.by_recipient[psn_no] if g.created_at >= start]
        busiest = _busiest(grants, params.window_days * US_PER_DAY, "contributor")
        givers = {g.contributor for g in busiest}
        if len(givers) >= params.min_contributors:
            figures: tuple[Figure, ...] = (
                ("contributors", len(givers)),
                ("threshold", params.min_contributors),
            )
            alerts.append(
                person_alert(
                    RuleCode.FAN_IN, params, psn_no, region, "many_contributors",
                    grants=[g.id for g in busiest], persons=sorted(givers), figures=figures,
                )
            )  # fmt: skip
    return alerts


def _busiest(grants: list[GrantFact], span: int, party: str) -> list[GrantFact]:
    """The grants of the ``span``-long window with the most distinct counterparties."""
    seen: Counter[str] = Counter()
    best: tuple[int, int, int] = (0, 0, 0)
    left = 0
    for right, grant in enumerate(grants):
        seen[getattr(grant, party)] += 1
        while grant.created_at - grants[left].created_at > span:
            other = getattr(grants[left], party)
            seen[other] -= 1
            if not seen[other]:
                del seen[other]
            left += 1
        if len(seen) > best[0]:
            best = (len(seen), left, right + 1)
    return grants[best[1] : best[2]]


def fan_out(history: History, policy_for: PolicyFor, focus: Focus = None) -> list[Alert]:
    """A contributor at the limits day after day (the day's last offer allowed, or an amount
    within ``near_limit_pct`` of the per-transfer maximum, on ``min_limit_days`` days), or
    giving to ``min_recipients`` or more people within the window."""
    alerts = []
    for psn_no in subjects(history.by_contributor, focus):
        person = history.persons.get(psn_no)
        region = person.region if person else ""
        params = policy_for(region).of(RuleCode.FAN_OUT)
        if not params.enabled:
            continue
        start = window_start(history, params.window_days)
        grants = [g for g in history.by_contributor[psn_no] if g.created_at >= start]
        alerts.extend(_limit_days(grants, params, psn_no, region))
        busiest = _busiest(grants, params.window_days * US_PER_DAY, "recipient")
        takers = {g.recipient for g in busiest}
        if len(takers) >= params.min_recipients:
            figures: tuple[Figure, ...] = (
                ("recipients", len(takers)),
                ("threshold", params.min_recipients),
            )
            alerts.append(
                person_alert(
                    RuleCode.FAN_OUT, params, psn_no, region, "many_recipients",
                    grants=[g.id for g in busiest], persons=sorted(takers), figures=figures,
                )
            )  # fmt: skip
    return alerts


def _limit_days(
    grants: list[GrantFact], params: FanOutParams, psn_no: str, region: str
) -> list[Alert]:
    near = params.grant_amount_max_fen * params.near_limit_pct // 100
    per_day: defaultdict[int, list[GrantFact]] = defaultdict(list)
    for grant in grants:
        per_day[business_day(grant.created_at)].append(grant)
    at_limit = [
        day
        for day, made in per_day.items()
        if len(made) >= params.grants_per_day_max or any(g.amount_fen >= near for g in made)
    ]
    if len(at_limit) < params.min_limit_days:
        return []
    rows = [g.id for day in sorted(at_limit) for g in per_day[day]]
    figures: tuple[Figure, ...] = (
        ("days_at_limit", len(at_limit)),
        ("threshold", params.min_limit_days),
    )
    return [
        person_alert(
            RuleCode.FAN_OUT, params, psn_no, region, "limits_day_after_day",
            grants=rows, figures=figures,
        )
    ]  # fmt: skip


def loops(history: History, policy_for: PolicyFor, focus: Focus = None) -> list[Alert]:
    """Money that comes back: every cycle of grants (A → B → … → A) among people of one
    strongly connected group within the window, each member alerted with the group's grants.
    Spouses' two-way grants are one household's money and are not a loop by themselves."""
    spouses = {
        frozenset((r.holder, r.relative)) for r in history.relationships if r.kind == "spouse"
    }
    params = policy_for("").of(RuleCode.LOOP)
    start = window_start(history, params.window_days)
    edges: defaultdict[str, set[str]] = defaultdict(set)
    rows: defaultdict[tuple[str, str], list[GrantFact]] = defaultdict(list)
    for grant in history.grants:
        pair = (grant.contributor, grant.recipient)
        if grant.created_at >= start and frozenset(pair) not in spouses:
            edges[grant.contributor].add(grant.recipient)
            rows[pair].append(grant)
    wanted = None if focus is None else set(focus)
    alerts = []
    for group in strongly_connected(edges):
        if len(group) < 2 or (wanted is not None and not wanted & group):
            continue
        alerts.extend(_loop_alerts(history, policy_for, group, edges, rows))
    return alerts


def _loop_alerts(
    history: History,
    policy_for: PolicyFor,
    group: set[str],
    edges: dict[str, set[str]],
    rows: dict[tuple[str, str], list[GrantFact]],
) -> list[Alert]:
    inside = [g for a in sorted(group) for b in sorted(edges[a] & group) for g in rows[(a, b)]]
    total = sum(g.amount_fen for g in inside)
    alerts = []
    for psn_no in sorted(group):
        person = history.persons.get(psn_no)
        region = person.region if person else ""
        params = policy_for(region).of(RuleCode.LOOP)
        if not params.enabled or total < params.min_cycle_fen:
            continue
        figures: tuple[Figure, ...] = (("members", len(group)), ("total_fen", total))
        alerts.append(
            person_alert(
                RuleCode.LOOP, params, psn_no, region, "money_comes_back",
                grants=[g.id for g in inside], persons=sorted(group), figures=figures,
            )
        )  # fmt: skip
    return alerts
