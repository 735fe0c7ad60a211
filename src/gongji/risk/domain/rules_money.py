"""Rules over who gives to whom: fan-in, fan-out and loops (docs/rules.md §12.2.1–3)."""

from __future__ import annotations

from collections import defaultdict

from gongji.risk.domain.alerts import Alert, Figure, RuleCode
from gongji.risk.domain.common import Focus, PolicyFor, busiest, person_alert, subjects
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
        received = history.by_recipient[psn_no]
        if len(received) < params.min_contributors:
            continue  # most people: no need to look closer
        start, end = history.start, history.end
        grants = [g for g in received if start <= g.created_at < end]
        top = busiest(grants, params.window_days, _contributor, _made, params.min_contributors)
        givers = {g.contributor for g in top}
        if len(givers) >= params.min_contributors:
            figures: tuple[Figure, ...] = (
                ("contributors", len(givers)),
                ("threshold", params.min_contributors),
            )
            alerts.append(
                person_alert(
                    RuleCode.FAN_IN, params, psn_no, region, "many_contributors",
                    grants=[g.id for g in top], persons=sorted(givers), figures=figures,
                )
            )  # fmt: skip
    return alerts


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
        given = history.by_contributor[psn_no]
        if len(given) < min(params.min_limit_days, params.min_recipients):
            continue  # most people: no need to look closer
        start, end = history.start, history.end
        grants = [g for g in given if start <= g.created_at < end]
        alerts.extend(_limit_days(grants, params, psn_no, region))
        top = busiest(grants, params.window_days, _recipient, _made, params.min_recipients)
        takers = {g.recipient for g in top}
        if len(takers) >= params.min_recipients:
            figures: tuple[Figure, ...] = (
                ("recipients", len(takers)),
                ("threshold", params.min_recipients),
            )
            alerts.append(
                person_alert(
                    RuleCode.FAN_OUT, params, psn_no, region, "many_recipients",
                    grants=[g.id for g in top], persons=sorted(takers), figures=figures,
                )
            )  # fmt: skip
    return alerts


def _limit_days(
    grants: list[GrantFact], params: FanOutParams, psn_no: str, region: str
) -> list[Alert]:
    if len(grants) < params.min_limit_days:
        return []
    near = params.grant_amount_max_fen * params.near_limit_pct // 100
    near_limit = sum(1 for g in grants if g.amount_fen >= near)
    if near_limit + len(grants) // max(params.grants_per_day_max, 1) < params.min_limit_days:
        return []  # not enough full days nor near-limit amounts for that many limit days
    per_day: defaultdict[int, list[GrantFact]] = defaultdict(list)
    for grant in grants:
        per_day[business_day(grant.created_at)].append(grant)
    limit_days = [
        day
        for day, made in per_day.items()
        if len(made) >= params.grants_per_day_max or any(g.amount_fen >= near for g in made)
    ]
    at_limit = busiest(sorted(limit_days), params.window_days, str, _day_us, params.min_limit_days)
    if len(at_limit) < params.min_limit_days:
        return []
    rows = [g.id for day in at_limit for g in per_day[day]]
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


def _contributor(grant: GrantFact) -> str:
    return grant.contributor


def _recipient(grant: GrantFact) -> str:
    return grant.recipient


def _made(grant: GrantFact) -> int:
    return grant.created_at


def _day_us(day: int) -> int:
    return day * US_PER_DAY


def loops(history: History, policy_for: PolicyFor, focus: Focus = None) -> list[Alert]:
    """Money that comes back: every cycle of grants (A → B → … → A) among people of one
    strongly connected group within the run's window, each member alerted with the group's
    grants. Spouses' two-way grants are one household's money and are not a loop by
    themselves."""
    spouses = {(r.holder, r.relative) for r in history.relationships if r.kind == "spouse"}
    spouses |= {(b, a) for a, b in spouses}
    start, end = history.start, history.end
    pairs = {(g.contributor, g.recipient) for g in history.grants if start <= g.created_at < end}
    pairs = _on_cycles(pairs - spouses)
    edges: defaultdict[str, set[str]] = defaultdict(set)
    for giver, taker in pairs:
        edges[giver].add(taker)
    wanted = None if focus is None else set(focus)
    groups = [
        group
        for group in strongly_connected(edges)
        if len(group) > 1 and (wanted is None or wanted & group)
    ]
    if not groups:
        return []
    rows: defaultdict[tuple[str, str], list[GrantFact]] = defaultdict(list)
    for grant in history.grants:
        pair = (grant.contributor, grant.recipient)
        if pair in pairs and start <= grant.created_at < end:
            rows[pair].append(grant)
    alerts = []
    for group in groups:
        alerts.extend(_loop_alerts(history, policy_for, group, edges, rows))
    return alerts


def _on_cycles(pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Drop, until none is left, every edge from someone who receives nothing or to someone
    who gives nothing: no cycle passes there. Most grants go to people who give nothing, so
    the graph left for the search is a small fraction of the window's."""
    while True:
        givers = {a for a, _ in pairs}
        takers = {b for _, b in pairs}
        kept = {(a, b) for a, b in pairs if a in takers and b in givers}
        if len(kept) == len(pairs):
            return kept
        pairs = kept


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
