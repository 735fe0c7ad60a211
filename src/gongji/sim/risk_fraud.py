"""The fraud patterns injected into a synthetic population, each at a known rate, labelled.

Fraudsters are added as new persons (and, for the institution pattern, a chosen institution),
so the honest population stays honest and "honest persons alerted" is measured on it alone.
Each injection draws its figures from ranges around what the pattern looks like in practice
(a ring of six to nine contributors, a few minutes between grant and purchase), not from the
rules' thresholds: a pattern injected just above a threshold would measure nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from gongji.risk.domain.alerts import RuleCode
from gongji.risk.domain.facts import (
    US_PER_DAY,
    US_PER_MINUTE,
    GrantFact,
    InstitutionFact,
    RelationshipFact,
    SettlementFact,
)
from gongji.sim.risk_population import (
    CITIES,
    HOUR_US,
    START_US,
    WINDOW_DAYS,
    Population,
    _born,
    _in_window,
    _person,
    born_on,
)

Injector = Callable[[Population], None]


def _grant(pop: Population, giver: str, taker: str, fen: int, at: int, wait: int) -> GrantFact:
    made = GrantFact(pop.new_id("G"), giver, taker, fen, at, at + wait)
    pop.grants.append(made)
    return made


def _adult(pop: Population, city: str | None = None, employee: bool = True) -> str:
    rng = pop.rng
    return _person(pop, city or rng.choice(CITIES), _born(rng, 25, 60), employee).psn_no


def _relation(pop: Population, holder: str, relative: str, kind: str, at: int) -> None:
    pop.relationships.append(RelationshipFact(pop.new_id("R"), holder, relative, kind, at))


def fan_in(pop: Population) -> None:
    """A collector receives from six to nine sham 'relatives' within two weeks."""
    rng, taker = pop.rng, _adult(pop, employee=False)
    start = _in_window(rng) - 20 * US_PER_DAY
    givers = [_adult(pop) for _ in range(rng.randint(6, 9))]
    for giver in givers:
        _relation(pop, giver, taker, "sibling", START_US - 200 * US_PER_DAY)
        at = max(START_US, start) + rng.randint(0, 14 * US_PER_DAY)
        _grant(pop, giver, taker, rng.choice((50_000, 100_000, 150_000)), at, HOUR_US)
    pop.label(RuleCode.FAN_IN, taker, *givers)


def fan_out(pop: Population) -> None:
    """A contributor at the per-transfer maximum day after day, or spraying many recipients."""
    rng, giver = pop.rng, _adult(pop)
    base = START_US + rng.randint(0, 50) * US_PER_DAY
    takers = [_adult(pop, employee=False) for _ in range(rng.randint(6, 9))]
    at_limit = rng.random() < 0.5
    for day in range(rng.randint(6, 12) if at_limit else len(takers)):
        taker = takers[day % len(takers)] if not at_limit else takers[0]
        amount = rng.choice((190_000, 200_000)) if at_limit else rng.choice((20_000, 50_000))
        at = base + day * US_PER_DAY + rng.randint(0, 12) * HOUR_US  # 08:00-20:00 Beijing
        _grant(pop, giver, taker, amount, at, HOUR_US)
    pop.label(RuleCode.FAN_OUT, giver, *takers)


def loop(pop: Population) -> None:
    """Two to four employees pass money round in a circle."""
    rng = pop.rng
    ring = [_adult(pop) for _ in range(rng.randint(2, 4))]
    at = _in_window(rng) - 10 * US_PER_DAY
    for k, giver in enumerate(ring):
        when = max(START_US, at) + k * rng.randint(1, 3) * US_PER_DAY
        _grant(pop, giver, ring[(k + 1) % len(ring)], rng.choice((100_000, 200_000)), when, HOUR_US)
    for member in ring:
        pop.label(RuleCode.LOOP, member, *ring)


def grant_then_cash(pop: Population) -> None:
    """A recipient buys resellable drugs with the grant minutes after accepting it."""
    rng, giver = pop.rng, _adult(pop)
    taker = _adult(pop, employee=False)
    home = pop.persons[-1].region
    pharmacy = rng.choice([p for p in pop.places(rng.choice(CITIES)) if int(p[-3:]) % 3 == 0])
    given = _grant(pop, giver, taker, 150_000, _in_window(rng, 1) - US_PER_DAY, HOUR_US)
    spent_at = (given.accepted_at or 0) + rng.randint(3, 40) * US_PER_MINUTE
    total = rng.randint(100_000, 150_000)
    pop.settlements.append(
        SettlementFact(pop.new_id("S"), taker, pharmacy, pharmacy[1:7], spent_at, total, total,
                       total * 9 // 10, home)
    )  # fmt: skip
    pop.label(RuleCode.GRANT_THEN_CASH, taker, giver)


def geography(pop: Population) -> None:
    """Shared money spent three to six times in a province the recipient is not insured in."""
    rng = pop.rng
    home = rng.choice(CITIES)
    far = rng.choice([c for c in CITIES if c[:2] != home[:2]])
    taker, giver = _adult(pop, home, employee=False), _adult(pop, home)
    _grant(pop, giver, taker, 200_000, START_US + US_PER_DAY, HOUR_US)
    base = _in_window(rng) - 30 * US_PER_DAY
    for k in range(rng.randint(3, 6)):
        place = rng.choice(pop.places(far))
        at = max(START_US, base) + (k * 5 + 1) * US_PER_DAY
        total = rng.randint(10_000, 60_000)
        pop.settlements.append(
            SettlementFact(pop.new_id("S"), taker, place, far, at, total, total, 0, home)
        )
    pop.label(RuleCode.GEOGRAPHY, taker, giver)


def kinship(pop: Population) -> None:
    """A sham relation: made days before large grants, of an impossible age, or one of many
    'parents'."""
    rng, holder = pop.rng, _adult(pop)
    variant = rng.randrange(3)
    at = _in_window(rng) - 10 * US_PER_DAY
    at = max(START_US, at)
    if variant == 0:
        other = _adult(pop, employee=False)
        _relation(pop, holder, other, "sibling", at)
        _grant(pop, holder, other, 200_000, at + rng.randint(1, 30) * HOUR_US, HOUR_US)
        accomplices = [other]
    elif variant == 1:
        me = next(p for p in reversed(pop.persons) if p.psn_no == holder)
        young = _person(pop, me.region, born_on(me) + timedelta(days=rng.randint(0, 3650)), False)
        _relation(pop, holder, young.psn_no, "parent", at)
        accomplices = [young.psn_no]
    else:
        accomplices = [_adult(pop, employee=False) for _ in range(rng.randint(3, 5))]
        for k, other in enumerate(accomplices):
            _relation(pop, holder, other, "parent", at + k * US_PER_DAY)
    pop.label(RuleCode.KINSHIP, holder, *accomplices)


def lifecycle(pop: Population) -> None:
    """A dead person's wallet keeps receiving and spending."""
    rng, giver = pop.rng, _adult(pop)
    died = _in_window(rng) - 20 * US_PER_DAY
    died = max(START_US, died)
    dead = _person(pop, rng.choice(CITIES), _born(rng, 60, 90), employee=False)
    pop.persons[-1] = replace(dead, died_at=died)
    _grant(pop, giver, dead.psn_no, 100_000, died + rng.randint(2, 15) * US_PER_DAY, HOUR_US)
    pop.label(RuleCode.LIFECYCLE, dead.psn_no, giver)


def institution(pop: Population) -> None:
    """A pharmacy that bills mostly shared money: fifty recipients' grants end up there."""
    rng = pop.rng
    city = rng.choice(CITIES)
    pharmacy = pop.new_id("X")
    pop.institutions.append(InstitutionFact(pharmacy, city, pharmacy=True))
    for _ in range(rng.randint(30, 60)):
        buyer = _adult(pop, city, employee=False)
        total = rng.randint(5_000, 40_000)
        shared = total * rng.randint(6, 10) // 10
        at = START_US + rng.randint(0, WINDOW_DAYS - 1) * US_PER_DAY
        pop.settlements.append(
            SettlementFact(pop.new_id("S"), buyer, pharmacy, city, at, total, shared, 0, city)
        )
        pop.involved.add(buyer)
    pop.label(RuleCode.INSTITUTION, pharmacy)


INJECTORS: dict[RuleCode, Injector] = {
    RuleCode.FAN_IN: fan_in,
    RuleCode.FAN_OUT: fan_out,
    RuleCode.LOOP: loop,
    RuleCode.GRANT_THEN_CASH: grant_then_cash,
    RuleCode.GEOGRAPHY: geography,
    RuleCode.KINSHIP: kinship,
    RuleCode.LIFECYCLE: lifecycle,
    RuleCode.INSTITUTION: institution,
}


def inject(pop: Population, honest: int, rate_per_mille: float) -> None:
    """Every pattern, ``rate_per_mille`` cases per thousand honest persons (at least 20 each,
    so a recall is measured on enough cases to mean something)."""
    cases = max(20, round(honest * rate_per_mille / 1000))
    for injector in INJECTORS.values():
        for _ in range(cases):
            injector(pop)
