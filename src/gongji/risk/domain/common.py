"""What every rule shares: which subjects to judge, whose parameters, how to name evidence."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from functools import lru_cache

from gongji.risk.domain.alerts import Alert, Evidence, Figure, RuleCode, SubjectKind
from gongji.risk.domain.facts import US_PER_DAY, History
from gongji.risk.domain.params import RiskPolicy, RiskPolicyBook, RuleParams

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


def window_start(history: History, days: int) -> int:
    """The later of the history's start and ``days`` before its end."""
    return max(history.start, history.end - days * US_PER_DAY)


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
