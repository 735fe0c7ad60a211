"""Each risk rule on small hand-written histories: one that must trip it, and the nearest one
that must not (docs/rules.md §12.2)."""

from __future__ import annotations

from datetime import date

import pytest

from gongji.risk.domain.alerts import RuleCode, SubjectKind
from gongji.risk.domain.common import policy_lookup
from gongji.risk.domain.engine import run_rules, scores
from gongji.risk.domain.facts import (
    US_PER_DAY,
    US_PER_MINUTE,
    GrantFact,
    History,
    PersonFact,
    RelationshipFact,
    SettlementFact,
)
from gongji.risk.domain.graph import strongly_connected
from gongji.risk.domain.params import RiskPolicyBook
from gongji.risk.domain.rules_people import whose_birth_dates

T0 = 1_767_225_600_000_000  # 2026-01-01T00:00Z
END = T0 + 90 * US_PER_DAY
POLICY = policy_lookup(RiskPolicyBook())
HOME = "620100"


def person(psn: str, born: date = date(1980, 1, 1), **kw: object) -> PersonFact:
    return PersonFact(psn, str(kw.pop("region", HOME)), born, **kw)  # type: ignore[arg-type]


def grant(n: int, giver: str, taker: str, fen: int = 20_000, day: float = 10) -> GrantFact:
    at = T0 + int(day * US_PER_DAY)
    return GrantFact(f"g{n}", giver, taker, fen, at, at + US_PER_MINUTE)


def history(**facts: object) -> History:
    return History.build(T0, END, **facts)  # type: ignore[arg-type]


def rules_hit(h: History, rule: RuleCode) -> set[tuple[str, str]]:
    return {(a.subject, a.reason) for a in run_rules(h, POLICY, only=[rule])}


# --- fan-in -------------------------------------------------------------------------------------


def test_fan_in_trips_on_five_contributors_within_thirty_days() -> None:
    grants = [grant(i, f"C{i}", "R", day=10 + i) for i in range(5)]
    assert rules_hit(history(grants=grants), RuleCode.FAN_IN) == {("R", "many_contributors")}


def test_fan_in_four_contributors_or_five_spread_beyond_the_window_do_not() -> None:
    four = [grant(i, f"C{i}", "R", day=10 + i) for i in range(4)]
    spread = [grant(i, f"C{i}", "R", day=1 + 10 * i) for i in range(5)]
    again = [*four, grant(9, "C0", "R", day=20)]
    assert rules_hit(history(grants=four), RuleCode.FAN_IN) == set()
    assert rules_hit(history(grants=spread), RuleCode.FAN_IN) == set()
    assert rules_hit(history(grants=again), RuleCode.FAN_IN) == set()


# --- fan-out ------------------------------------------------------------------------------------


def test_fan_out_trips_on_five_days_at_the_per_transfer_limit() -> None:
    grants = [grant(i, "C", "R", fen=190_000, day=60 + i) for i in range(5)]
    assert rules_hit(history(grants=grants), RuleCode.FAN_OUT) == {("C", "limits_day_after_day")}


def test_fan_out_four_days_at_the_limit_or_five_below_it_do_not() -> None:
    four = [grant(i, "C", "R", fen=190_000, day=60 + i) for i in range(4)]
    below = [grant(i, "C", "R", fen=179_999, day=60 + i) for i in range(5)]
    assert rules_hit(history(grants=four), RuleCode.FAN_OUT) == set()
    assert rules_hit(history(grants=below), RuleCode.FAN_OUT) == set()


def test_fan_out_three_offers_a_day_count_as_a_day_at_the_limit() -> None:
    grants = [grant(d * 3 + k, "C", f"R{k}", day=60 + d) for d in range(5) for k in range(3)]
    assert ("C", "limits_day_after_day") in rules_hit(history(grants=grants), RuleCode.FAN_OUT)


def test_fan_out_trips_on_five_recipients_not_on_four() -> None:
    five = [grant(i, "C", f"R{i}", day=70 + i) for i in range(5)]
    assert rules_hit(history(grants=five), RuleCode.FAN_OUT) == {("C", "many_recipients")}
    assert rules_hit(history(grants=five[:4]), RuleCode.FAN_OUT) == set()


# --- loops --------------------------------------------------------------------------------------


def test_a_three_person_cycle_alerts_every_member() -> None:
    grants = [grant(1, "A", "B", day=50), grant(2, "B", "C", day=51), grant(3, "C", "A", day=52)]
    found = rules_hit(history(grants=grants), RuleCode.LOOP)
    assert found == {(p, "money_comes_back") for p in "ABC"}


def test_a_chain_that_does_not_close_or_a_spouses_two_way_is_no_loop() -> None:
    chain = [grant(1, "A", "B", day=50), grant(2, "B", "C", day=51), grant(3, "A", "C", day=52)]
    two_way = [grant(1, "A", "B", day=50), grant(2, "B", "A", day=51)]
    spouse = RelationshipFact("r1", "A", "B", "spouse", T0)
    assert rules_hit(history(grants=chain), RuleCode.LOOP) == set()
    assert rules_hit(history(grants=two_way), RuleCode.LOOP) == {
        ("A", "money_comes_back"),
        ("B", "money_comes_back"),
    }
    assert rules_hit(history(grants=two_way, relationships=[spouse]), RuleCode.LOOP) == set()


def test_strongly_connected_finds_a_long_cycle_without_recursion() -> None:
    n = 5_000
    edges = {f"p{i}": {f"p{(i + 1) % n}"} for i in range(n)}
    assert [len(group) for group in strongly_connected(edges)] == [n]


# --- grant then cash ----------------------------------------------------------------------------


def _resale(n: int, at: int, place: str = "P1", resellable: int = 50_000) -> SettlementFact:
    return SettlementFact(f"s{n}", "R", place, "620100", at, 60_000, 60_000, resellable)


def test_spending_shared_money_on_resellable_drugs_minutes_after_acceptance_trips() -> None:
    given = grant(1, "C", "R", day=40)
    spent = _resale(1, (given.accepted_at or 0) + 20 * US_PER_MINUTE)
    found = rules_hit(history(grants=[given], settlements=[spent]), RuleCode.GRANT_THEN_CASH)
    assert found == {("R", "spent_minutes_after_grant")}


def test_the_same_spending_two_hours_later_or_on_cheap_drugs_does_not() -> None:
    given = grant(1, "C", "R", day=40)
    late = _resale(1, (given.accepted_at or 0) + 120 * US_PER_MINUTE)
    cheap = _resale(2, (given.accepted_at or 0) + 20 * US_PER_MINUTE, resellable=29_999)
    for spent in (late, cheap):
        h = history(grants=[given], settlements=[spent])
        assert rules_hit(h, RuleCode.GRANT_THEN_CASH) == set()


def test_resale_three_times_at_one_pharmacy_trips_twice_does_not() -> None:
    three = [_resale(i, T0 + (70 + i) * US_PER_DAY) for i in range(3)]
    split = [*three[:2], _resale(9, T0 + 75 * US_PER_DAY, place="P2")]
    assert rules_hit(history(settlements=three), RuleCode.GRANT_THEN_CASH) == {
        ("R", "resale_at_one_institution")
    }
    assert rules_hit(history(settlements=split), RuleCode.GRANT_THEN_CASH) == set()


# --- geography ----------------------------------------------------------------------------------


def _spend(n: int, place: str, region: str, shared: int, day: int = 60) -> SettlementFact:
    return SettlementFact(f"s{n}", "R", place, region, T0 + day * US_PER_DAY, 10_000, shared)


def test_shared_money_spent_three_times_in_another_province_trips() -> None:
    away = [_spend(i, f"G{i}", "440100", 5_000) for i in range(3)]
    h = history(persons=[person("R")], settlements=away)
    assert rules_hit(h, RuleCode.GEOGRAPHY) == {("R", "spent_far_from_home")}


def test_twice_away_at_home_province_or_at_a_usual_institution_does_not() -> None:
    twice = [_spend(i, f"G{i}", "440100", 5_000) for i in range(2)]
    same_province = [_spend(i, f"G{i}", "621200", 5_000) for i in range(3)]
    usual_visits = [_spend(10 + i, "G0", "440100", 0, day=5 + i) for i in range(2)]
    usual = [_spend(i, "G0", "440100", 5_000) for i in range(3)] + usual_visits
    for spending in (twice, same_province, usual):
        h = history(persons=[person("R")], settlements=spending)
        assert rules_hit(h, RuleCode.GEOGRAPHY) == set()


# --- kinship ------------------------------------------------------------------------------------


def _relation(n: int, holder: str, relative: str, kind: str, day: float = 30) -> RelationshipFact:
    return RelationshipFact(f"r{n}", holder, relative, kind, T0 + int(day * US_PER_DAY))


def test_a_relation_made_a_day_before_large_grants_trips() -> None:
    rel = _relation(1, "H", "X", "sibling")
    grants = [grant(1, "H", "X", fen=100_000, day=30.5), grant(2, "H", "X", fen=50_000, day=31)]
    h = history(persons=[person("H"), person("X")], relationships=[rel], grants=grants)
    assert rules_hit(h, RuleCode.KINSHIP) == {("H", "new_relation_large_grants")}


def test_large_grants_long_after_the_relation_or_small_ones_soon_after_do_not() -> None:
    rel = _relation(1, "H", "X", "sibling")
    later = [grant(1, "H", "X", fen=100_000, day=40), grant(2, "H", "X", fen=50_000, day=41)]
    small = [grant(1, "H", "X", fen=100_000, day=30.5), grant(2, "H", "X", fen=49_999, day=31)]
    for grants in (later, small):
        h = history(persons=[person("H"), person("X")], relationships=[rel], grants=grants)
        assert rules_hit(h, RuleCode.KINSHIP) == set()


@pytest.mark.parametrize(
    ("kind", "relative_born", "trips"),
    [
        ("parent", date(1966, 1, 2), True),  # 13 years older than the holder
        ("parent", date(1965, 1, 1), False),  # 15 years: possible
        ("child", date(1994, 12, 31), True),
        ("child", date(1995, 1, 1), False),
        ("paternal_grandparent", date(1951, 1, 2), True),
        ("paternal_grandparent", date(1950, 1, 1), False),
        ("spouse", date(2006, 6, 1), True),  # 19 on the day of the relation
        ("spouse", date(2005, 1, 1), False),
    ],
)
def test_ages_the_relation_cannot_have(kind: str, relative_born: date, trips: bool) -> None:
    rel = _relation(1, "H", "X", kind)
    h = history(persons=[person("H"), person("X", relative_born)], relationships=[rel])
    found = {reason for _, reason in rules_hit(h, RuleCode.KINSHIP)}
    assert ("impossible_age" in found) is trips


def test_an_impossible_age_shows_years_never_a_birth_date() -> None:
    """The evidence is stored in clear: it says by how many years, not when anyone was born."""
    rel = _relation(1, "H", "X", "parent")
    h = history(persons=[person("H"), person("X", date(1970, 3, 4))], relationships=[rel])
    (alert,) = run_rules(h, POLICY, only=[RuleCode.KINSHIP])
    assert dict(alert.evidence.figures) == {
        "kind": "parent", "why": "parent_too_young", "older_by_years": 9, "min_years": 15,
    }  # fmt: skip
    assert not any("19" in str(value) for _, value in alert.evidence.figures)


def test_birth_dates_are_read_for_the_age_checked_relations_of_the_window_only() -> None:
    made_in = [_relation(1, "H", "P", "parent"), _relation(2, "H", "S", "spouse")]
    other = [_relation(3, "H", "B", "sibling"), _relation(4, "H", "Q", "parent", day=-10)]
    assert whose_birth_dates([*made_in, *other], T0, END) == {"H", "P", "S"}


def test_a_birth_date_not_read_judges_no_age() -> None:
    """The run leaves a birth date unread outside ``whose_birth_dates``; such a person is never
    judged on age (the nearest case, with the date read, trips)."""
    rel = _relation(1, "H", "X", "parent")
    unread = history(persons=[person("H"), PersonFact("X", HOME, None)], relationships=[rel])
    assert rules_hit(unread, RuleCode.KINSHIP) == set()
    read = history(persons=[person("H"), person("X", date(1970, 1, 1))], relationships=[rel])
    assert rules_hit(read, RuleCode.KINSHIP) == {("H", "impossible_age")}


def test_three_parents_trip_two_do_not() -> None:
    rels = [_relation(i, "H", f"X{i}", "parent", day=20 + i) for i in range(3)]
    persons = [person("H")] + [person(f"X{i}", date(1950, 1, 1)) for i in range(3)]
    assert rules_hit(history(persons=persons, relationships=rels), RuleCode.KINSHIP) == {
        ("H", "too_many_parent")
    }
    h = history(persons=persons, relationships=rels[:2])
    assert rules_hit(h, RuleCode.KINSHIP) == set()


# --- lifecycle ----------------------------------------------------------------------------------


def test_a_grant_received_after_death_trips_one_before_does_not() -> None:
    dead = person("R", died_at=T0 + 50 * US_PER_DAY)
    after = history(persons=[dead], grants=[grant(1, "C", "R", day=51)])
    before = history(persons=[dead], grants=[grant(1, "C", "R", day=49)])
    assert rules_hit(after, RuleCode.LIFECYCLE) == {("R", "after_death")}
    assert rules_hit(before, RuleCode.LIFECYCLE) == set()


def test_spending_after_termination_trips() -> None:
    gone = person("R", terminated_at=T0 + 50 * US_PER_DAY)
    spent = SettlementFact("s1", "R", "H1", HOME, T0 + 52 * US_PER_DAY, 10_000, 5_000)
    h = history(persons=[gone], settlements=[spent])
    assert rules_hit(h, RuleCode.LIFECYCLE) == {("R", "after_termination")}


def test_old_regions_shared_money_after_a_move_trips_the_new_regions_does_not() -> None:
    moved = person("R", region="440100", moved_at=T0 + 50 * US_PER_DAY, moved_from=HOME)
    at = T0 + 60 * US_PER_DAY
    old = SettlementFact("s1", "R", "H1", HOME, at, 10_000, 5_000, 0, HOME)
    new = SettlementFact("s2", "R", "H1", HOME, at, 10_000, 5_000, 0, "440100")
    assert rules_hit(history(persons=[moved], settlements=[old]), RuleCode.LIFECYCLE) == {
        ("R", "after_move")
    }
    assert rules_hit(history(persons=[moved], settlements=[new]), RuleCode.LIFECYCLE) == set()


# --- institutions -------------------------------------------------------------------------------


def _bills(code: str, n: int, shared: int) -> list[SettlementFact]:
    at = T0 + 80 * US_PER_DAY
    return [
        SettlementFact(f"{code}-{i}", f"P{i}", code, HOME, at, 10_000, shared) for i in range(n)
    ]


def test_an_institution_paid_mostly_by_shared_money_trips_against_its_peers() -> None:
    peers = [b for k in range(4) for b in _bills(f"H{k}", 20, 1_000)]
    odd = _bills("P9", 20, 6_000)
    found = run_rules(history(settlements=peers + odd), POLICY, only=[RuleCode.INSTITUTION])
    assert [(a.subject_kind, a.subject) for a in found] == [(SubjectKind.INSTITUTION, "P9")]


def test_a_high_share_with_too_few_bills_or_peers_as_high_does_not() -> None:
    peers = [b for k in range(4) for b in _bills(f"H{k}", 20, 1_000)]
    few = _bills("P9", 19, 6_000)
    like_peers = [b for k in range(4) for b in _bills(f"H{k}", 20, 3_000)] + _bills("P9", 20, 6_000)
    for bills in (peers + few, like_peers):
        assert run_rules(history(settlements=bills), POLICY, only=[RuleCode.INSTITUTION]) == []


# --- policy, focus, scores ----------------------------------------------------------------------


def test_a_region_can_switch_a_rule_off_or_change_its_threshold() -> None:
    from gongji.risk.domain.params import parse_risk_policy

    book = parse_risk_policy(
        '[[region]]\ncode = "620000"\nrule = "fan_in"\nenabled = false\n'
        '[[region]]\ncode = "440100"\nrule = "fan_in"\nmin_contributors = 3\n'
    )
    lookup = policy_lookup(book)
    grants = [grant(i, f"C{i}", "R", day=10 + i) for i in range(5)]
    three = [grant(i, f"C{i}", "G", day=10 + i) for i in range(3)]
    h = history(persons=[person("R"), person("G", region="440100")], grants=grants + three)
    assert {a.subject for a in run_rules(h, lookup, only=[RuleCode.FAN_IN])} == {"G"}


def test_an_incremental_run_judges_only_the_persons_that_changed() -> None:
    grants = [grant(i, f"C{i}", "R", day=10 + i) for i in range(5)]
    grants += [grant(10 + i, f"D{i}", "S", day=10 + i) for i in range(5)]
    found = run_rules(history(grants=grants), POLICY, persons={"S"}, only=[RuleCode.FAN_IN])
    assert [a.subject for a in found] == ["S"]


def test_scores_count_each_clause_once_and_cap_at_one_hundred() -> None:
    grants = [grant(i, f"C{i}", "R", day=10 + i) for i in range(5)]
    grants += [grant(10 + i, "R", f"X{i}", day=20 + i) for i in range(5)]
    alerts = run_rules(history(grants=grants), POLICY)
    (top,) = [s for s in scores(alerts) if s.subject == "R"]
    assert (top.score, top.rules) == (60, (RuleCode.FAN_IN, RuleCode.FAN_OUT))
    assert scores(alerts * 5)[0].score == 60
