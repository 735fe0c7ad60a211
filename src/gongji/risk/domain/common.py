"""What every rule shares: which subjects to judge, whose parameters, how to name evidence."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import TypeVar

from gongji.risk.domain.alerts import Alert, Evidence, Figure, RuleCode, SubjectKind
from gongji.risk.domain.facts import US_PER_DAY
from gongji.risk.domain.params import RiskPolicy, RiskPolicyBook, RuleParams

T = TypeVar("T")

PolicyFor = Callable[[str], RiskPolicy]
Focus = Collection[str] | None
"""The subjects an incremental run judges (those whose facts changed); ``None`` = everyone."""


def policy_lookup(book: RiskPolicyBook) -> PolicyFor:
    """``book.for_region`` remembered per region: a run asks once per subject."""
    return lru_cache(maxsize=4096)(book.for_region)


def subjects(index: Mapping[str, object], focus: Focus) -> Iterable[str]:
    """The keys of ``index`` to judge: all, or only those in ``focus``."""
    if focus is None:
        return index.keys()
    return [key for key in focus if key in index]


def busiest(
    rows: Sequence[T],
    days: int,
    key: Callable[[T], str],
    at: Callable[[T], int],
    at_least: int = 0,
) -> list[T]:
    """The rows (in time order) of the ``days``-long span with the most distinct ``key``s.

    "Within a window" in the rules is a sliding span inside the run's window, so that a
    pattern is found wherever it falls in a long run, not only at its end. Two pointers: one
    pass however many rows; none at all (an empty answer) when fewer than ``at_least``
    distinct keys exist in the rows, the common case by far."""
    if len(set(map(key, rows))) < at_least:
        return []
    span = days * US_PER_DAY
    seen: Counter[str] = Counter()
    best = (0, 0, 0)
    left = 0
    for right, row in enumerate(rows):
        seen[key(row)] += 1
        while at(row) - at(rows[left]) > span:
            gone = key(rows[left])
            seen[gone] -= 1
            if not seen[gone]:
                del seen[gone]
            left += 1
        if len(seen) > best[0]:
            best = (len(seen), left, right + 1)
    return list(rows[best[1] : best[2]])


def person_alert(
    rule: RuleCode,
    params: RuleParams,
    psn_no: str,
    region: str,
    reason: str,
    *,
    grants: Iterable[str] = (),
    settlements: Iterable[str] = (),
    relationships: Iterable[str] = (),
    persons: Iterable[str] = (),
    figures: tuple[Figure, ...] = (),
) -> Alert:
    """An alert on a person, its evidence rows in a stable order."""
    evidence = Evidence(
        grants=tuple(grants),
        settlements=tuple(settlements),
        relationships=tuple(relationships),
        persons=tuple(persons),
        figures=figures,
    )
    return Alert(
        rule, params.version, SubjectKind.PERSON, psn_no, region, params.weight, reason, evidence
    )
