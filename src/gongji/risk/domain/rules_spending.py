"""Rules over how shared money is spent: grant-then-cash, geography and institutions
(docs/rules.md §12.2.4, 5 and 8)."""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from statistics import median

from gongji.risk.domain.alerts import Alert, Evidence, Figure, RuleCode, SubjectKind
from gongji.risk.domain.common import Focus, PolicyFor, busiest, person_alert, subjects
from gongji.risk.domain.facts import US_PER_MINUTE, GrantFact, History, SettlementFact
from gongji.risk.domain.facts import province_of as province
from gongji.risk.domain.params import GrantThenCashParams, InstitutionParams


def grant_then_cash(history: History, policy_for: PolicyFor, focus: Focus = None) -> list[Alert]:
    """Shared money spent on resellable drugs within ``minutes`` of a grant's acceptance, or
    on resellable drugs at one institution ``repeat_at_one_institution`` times in the window."""
    alerts = []
    for psn_no in subjects(history.spending_of, focus):
        person = history.persons.get(psn_no)
        region = person.region if person else ""
        params = policy_for(region).of(RuleCode.GRANT_THEN_CASH)
        if not params.enabled:
            continue
        least = params.min_resellable_fen  # the rarest condition first: most bills resell nothing
        resale = [
            s
            for s in history.spending_of[psn_no]
            if s.resellable_fen >= least and s.shared_fen > 0 and history.in_window(s.at)
        ]
        if resale:
            received = history.by_recipient.get(psn_no, [])
            alerts.extend(_quick_cash(resale, received, params, psn_no, region))
            alerts.extend(_repeat_resale(resale, params, psn_no, region))
    return alerts


def quick_cash_grant(
    settlement: SettlementFact, received: list[GrantFact], params: GrantThenCashParams
) -> GrantFact | None:
    """The accepted grant that ``settlement`` followed within ``minutes``, if any; also the
    write-time check of a settlement (service/screening.py)."""
    if settlement.shared_fen <= 0 or settlement.resellable_fen < params.min_resellable_fen:
        return None
    accepted = sorted((g for g in received if g.accepted_at is not None), key=_accepted)
    times = [_accepted(g) for g in accepted]
    before = bisect_right(times, settlement.at)
    if before and settlement.at - times[before - 1] <= params.minutes * US_PER_MINUTE:
        return accepted[before - 1]
    return None


def _accepted(grant: GrantFact) -> int:
    return grant.accepted_at if grant.accepted_at is not None else 0


def _quick_cash(
    resale: list[SettlementFact],
    received: list[GrantFact],
    params: GrantThenCashParams,
    psn_no: str,
    region: str,
) -> list[Alert]:
    alerts = []
    for settlement in resale:
        grant = quick_cash_grant(settlement, received, params)
        if grant is None:
            continue
        minutes = (settlement.at - _accepted(grant)) // US_PER_MINUTE
        figures: tuple[Figure, ...] = (
            ("minutes_after_acceptance", minutes),
            ("threshold", params.minutes),
        )
        figures += (("resellable_fen", settlement.resellable_fen),)
        alerts.append(
            person_alert(
                RuleCode.GRANT_THEN_CASH, params, psn_no, region, "spent_minutes_after_grant",
                grants=[grant.id], settlements=[settlement.id],
                persons=[grant.contributor], figures=figures,
            )
        )  # fmt: skip
    return alerts


def _repeat_resale(
    resale: list[SettlementFact], params: GrantThenCashParams, psn_no: str, region: str
) -> list[Alert]:
    places = sorted({s.institution for s in resale})
    repeat = params.repeat_at_one_institution
    alerts = []
    for institution in places:
        here = [s for s in resale if s.institution == institution]
        rows = [s.id for s in busiest(here, params.window_days, _id, _at, repeat)]
        times = len(rows)
        if times >= params.repeat_at_one_institution:
            figures: tuple[Figure, ...] = (("institution", institution), ("times", times))
            figures += (("threshold", params.repeat_at_one_institution),)
            alerts.append(
                person_alert(
                    RuleCode.GRANT_THEN_CASH, params, psn_no, region, "resale_at_one_institution",
                    settlements=rows, figures=figures,
                )
            )  # fmt: skip
    return alerts


def geography(history: History, policy_for: PolicyFor, focus: Focus = None) -> list[Alert]:
    """Shared money spent ``min_settlements`` times or more in another province than the
    person's insured region, at institutions that are not their usual ones (visited with
    their own money ``usual_min_visits`` times or more)."""
    alerts = []
    for psn_no in subjects(_away_spenders(history), focus):
        person = history.persons[psn_no]
        params = policy_for(person.region).of(RuleCode.GEOGRAPHY)
        if not params.enabled:
            continue
        spending = history.spending_of[psn_no]
        own = Counter(s.institution for s in spending if s.shared_fen == 0)
        usual = {code for code, visits in own.items() if visits >= params.usual_min_visits}
        away = [
            s
            for s in spending
            if history.in_window(s.at)
            and s.shared_fen > 0
            and s.institution not in usual
            and province(s.institution_region) != province(person.region)
        ]
        away = busiest(away, params.window_days, _id, _at, params.min_settlements)
        if len(away) >= params.min_settlements:
            figures: tuple[Figure, ...] = (
                ("away_settlements", len(away)),
                ("threshold", params.min_settlements),
            )
            alerts.append(
                person_alert(
                    RuleCode.GEOGRAPHY, params, psn_no, person.region, "spent_far_from_home",
                    settlements=[s.id for s in away], figures=figures,
                )
            )  # fmt: skip
    return alerts


def _away_spenders(history: History) -> dict[str, None]:
    """Who spent shared money in another province at all: the only people worth a closer
    look, found in one pass."""
    persons = history.persons
    away: dict[str, None] = {}
    for s in history.settlements:
        home = persons.get(s.psn_no)
        if s.shared_fen > 0 and home and province(s.institution_region) != province(home.region):
            away[s.psn_no] = None
    return away


def institutions(history: History, policy_for: PolicyFor, focus: Focus = None) -> list[Alert]:
    """An institution whose share of settled money paid by shared money over the run's window
    is at least ``min_share_pct`` and ``peer_multiple_pct`` of the median share of its peers
    (institutions with ``min_settlements`` or more settlements in the window)."""
    shares = _shares(history, policy_for)
    if not shares:
        return []
    typical = median(share for share, _ in shares.values())
    alerts = []
    for code in subjects(shares, focus):
        share, rows = shares[code]
        region = _region(history, code)
        params = policy_for(region).of(RuleCode.INSTITUTION)
        if share * 100 < params.min_share_pct * 10_000:
            continue
        if share * 100 < typical * params.peer_multiple_pct:
            continue
        alerts.append(_institution_alert(code, region, params, share, typical, rows))
    return alerts


def _shares(history: History, policy_for: PolicyFor) -> dict[str, tuple[int, list[str]]]:
    """Each institution's shared share in basis points (1/10 000) and its shared settlements."""
    shares = {}
    for code, settled in history.at_institution.items():
        params = policy_for(_region(history, code)).of(RuleCode.INSTITUTION)
        if not params.enabled:
            continue
        start, end = history.start, history.end
        inside = [s for s in settled if start <= s.at < end]
        total = sum(s.total_fen for s in inside)
        if len(inside) < params.min_settlements or total <= 0:
            continue
        shared = [s for s in inside if s.shared_fen > 0]
        shares[code] = (sum(s.shared_fen for s in shared) * 10_000 // total, [s.id for s in shared])
    return shares


def _id(settlement: SettlementFact) -> str:
    return settlement.id


def _at(settlement: SettlementFact) -> int:
    return settlement.at


def _region(history: History, code: str) -> str:
    known = history.institutions.get(code)
    return known.region if known else ""


def _institution_alert(
    code: str, region: str, params: InstitutionParams, share: int, typical: float, rows: list[str]
) -> Alert:
    figures: tuple[Figure, ...] = (("shared_share_bp", share), ("peer_median_bp", int(typical)))
    figures += (("min_share_pct", params.min_share_pct),)
    evidence = Evidence(settlements=tuple(rows), figures=figures)
    return Alert(
        RuleCode.INSTITUTION, params.version, SubjectKind.INSTITUTION, code, region,
        params.weight, "shared_share_unusual", evidence,
    )  # fmt: skip
