"""Risk's write-time checks (docs/rules.md §12.4): the cheap rules, run on the few rows around
one grant or one settlement, inside the write's own transaction.

A grant offer is judged for fan-in on its recipient, kinship on its contributor (a relation
made days ago, an impossible age, too many of a kind) and lifecycle on both; shared money spent
is judged for grant-then-cash and lifecycle on the spender. These are the same pure rules the
scheduled run uses, over a history of the last 30 days of the people involved (a handful of
indexed reads), so a write-time alert and a run's alert of the same rows share a fingerprint
and are stored once.

A flagged write stands. Where the rule's ``hold`` says so, what follows is held for review: the
wallet of the alert's subject is frozen (it can neither give, accept nor spend shared money)
until a risk officer decides, and the hold is in the audit trail.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from gongji.audit.service import log
from gongji.core.enrolment import WalletStatus
from gongji.kernel.context import Actor, ActorKind, Context, Role
from gongji.kernel.screening import GrantOffered, Screen, WriteFacts
from gongji.mutual_aid.service import wallets
from gongji.people.service.persons import birth_date_from_enc
from gongji.risk.domain.alerts import Alert, RuleCode, SubjectKind
from gongji.risk.domain.common import PolicyFor
from gongji.risk.domain.engine import run_rules
from gongji.risk.domain.facts import US_PER_DAY, History
from gongji.risk.service.access import shipped_policy
from gongji.risk.store import alerts_repo, facts_repo
from gongji.store.uow import UnitOfWork

LOOK_BACK_DAYS = 30
SCREENING_ACTOR = Actor(ActorKind.OPERATOR, "risk-screening", frozenset({Role.RISK_OFFICER}))
"""Who holds a wallet for review: the risk system acting with the risk officer's authority."""

_ON_GRANT: tuple[RuleCode, ...] = (RuleCode.FAN_IN, RuleCode.KINSHIP, RuleCode.LIFECYCLE)
_ON_SPENDING: tuple[RuleCode, ...] = (RuleCode.GRANT_THEN_CASH, RuleCode.LIFECYCLE)


def make_screen(policy_for: PolicyFor | None = None) -> Screen:
    """The screen bootstrap puts on the Context (a test may pass other parameters)."""

    def screen(ctx: Context, uow: UnitOfWork, facts: WriteFacts) -> None:
        screen_write(ctx, uow, facts, policy_for or shipped_policy())

    return screen


def screen_write(ctx: Context, uow: UnitOfWork, facts: WriteFacts, policy_for: PolicyFor) -> None:
    if isinstance(facts, GrantOffered):
        people, rules = [facts.contributor, facts.recipient], _ON_GRANT
    else:
        people, rules = [facts.psn_no], _ON_SPENDING
    history = _history(ctx, uow, people, facts.at_us)
    found = run_rules(history, policy_for, persons=people, only=rules)
    fresh = alerts_repo.not_raised(uow.connection, found)
    if not fresh:
        return
    held = [a for a in fresh if policy_for(a.region).of(a.rule).hold]
    now_us = ctx.now_us()
    alerts_repo.insert_alerts(uow.connection, [a for a in fresh if a not in held], now_us, None,
                              source="write")  # fmt: skip
    alerts_repo.insert_alerts(uow.connection, held, now_us, None, source="write", held=True)
    for psn_no in sorted({a.subject for a in held if a.subject_kind is SubjectKind.PERSON}):
        _hold(ctx, uow, psn_no, _what(facts), held)


def _history(ctx: Context, uow: UnitOfWork, people: Sequence[str], at_us: int) -> History:
    connection = uow.connection
    start, end = at_us - LOOK_BACK_DAYS * US_PER_DAY, at_us + 1
    relations = facts_repo.relationships(connection, start, end, people)
    around = sorted({*people, *(r.relative for r in relations), *(r.holder for r in relations)})
    return History.build(
        start,
        end,
        persons=facts_repo.persons(connection, around, _born(ctx)),
        grants=facts_repo.grants(connection, start, end, people),
        settlements=facts_repo.settlements(connection, start, end, people),
        relationships=relations,
    )


def _what(facts: WriteFacts) -> str:
    return facts.grant_id if isinstance(facts, GrantOffered) else facts.setl_id


def _hold(ctx: Context, uow: UnitOfWork, psn_no: str, write: str, held: list[Alert]) -> None:
    if wallets.wallet_status(uow, psn_no) is not WalletStatus.OPEN:
        return  # already frozen or closed: nothing more to hold
    rules = sorted({a.rule.value for a in held if a.subject == psn_no})
    reason = f"风险预警待审：{', '.join(rules)}"
    wallets.set_frozen(ctx, uow, SCREENING_ACTOR, psn_no, True, reason)
    log.record(
        ctx, uow, SCREENING_ACTOR, "risk_write_held", subject=psn_no, reason=reason, write=write
    )


def _born(ctx: Context) -> Callable[[str], date]:
    return lambda id_enc: birth_date_from_enc(ctx, id_enc)
