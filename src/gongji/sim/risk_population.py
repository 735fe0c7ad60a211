"""A synthetic insured population for measuring the risk rules: honest families first.

Families of two to six around an employee (spouse, parents, children, realistic ages), their
relationships mostly made before the window, honest grants (a few a quarter, ordinary amounts,
accepted hours later) and honest spending at the family's usual institutions, with some travel.
The fraud patterns are injected on top (risk_fraud.py), each labelled with the subjects it
should make the rules name. Everything is drawn from one seeded ``random.Random``, so a seed
is the whole description of a population (docs/benchmarks.md records the seeds used).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from gongji.risk.domain.facts import (
    US_PER_DAY,
    US_PER_MINUTE,
    GrantFact,
    History,
    InstitutionFact,
    PersonFact,
    RelationshipFact,
    SettlementFact,
)

WINDOW_DAYS = 90
START_US = 1_782_864_000_000_000  # 2026-07-01T00:00Z: the quarter the rules judge
END_US = START_US + WINDOW_DAYS * US_PER_DAY
TODAY = date(2026, 7, 1)
CITIES = (
    "620100", "620200", "370100", "370200", "440100", "440300", "510100", "110100",
    "310100", "420100", "330100", "610100",
)  # fmt: skip
INSTITUTIONS_PER_CITY = 24
HOUR_US = 60 * US_PER_MINUTE


@dataclass
class Population:
    """The facts so far and the ground truth: which pattern each fraud subject belongs to."""

    rng: random.Random
    persons: list[PersonFact] = field(default_factory=list)
    relationships: list[RelationshipFact] = field(default_factory=list)
    grants: list[GrantFact] = field(default_factory=list)
    settlements: list[SettlementFact] = field(default_factory=list)
    institutions: list[InstitutionFact] = field(default_factory=list)
    subjects: dict[str, set[str]] = field(default_factory=dict)
    """pattern → persons or institutions the rules should name for it."""
    involved: set[str] = field(default_factory=set)
    """Every person or institution taking part in some fraud (subjects and accomplices)."""
    _next: int = 0

    def new_id(self, prefix: str) -> str:
        self._next += 1
        return f"{prefix}{self._next:09d}"

    def history(self) -> History:
        return History.build(
            START_US,
            END_US,
            persons=self.persons,
            institutions=self.institutions,
            grants=self.grants,
            settlements=self.settlements,
            relationships=self.relationships,
        )

    def label(self, pattern: str, subject: str, *accomplices: str) -> None:
        self.subjects.setdefault(pattern, set()).add(subject)
        self.involved.update((subject, *accomplices))

    def places(self, city: str) -> list[str]:
        return [f"I{city}{k:03d}" for k in range(INSTITUTIONS_PER_CITY)]


def institutions_of(rng: random.Random) -> list[InstitutionFact]:
    """Every city's hospitals and pharmacies; a third of them are pharmacies."""
    return [
        InstitutionFact(f"I{city}{k:03d}", city, pharmacy=k % 3 == 0)
        for city in CITIES
        for k in range(INSTITUTIONS_PER_CITY)
    ]


def honest_population(persons: int, seed: int, grants_per_employee: float = 2.0) -> Population:
    """At least ``persons`` honest persons in families, with their relationships, grants and
    spending in the window."""
    rng = random.Random(seed)
    population = Population(rng, institutions=institutions_of(rng))
    while len(population.persons) < persons:
        _family(population, grants_per_employee)
    return population


def born_on(person: PersonFact) -> date:
    """A synthetic person's birth date: every one has it (the database run reads it only where a
    rule needs it, so the fact's field may be empty there)."""
    assert person.birth_date is not None
    return person.birth_date


def _born(rng: random.Random, low: int, high: int) -> date:
    return TODAY - timedelta(days=rng.randint(low * 365 + 30, high * 365 - 30))


def _family(population: Population, grants_per_employee: float) -> None:
    rng = population.rng
    city = rng.choice(CITIES)
    head = _person(population, city, _born(rng, 26, 58), employee=True)
    family = [(head, "self")]
    if rng.random() < 0.8:
        spouse_born = born_on(head) + timedelta(days=rng.randint(-5 * 365, 5 * 365))
        spouse_born = min(spouse_born, TODAY - timedelta(days=23 * 365))
        family.append((_person(population, city, spouse_born, rng.random() < 0.7), "spouse"))
    for _ in range(rng.choice((0, 1, 1, 2))):
        where = city if rng.random() < 0.8 else rng.choice(CITIES)
        born = born_on(head) - timedelta(days=rng.randint(23 * 365, 36 * 365))
        family.append((_person(population, where, born, employee=False), "parent"))
    for _ in range(rng.choice((0, 1, 1, 2))):
        born = born_on(head) + timedelta(days=rng.randint(23 * 365, 34 * 365))
        if born < TODAY:
            adult = (TODAY - born).days > 22 * 365
            family.append((_person(population, city, born, adult and rng.random() < 0.6), "child"))
    _relate(population, head, family)
    _give(population, [p for p, _ in family], grants_per_employee)
    for member, _ in family:
        _spend(population, member)


def _person(population: Population, city: str, born: date, employee: bool) -> PersonFact:
    person = PersonFact(population.new_id("P"), city, born, employee)
    population.persons.append(person)
    return person


def _relate(population: Population, head: PersonFact, family: list[tuple[PersonFact, str]]) -> None:
    rng = population.rng
    for relative, kind in family[1:]:
        before = rng.random() < 0.9
        at = START_US - rng.randint(1, 700) * US_PER_DAY if before else _in_window(rng)
        population.relationships.append(
            RelationshipFact(population.new_id("R"), head.psn_no, relative.psn_no, kind, at)
        )


def _in_window(rng: random.Random, days_from: int = 0) -> int:
    return START_US + rng.randint(days_from * US_PER_DAY, WINDOW_DAYS * US_PER_DAY - 1)


def _give(population: Population, family: list[PersonFact], per_employee: float) -> None:
    rng = population.rng
    for giver in family:
        others = [p for p in family if p is not giver]
        if not giver.employee or not others:
            continue
        count = int(rng.expovariate(1 / per_employee)) if per_employee else 0
        # Shared money flows to relatives without an account of their own; between two
        # employees only from the elder to the younger (a reciprocal habit would be a loop).
        needy = [p for p in others if not p.employee] or [
            p for p in others if born_on(p) > born_on(giver)
        ]
        if not needy:
            continue
        favourites = rng.sample(needy, min(len(needy), rng.choice((1, 1, 2, 3))))
        for _ in range(count):
            taker = rng.choice(favourites)
            amount = rng.choice((10_000, 20_000, 30_000, 50_000, 80_000, 100_000))
            if rng.random() < 0.03:
                amount = 200_000
            made = _in_window(rng)
            accepted = made + rng.randint(HOUR_US // 2, 30 * HOUR_US)
            population.grants.append(
                GrantFact(
                    population.new_id("G"), giver.psn_no, taker.psn_no, amount, made, accepted
                )
            )


def _spend(population: Population, person: PersonFact) -> None:
    rng = population.rng
    usual = rng.sample(population.places(person.region), 2)
    for _ in range(rng.choice((0, 1, 2, 3, 4, 6))):
        place = rng.choice(usual)
        region = person.region
        if rng.random() < 0.04:  # travel: one bill elsewhere
            region = rng.choice(CITIES)
            place = rng.choice(population.places(region))
        total = rng.randint(2_000, 60_000)
        shared = total // rng.randint(1, 3) if not person.employee and rng.random() < 0.5 else 0
        resellable = total // 2 if int(place[-3:]) % 3 == 0 and rng.random() < 0.1 else 0
        population.settlements.append(
            SettlementFact(
                population.new_id("S"), person.psn_no, place, region, _in_window(rng),
                total, shared, resellable, person.region,
            )
        )  # fmt: skip
