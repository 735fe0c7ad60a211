"""Rules over who people are: kinship and lifecycle (docs/rules.md §12.2.6–7)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta

from gongji.risk.domain.alerts import Alert, Figure, RuleCode
from gongji.risk.domain.common import Focus, PolicyFor, person_alert, subjects
from gongji.risk.domain.facts import (
    US_PER_DAY,
    GrantFact,
    History,
    PersonFact,
    RelationshipFact,
    SettlementFact,
)
from gongji.risk.domain.params import KinshipParams, LifecycleParams

EPOCH = date(1970, 1, 1)

_OLDER_BY = {  # kind of the relative → how much older than the holder it must be (param name)
    "parent": "parent_gap_years",
    "paternal_grandparent": "grandparent_gap_years",
    "maternal_grandparent": "grandparent_gap_years",
}
_YOUNGER_BY = {
    "child": "parent_gap_years",
    "grandchild_via_son": "grandparent_gap_years",
    "grandchild_via_daughter": "grandparent_gap_years",
}


AGE_CHECKED_KINDS = frozenset({*_OLDER_BY, *_YOUNGER_BY, "spouse"})


def whose_birth_dates(relationships: Iterable[RelationshipFact], start: int, end: int) -> set[str]:
    """The persons whose birth dates the rules read: both sides of a relation of a kind with an
    age rule, made inside the window ``[start, end)`` — the impossible-age clause judges only
    those, and no other rule reads a birth date. A run decrypts ID numbers for these alone
    (most relations were made long before the window and were judged when they were new)."""
    found: set[str] = set()
    for relation in relationships:
        if relation.kind in AGE_CHECKED_KINDS and start <= relation.created_at < end:
            found.update((relation.holder, relation.relative))
    return found


def day_of(at_us: int) -> date:
    return EPOCH + timedelta(microseconds=at_us)


def years_between(earlier: date, later: date) -> int:
    """Whole years from ``earlier`` to ``later`` (an age)."""
    years = later.year - earlier.year
    return years - ((later.month, later.day) < (earlier.month, earlier.day))


def kinship(history: History, policy_for: PolicyFor, focus: Focus = None) -> list[Alert]:
    """A holder's register of relatives that no family explains: a relationship made just
    before large grants, an age the relation cannot have, or too many of one kind."""
    alerts = []
    for holder in subjects(history.relationships_of, focus):
        person = history.persons.get(holder)
        region = person.region if person else ""
        params = policy_for(region).of(RuleCode.KINSHIP)
        if not params.enabled:
            continue
        mine = history.relationships_of[holder]
        fresh = [r for r in mine if history.in_window(r.created_at)]
        if not fresh:
            continue
        alerts.extend(_recent_then_large(history, fresh, params, holder, region))
        alerts.extend(_impossible_ages(history, fresh, params, holder, region))
        alerts.extend(_too_many(mine, params, holder, region))
    return alerts


def _recent_then_large(
    history: History, fresh: list[RelationshipFact], params: KinshipParams, holder: str, region: str
) -> list[Alert]:
    alerts = []
    given = history.by_contributor.get(holder, [])
    for relation in fresh:
        until = relation.created_at + params.recent_days * US_PER_DAY
        rows = [
            g
            for g in given
            if g.recipient == relation.relative and relation.created_at <= g.created_at <= until
        ]
        total = sum(g.amount_fen for g in rows)
        if total >= params.large_total_fen:
            figures: tuple[Figure, ...] = (("granted_fen", total), ("days", params.recent_days))
            figures += (("threshold_fen", params.large_total_fen),)
            alerts.append(
                person_alert(
                    RuleCode.KINSHIP, params, holder, region, "new_relation_large_grants",
                    grants=[g.id for g in rows], relationships=[relation.id],
                    persons=[relation.relative], figures=figures,
                )
            )  # fmt: skip
    return alerts


def impossible_age(
    holder: PersonFact, relative: PersonFact, kind: str, params: KinshipParams, on: date
) -> tuple[str, tuple[Figure, ...]] | None:
    """Why the relation is impossible for these two birth dates, with the figures that show it
    (whole years, never a birth date: the alert's evidence is stored in clear), or ``None``;
    also ``None`` when a birth date was not read (``whose_birth_dates``)."""
    if holder.birth_date is None or relative.birth_date is None:
        return None
    if kind in _OLDER_BY:
        gap = getattr(params, _OLDER_BY[kind])
        years = years_between(relative.birth_date, holder.birth_date)
        if years < gap:
            return f"{kind}_too_young", (("older_by_years", years), ("min_years", gap))
    if kind in _YOUNGER_BY:
        gap = getattr(params, _YOUNGER_BY[kind])
        years = years_between(holder.birth_date, relative.birth_date)
        if years < gap:
            return f"{kind}_too_old", (("younger_by_years", years), ("min_years", gap))
    if kind == "spouse":
        youngest = max(holder.birth_date, relative.birth_date)
        if years_between(youngest, on) < params.spouse_min_age:
            return "spouse_under_age", (("min_age", params.spouse_min_age),)
    return None


def _impossible_ages(
    history: History, fresh: list[RelationshipFact], params: KinshipParams, holder: str, region: str
) -> list[Alert]:
    alerts = []
    me = history.persons.get(holder)
    for relation in fresh:
        other = history.persons.get(relation.relative)
        if me is None or other is None:
            continue
        found = impossible_age(me, other, relation.kind, params, day_of(relation.created_at))
        if found is not None:
            why, shown = found
            figures: tuple[Figure, ...] = (("kind", relation.kind), ("why", why), *shown)
            alerts.append(
                person_alert(
                    RuleCode.KINSHIP, params, holder, region, "impossible_age",
                    relationships=[relation.id], persons=[relation.relative], figures=figures,
                )
            )  # fmt: skip
    return alerts


def _too_many(
    mine: list[RelationshipFact], params: KinshipParams, holder: str, region: str
) -> list[Alert]:
    limits = {
        "parent": params.max_parents,
        "paternal_grandparent": params.max_grandparents_per_side,
        "maternal_grandparent": params.max_grandparents_per_side,
        "spouse": params.max_spouses,
    }
    by_kind: defaultdict[str, list[RelationshipFact]] = defaultdict(list)
    for relation in mine:
        by_kind[relation.kind].append(relation)
    alerts = []
    for kind, rows in sorted(by_kind.items()):
        relatives = {r.relative for r in rows}
        if kind in limits and len(relatives) > limits[kind]:
            figures: tuple[Figure, ...] = (
                ("kind", kind),
                ("count", len(relatives)),
                ("limit", limits[kind]),
            )
            alerts.append(
                person_alert(
                    RuleCode.KINSHIP, params, holder, region, f"too_many_{kind}",
                    relationships=[r.id for r in rows], persons=sorted(relatives),
                    figures=figures,
                )
            )  # fmt: skip
    return alerts


def gone_since(person: PersonFact, params: LifecycleParams) -> tuple[str, int] | None:
    """Why and since when (µs, grace included) ``person`` may no longer give, receive or spend
    shared money; also the write-time check of a grant."""
    grace = params.grace_days * US_PER_DAY
    if person.died_at is not None:
        return "after_death", person.died_at + grace
    if person.terminated_at is not None:
        return "after_termination", person.terminated_at + grace
    return None


def lifecycle(history: History, policy_for: PolicyFor, focus: Focus = None) -> list[Alert]:
    """Grants given or received, or settlements, after a person's death or termination; or
    settlements on the old region's insurance after a move."""
    alerts = []
    for psn_no in subjects(history.persons, focus):
        person = history.persons[psn_no]
        if person.died_at is None and person.terminated_at is None and person.moved_at is None:
            continue
        params = policy_for(person.region).of(RuleCode.LIFECYCLE)
        if params.enabled:
            alert = _after_end(history, person, params) or _after_move(history, person, params)
            if alert is not None:
                alerts.append(alert)
    return alerts


def _after_end(history: History, person: PersonFact, params: LifecycleParams) -> Alert | None:
    gone = gone_since(person, params)
    if gone is None:
        return None
    reason, since = gone
    psn_no = person.psn_no
    grants: list[GrantFact] = [
        g
        for g in history.by_contributor.get(psn_no, []) + history.by_recipient.get(psn_no, [])
        if history.in_window(g.created_at) and max(g.created_at, g.accepted_at or 0) > since
    ]
    spent = [
        s for s in history.spending_of.get(psn_no, []) if s.at > since and history.in_window(s.at)
    ]
    return _lifecycle_alert(person, params, reason, grants, spent)


def _after_move(history: History, person: PersonFact, params: LifecycleParams) -> Alert | None:
    if person.moved_at is None or person.moved_from is None:
        return None
    since = person.moved_at + params.grace_days * US_PER_DAY
    spent = [
        s
        for s in history.spending_of.get(person.psn_no, [])
        if s.at > since
        and history.in_window(s.at)
        and s.shared_fen > 0
        and s.insured_region == person.moved_from
    ]
    return _lifecycle_alert(person, params, "after_move", [], spent)


def _lifecycle_alert(
    person: PersonFact,
    params: LifecycleParams,
    reason: str,
    grants: list[GrantFact],
    spent: list[SettlementFact],
) -> Alert | None:
    if not grants and not spent:
        return None
    figures: tuple[Figure, ...] = (("grants", len(grants)), ("settlements", len(spent)))
    return person_alert(
        RuleCode.LIFECYCLE, params, person.psn_no, person.region, reason,
        grants=[g.id for g in grants], settlements=[s.id for s in spent],
        persons=sorted({g.contributor for g in grants} | {g.recipient for g in grants}),
        figures=figures,
    )  # fmt: skip
