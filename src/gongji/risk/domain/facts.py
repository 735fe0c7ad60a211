"""The facts the risk rules read, and one index over them.

Times are microseconds UTC, as the store keeps them, so that a window is a subtraction and the
rules never touch a clock. The facts are the few fields each rule needs, not the rows: the
scheduled run loads a window of a million grants, and a slotted tuple of six fields is what keeps
that in memory and in time (docs/benchmarks.md, risk).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter
from typing import NamedTuple, TypeVar

T = TypeVar("T")

US_PER_MINUTE = 60_000_000
US_PER_DAY = 86_400_000_000
BUSINESS_OFFSET_US = 8 * 3_600_000_000
"""Asia/Shanghai has had no daylight saving since 1991: a business day is UTC+8 floored."""


def business_day(at_us: int) -> int:
    """The business calendar day of an instant, as a day number (days since 1970-01-01)."""
    return (at_us + BUSINESS_OFFSET_US) // US_PER_DAY


@dataclass(frozen=True, slots=True)
class PersonFact:
    """An insured person: where insured, born, and when they died, left or moved (if they did).

    ``birth_date`` is ``None`` when the run did not read it: it is in the encrypted ID number
    only, and only the impossible-age clause needs it (``rules_people.whose_birth_dates``)."""

    psn_no: str
    region: str
    birth_date: date | None
    employee: bool = True
    died_at: int | None = None
    terminated_at: int | None = None
    moved_at: int | None = None
    moved_from: str | None = None


@dataclass(frozen=True, slots=True)
class RelationshipFact:
    """``relative`` is ``kind`` of ``holder`` (e.g. the holder's parent), since ``created_at``."""

    id: str
    holder: str
    relative: str
    kind: str
    created_at: int


class GrantFact(NamedTuple):
    """Money offered by ``contributor`` to ``recipient``; ``accepted_at`` once taken.

    A named tuple, not a dataclass: a full run makes one per grant of the window (a million),
    and a tuple is built from a database row several times faster than a frozen dataclass."""

    id: str
    contributor: str
    recipient: str
    amount_fen: int
    created_at: int
    accepted_at: int | None = None


class SettlementFact(NamedTuple):
    """A bill settled for ``psn_no``; ``shared_fen`` of it paid by grants or authorizations,
    ``resellable_fen`` the part spent on catalogue-flagged resellable (high-price) drugs (a
    named tuple, as ``GrantFact``)."""

    id: str
    psn_no: str
    institution: str
    institution_region: str
    at: int
    total_fen: int
    shared_fen: int = 0
    resellable_fen: int = 0
    insured_region: str | None = None


@dataclass(frozen=True, slots=True)
class InstitutionFact:
    code: str
    region: str
    pharmacy: bool = False


def province_of(region: str) -> str:
    """The province part of a six-digit division code."""
    return region[:2]


@dataclass
class History:
    """Every fact of a window, indexed the ways the rules look them up.

    ``start``/``end`` bound the window the rules judge; facts before ``start`` may be present as
    background (a person's usual institutions, a relationship's age) but no alert is raised on
    a grant or settlement outside the window.
    """

    start: int
    end: int
    persons: dict[str, PersonFact] = field(default_factory=dict)
    institutions: dict[str, InstitutionFact] = field(default_factory=dict)
    grants: list[GrantFact] = field(default_factory=list)
    settlements: list[SettlementFact] = field(default_factory=list)
    relationships: list[RelationshipFact] = field(default_factory=list)
    by_recipient: dict[str, list[GrantFact]] = field(default_factory=dict)
    by_contributor: dict[str, list[GrantFact]] = field(default_factory=dict)
    spending_of: dict[str, list[SettlementFact]] = field(default_factory=dict)
    at_institution: dict[str, list[SettlementFact]] = field(default_factory=dict)
    relationships_of: dict[str, list[RelationshipFact]] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        start: int,
        end: int,
        *,
        persons: Iterable[PersonFact] = (),
        institutions: Iterable[InstitutionFact] = (),
        grants: Iterable[GrantFact] = (),
        settlements: Iterable[SettlementFact] = (),
        relationships: Iterable[RelationshipFact] = (),
    ) -> History:
        """Index the facts once; every list is in time order."""
        history = cls(start, end)
        history.persons = {p.psn_no: p for p in persons}
        history.institutions = {i.code: i for i in institutions}
        history.grants = sorted(grants, key=attrgetter("created_at"))
        history.settlements = sorted(settlements, key=attrgetter("at"))
        history.relationships = sorted(relationships, key=attrgetter("created_at"))
        history.by_recipient = _group(history.grants, "recipient")
        history.by_contributor = _group(history.grants, "contributor")
        history.spending_of = _group(history.settlements, "psn_no")
        history.at_institution = _group(history.settlements, "institution")
        history.relationships_of = _group(history.relationships, "holder")
        return history

    def in_window(self, at: int) -> bool:
        return self.start <= at < self.end


def _group(rows: list[T], attribute: str) -> dict[str, list[T]]:
    grouped: defaultdict[str, list[T]] = defaultdict(list)
    key = attrgetter(attribute)
    for row in rows:
        grouped[key(row)].append(row)
    return dict(grouped)
