"""Risk monitoring end to end through the services on both databases (docs/rules.md §12):
a full run finds the fan-in on real grants, an incremental run reads only what changed, and a
risk officer's case freezes the wallet, closes with a recovery and leaves each step in the
audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from gongji.audit.service import log
from gongji.audit.store.audit_repo import AuditQuery
from gongji.core.clock import ManualClock
from gongji.core.errors import GongjiError
from gongji.jobs.scheduler import Scheduler
from gongji.kernel.context import Context, Role
from gongji.mutual_aid.service import grants, wallets
from gongji.risk.domain.alerts import RuleCode
from gongji.risk.domain.common import policy_lookup
from gongji.risk.domain.params import NATIONAL, RiskPolicy, RiskPolicyBook
from gongji.risk.service import cases, queries, runs
from gongji.risk.service.screening import make_screen
from support.world import at, build_context, give, insured, operator, person_actor, relate, run

TAKER = "P620100000900"
GIVERS = [f"P62010000091{k}" for k in range(6)]
OFFICER = operator(Role.RISK_OFFICER)


@dataclass
class World:
    ctx: Context
    clock: ManualClock

    def refused(self, code: str, action: object) -> None:
        with pytest.raises(GongjiError) as caught:
            run(self.ctx, action)  # type: ignore[arg-type]
        assert caught.value.code == code


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    clock = ManualClock(at("2026-03-02 10:00:00"))
    ctx = build_context(engine, clock)
    insured(ctx, TAKER, insutype="390", name="王桂兰")
    for giver in GIVERS:
        insured(ctx, giver, earlier=300_000, name="张三")
        relate(ctx, giver, TAKER, "sibling")
    yield World(ctx, clock)


def _fan_in(world: World) -> int:
    for giver in GIVERS[:5]:
        give(world.ctx, giver, TAKER, 20_000)
    world.clock.advance(timedelta(seconds=3600))
    result = runs.run(world.ctx)
    assert result.mode == "full"
    queue = run(world.ctx, lambda uow: queries.alert_queue(uow, open_only=True))
    (found,) = [a for a in queue if a.rule == "fan_in"]
    assert found.subject == TAKER
    assert set(found.evidence.persons) == set(GIVERS[:5])
    assert len(found.evidence.grants) == 5
    return found.id


def test_a_full_run_finds_the_fan_in_and_a_second_run_nothing_new(world: World) -> None:
    _fan_in(world)
    again = runs.run(world.ctx)
    assert (again.mode, again.persons_judged, again.alerts_new) == ("incremental", 0, 0)


def test_an_incremental_run_judges_only_who_changed(world: World) -> None:
    _fan_in(world)
    world.clock.advance(timedelta(seconds=60))
    give(world.ctx, GIVERS[5], TAKER, 20_000)
    world.clock.advance(timedelta(seconds=60))
    result = runs.run(world.ctx)
    assert result.mode == "incremental"
    assert result.persons_judged == 2  # the new giver and the recipient
    assert result.alerts_new == 1  # the fan-in now has six contributors: a new set of rows


def test_a_case_freezes_the_wallet_and_closes_with_a_recovery_in_the_audit_trail(
    world: World,
) -> None:
    ctx = world.ctx
    alert_id = _fan_in(world)
    case = run(ctx, lambda uow: cases.open_case(ctx, uow, OFFICER, alert_id))
    assert case.state == "open"
    run(ctx, lambda uow: cases.investigate(ctx, uow, OFFICER, case.id))
    run(ctx, lambda uow: cases.freeze_wallet(ctx, uow, OFFICER, case.id))
    world.refused(
        "recipient_wallet_frozen",
        lambda uow: grants.offer(ctx, uow, person_actor(GIVERS[5]), TAKER, 10_000),
    )
    closed = run(
        ctx, lambda uow: cases.close(ctx, uow, OFFICER, case.id, True, "亲属关系虚构", 80_000)
    )
    assert (closed.state, closed.recovered_fen) == ("closed_confirmed", 80_000)
    trail = run(ctx, lambda uow: log.search(uow, AuditQuery(subject=case.id)))
    assert [e.entry.action for e in reversed(trail)] == [
        "risk_case_opened",
        "risk_case_investigating",
        "risk_wallet_frozen",
        "risk_case_closed_confirmed",
    ]


def test_refused_steps_change_nothing(world: World) -> None:
    ctx = world.ctx
    alert_id = _fan_in(world)
    world.refused(
        "forbidden", lambda uow: cases.open_case(ctx, uow, operator(Role.CLERK), alert_id)
    )
    case = run(ctx, lambda uow: cases.open_case(ctx, uow, OFFICER, alert_id))
    world.refused("risk_alert_in_case", lambda uow: cases.open_case(ctx, uow, OFFICER, alert_id))
    world.refused(
        "risk_case_step_refused",
        lambda uow: cases.close(ctx, uow, OFFICER, case.id, True, "x", None),
    )
    world.refused(
        "risk_recovery_invalid",
        lambda uow: cases.close(ctx, uow, OFFICER, case.id, False, "查无实据", 10_000),
    )
    world.refused(
        "risk_action_not_for_subject",
        lambda uow: cases.suspend_institution(ctx, uow, OFFICER, case.id),
    )
    after = run(ctx, lambda uow: queries.case_detail(uow, case.id))
    assert (after.case.state, after.case.recovered_fen) == ("open", 0)
    trail = run(ctx, lambda uow: log.search(uow, AuditQuery(subject=case.id)))
    assert [e.entry.action for e in trail] == ["risk_case_opened"]


# --- write-time checks (docs/rules.md §12.4) ----------------------------------------------------


def _screened(world: World, **changes: object) -> Context:
    """The world's context with risk's screen registered (bootstrap does it for the server);
    ``changes`` alter the national fan-in parameters."""
    national = dict(NATIONAL.rules)
    national[RuleCode.FAN_IN] = replace(national[RuleCode.FAN_IN], **changes)
    policy = policy_lookup(RiskPolicyBook(RiskPolicy(national)))
    return replace(world.ctx, screens=(make_screen(policy),))


def test_the_fifth_contributors_offer_is_flagged_as_it_is_written(world: World) -> None:
    ctx = _screened(world)
    for giver in GIVERS[:4]:
        give(ctx, giver, TAKER, 20_000)
    assert run(ctx, lambda uow: queries.alert_queue(uow)) == []  # four: a family
    give(ctx, GIVERS[4], TAKER, 20_000)
    (flagged,) = run(ctx, lambda uow: queries.alert_queue(uow))
    assert (flagged.rule, flagged.source, flagged.held) == ("fan_in", "write", False)
    assert run(ctx, lambda uow: wallets.wallet_status(uow, TAKER)) == "open"
    assert runs.run(ctx).alerts_new == 0  # the scheduled run sees the same rows


def test_where_policy_holds_the_grant_is_held_and_no_wallet_is_frozen(world: World) -> None:
    ctx = _screened(world, hold=True)
    for giver in GIVERS[:4]:
        give(ctx, giver, TAKER, 20_000)
    offered = run(ctx, lambda uow: grants.offer(ctx, uow, person_actor(GIVERS[4]), TAKER, 20_000))
    assert offered.state == "held"  # the write stands, held for review
    (flagged,) = run(ctx, lambda uow: queries.alert_queue(uow))
    assert flagged.held
    assert run(ctx, lambda uow: wallets.wallet_status(uow, TAKER)) == "open"
    assert run(ctx, lambda uow: wallets.wallet_status(uow, GIVERS[4])) == "open"
    world.refused(
        "grant_held_for_review",
        lambda uow: grants.accept(ctx, uow, person_actor(TAKER), offered.id),
    )
    trail = run(ctx, lambda uow: log.search(uow, AuditQuery(subject=TAKER)))
    assert [e.entry.action for e in trail] == ["risk_write_held"]


def test_the_servers_scheduler_runs_risk_at_most_every_fifteen_minutes(world: World) -> None:
    for giver in GIVERS[:5]:
        give(world.ctx, giver, TAKER, 20_000)
    scheduler = Scheduler(world.ctx)
    scheduler.run_once()
    scheduler.run_once()  # a minute later: not due
    queue = run(world.ctx, lambda uow: queries.alert_queue(uow))
    assert [(a.rule, a.source) for a in queue if a.rule == "fan_in"] == [("fan_in", "run")]
    assert runs.run(world.ctx).run_id == 2  # the scheduler's was the first and only run
