"""Risk's write-time checks (docs/rules.md §12.4): the cheap rules, run on the few rows around
one grant or one settlement, inside the write's own transaction.

A grant offer is judged for fan-in on its recipient, kinship on its contributor (a relation
made days ago, an impossible age, too many of a kind) and lifecycle on both; shared money spent
is judged for grant-then-cash and lifecycle on the spender. These are the same pure rules the
scheduled run uses, over a history of the last 30 days of the people involved (a handful of
indexed reads), so a write-time alert and a run's alert of the same rows share a fingerprint
and are stored once.

A flagged write stands. Where the rule's ``hold`` says so, the screen answers "hold": a grant
offer is then held in mutual aid's ``held`` state (待审核: its money reserved, neither
acceptable nor spendable) until a risk officer releases or rejects it (``held_grants``). A
settlement has been paid at the counter by then and cannot be held; its held alert is marked
``held`` in the queue for the officer to act on through a case. No hold freezes a wallet: a
freeze is the officer's decision. Every hold is in the audit trail (``risk_write_held``), and a
held grant is linked to the alerts that held it (``risk_grant_holds``), in the same transaction
as the hold, so the officer sees exactly why, whatever the alerts name.

An offer is held not only by an alert it raises anew: an alert of a holding rule about either
party that is still standing — raised before, by an earlier write or a run, and not gathered
into a case closed as unfounded — holds it too (``standing_holds``). Otherwise a kinship alert
naming only relationships, stored once, would hold a contributor's first offer and let the
next ones through; and an alert outlives the screen's 30 days until the officer judges it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from gongji.audit.service import log
from gongji.kernel.context import Actor, ActorKind, Context, Role
from gongji.kernel.screening import GrantOffered, Screen, WriteFacts
from gongji.people.service.persons import birth_date_from_enc
from gongji.risk.domain.alerts import Alert, RuleCode, SubjectKind
from gongji.risk.domain.cases import CaseState
from gongji.risk.domain.common import PolicyFor
from gongji.risk.domain.engine import run_rules
from gongji.risk.domain.facts import US_PER_DAY, History
from gongji.risk.domain.holds import standing_holds
from gongji.risk.domain.rules_people import whose_birth_dates
from gongji.risk.service.access import shipped_policy
from gongji.risk.store import alerts_repo, facts_repo
from gongji.store.raw import Read
from gongji.store.uow import UnitOfWork

LOOK_BACK_DAYS = 30
SCREENING_ACTOR = Actor(ActorKind.OPERATOR, "risk-screening", frozenset({Role.RISK_OFFICER}))
"""Who holds a write for review in the audit trail: the risk system, as a risk officer."""

_ON_GRANT: tuple[RuleCode, ...] = (RuleCode.FAN_IN, RuleCode.KINSHIP, RuleCode.LIFECYCLE)
_ON_SPENDING: tuple[RuleCode, ...] = (RuleCode.GRANT_THEN_CASH, RuleCode.LIFECYCLE)


def make_screen(policy_for: PolicyFor | None = None) -> Screen:
    """The screen bootstrap puts on the Context (a test may pass other parameters)."""
    return _RiskScreen(policy_for)


class _RiskScreen:
    """Risk's write-time checks as the kernel calls them (:class:`~gongji.kernel.screening.Screen`).
    ``policy_for``: None for the shipped rules, read when a write is judged."""

    def __init__(self, policy_for: PolicyFor | None) -> None:
        self._policy_for = policy_for

    def __call__(self, ctx: Context, uow: UnitOfWork, facts: WriteFacts) -> bool:
        return screen_write(ctx, uow, facts, self._policy_for or shipped_policy())

    def reads_ahead(self, facts: WriteFacts) -> list[Read]:
        people, _rules = _judged(facts)
        standing = [_standing_read(people)] if isinstance(facts, GrantOffered) else []
        return [*_history_reads(facts), *standing]


def screen_write(ctx: Context, uow: UnitOfWork, facts: WriteFacts, policy_for: PolicyFor) -> bool:
    """Store the alerts the write raises; ``True`` when the write is to be held: for a
    settlement, one of them is of a rule that holds; for a grant offer, an alert of such a rule
    about a party stands, raised now or before (``standing_holds``)."""
    people, rules = _judged(facts)
    history = _history(ctx, uow, facts)
    found = run_rules(history, policy_for, persons=people, only=rules)
    fresh = alerts_repo.not_raised(uow.connection, found)
    held = [a for a in fresh if policy_for(a.region).of(a.rule).hold]
    now_us = ctx.now_us()
    alerts_repo.insert_new_alerts(uow.connection, [a for a in fresh if a not in held], now_us,
                                  None, source="write")  # fmt: skip
    alerts_repo.insert_new_alerts(uow.connection, held, now_us, None, source="write", held=True)
    if not isinstance(facts, GrantOffered):
        if held:
            _audit_hold(ctx, uow, facts, [(a.rule.value, a.subject) for a in _persons(held)], [])
        return bool(held)
    if fresh:  # a read of the standing alerts made ahead misses those just stored
        uow.forget_read(_standing_read(people))
    standing = alerts_repo.standing_alerts_about(  # the fresh ones just stored among them
        uow.connection, people, _GRANT_RULES, _LEFT_OUT
    )
    holding = standing_holds(standing, found, policy_for)
    if not holding:
        return False
    linked = alerts_repo.record_hold(
        uow.connection, facts.grant_id, [a.fingerprint for a in holding]
    )
    _audit_hold(ctx, uow, facts, [(a.rule, a.subject) for a in holding], linked)
    return True


def _judged(facts: WriteFacts) -> tuple[list[str], tuple[RuleCode, ...]]:
    """The persons a write is judged about, and by which rules."""
    if isinstance(facts, GrantOffered):
        return [facts.contributor, facts.recipient], _ON_GRANT
    return [facts.psn_no], _ON_SPENDING


_GRANT_RULES = [r.value for r in _ON_GRANT]
_LEFT_OUT = [CaseState.CLOSED_UNFOUNDED.value]
"""A grant offer is held by the alerts of its rules about its parties standing, but those of a
case found unfounded."""


def _standing_read(people: Sequence[str]) -> Read:
    """The read of the alerts standing about a grant offer's parties (``standing_holds``)."""
    return alerts_repo.standing_alerts_read(people, _GRANT_RULES, _LEFT_OUT)


def _persons(alerts: Sequence[Alert]) -> list[Alert]:
    return [a for a in alerts if a.subject_kind is SubjectKind.PERSON]


def _audit_hold(
    ctx: Context,
    uow: UnitOfWork,
    facts: WriteFacts,
    why: Sequence[tuple[str, str]],
    alert_ids: Sequence[int],
) -> None:
    holding = ", ".join(sorted({rule for rule, _ in why}))
    subjects = sorted({subject for _, subject in why})
    extra = {"alerts": list(alert_ids)} if alert_ids else {}
    log.record(
        ctx, uow, SCREENING_ACTOR, "risk_write_held", subject=subjects[0] if subjects else None,
        reason=f"风险预警待审：{holding}", write=_what(facts), **extra,
    )  # fmt: skip


def _history(ctx: Context, uow: UnitOfWork, facts: WriteFacts) -> History:
    """The last ``LOOK_BACK_DAYS`` of the write's parties, as much as its rules read
    (:func:`_history_reads`)."""
    connection = uow.connection
    people, _rules = _judged(facts)
    start, end = _window(facts.at_us)
    if uow.reads_ahead:  # nothing sent when the writer read them ahead
        uow.prefetch(_history_reads(facts))
    if isinstance(facts, GrantOffered):
        relations = facts_repo.relationships(connection, start, end, people)
        dated = whose_birth_dates(relations, start, end)
        persons = facts_repo.persons_around(connection, end, people, _born(ctx), dated)
    else:
        relations, persons = [], facts_repo.persons(connection, people, _born(ctx), ())
    return History.build(
        start,
        end,
        persons=persons,
        grants=facts_repo.grants(connection, start, end, people),
        settlements=facts_repo.settlements(connection, start, end, people),
        relationships=relations,
    )


def _history_reads(facts: WriteFacts) -> list[Read]:
    """Every read of :func:`_history`, none needing another's answer: on PostgreSQL one round
    trip instead of four or five.

    A grant offer's rules (fan-in, kinship, lifecycle on both parties) read the parties'
    relationships and the people on the other side of them, found by the database, not after
    the relations are read. The rules on spending (grant-then-cash, lifecycle) judge the
    spender alone, on their own grants and settlements: no relationship, no relative, and so
    no birth date, the costliest fact to read (it is decrypted)."""
    people, _rules = _judged(facts)
    start, end = _window(facts.at_us)
    owned = [
        *facts_repo.grants_reads(start, end, people),
        *facts_repo.settlements_reads(start, end, people),
    ]
    if not isinstance(facts, GrantOffered):
        return [*owned, *facts_repo.persons_reads(people)]
    relations = facts_repo.relationships_reads(start, end, people)
    return [*relations, *owned, *facts_repo.around_reads(end, people)]


def _window(at_us: int) -> tuple[int, int]:
    """The screen's history: the last ``LOOK_BACK_DAYS`` up to and including ``at_us``."""
    return at_us - LOOK_BACK_DAYS * US_PER_DAY, at_us + 1


def _what(facts: WriteFacts) -> str:
    return facts.grant_id if isinstance(facts, GrantOffered) else facts.setl_id


def _born(ctx: Context) -> Callable[[str], date]:
    return lambda id_enc: birth_date_from_enc(ctx, id_enc)
