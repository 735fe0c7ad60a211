"""Grants held for review (待审核, docs/rules.md §6.1.1, §12.4) on SQLite and PostgreSQL: a
write-time check that holds makes the fifth sibling's offer ``held`` — reserved, not acceptable,
not spendable, no wallet frozen; a risk officer releases it (an offer again, with a whole
acceptance period, then accepted and spent) or rejects it (the money back in the contributor's
account through the ledger, the contributor told); held grants wait, released ones return at
their new deadline. The ledger checks clean after each test (the ``engine`` fixture)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from gongji.audit.service import log
from gongji.audit.store.audit_repo import AuditQuery
from gongji.core.clock import ManualClock
from gongji.core.errors import GongjiError
from gongji.kernel.context import Context, Role
from gongji.mutual_aid.service import grants, wallets
from gongji.mutual_aid.service.accounts import parts_available
from gongji.notify.domain.messages import NoticeKind
from gongji.notify.service import inbox
from gongji.risk.domain.alerts import RuleCode
from gongji.risk.domain.common import policy_lookup
from gongji.risk.domain.params import NATIONAL, RiskPolicy, RiskPolicyBook
from gongji.risk.service import held_grants
from gongji.risk.service.screening import make_screen
from gongji.settlement.service.settlement import settle
from gongji.store.records import GrantRecord
from support.api import key, make_client, operator_headers, post
from support.desk import HOSPITAL, bill, open_desks
from support.world import at, build_context, give, insured, operator, person_actor, relate, run

TAKER = "P620100000900"
GIVERS = [f"P62010000091{k}" for k in range(5)]
OFFICER = operator(Role.RISK_OFFICER)


@dataclass
class World:
    ctx: Context
    clock: ManualClock
    held: GrantRecord

    def refused(self, code: str, action: object) -> None:
        with pytest.raises(GongjiError) as caught:
            run(self.ctx, action)  # type: ignore[arg-type]
        assert caught.value.code == code

    def available(self, psn_no: str) -> int:
        ctx = self.ctx
        parts = run(ctx, lambda uow: parts_available(ctx, uow, "620100", psn_no))
        return parts.current_fen + parts.earlier_fen


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    """Four siblings give 王桂兰 200.00 each; the fifth's offer trips fan-in, which holds."""
    clock = ManualClock(at("2026-03-02 10:00:00"))
    national = dict(NATIONAL.rules)
    national[RuleCode.FAN_IN] = replace(national[RuleCode.FAN_IN], hold=True)
    screen = make_screen(policy_lookup(RiskPolicyBook(RiskPolicy(national))))
    ctx = replace(build_context(engine, clock), screens=(screen,))
    open_desks(ctx)
    insured(ctx, TAKER, insutype="390", name="王桂兰")
    for giver in GIVERS:
        insured(ctx, giver, earlier=300_000, name="张三")
        relate(ctx, giver, TAKER, "sibling")
    for giver in GIVERS[:4]:
        give(ctx, giver, TAKER, 20_000)
    held = run(ctx, lambda uow: grants.offer(ctx, uow, person_actor(GIVERS[4]), TAKER, 20_000))
    yield World(ctx, clock, held)


def test_a_held_grant_is_reserved_but_neither_acceptable_nor_spendable(world: World) -> None:
    ctx = world.ctx
    assert world.held.state == "held"
    assert world.available(GIVERS[4]) == 280_000  # reserved: the contributor cannot use it
    assert run(ctx, lambda uow: wallets.wallet_status(uow, TAKER)) == "open"
    world.refused(
        "grant_held_for_review",
        lambda uow: grants.accept(ctx, uow, person_actor(TAKER), world.held.id),
    )
    world.refused(  # the recipient's turn comes after the officer's
        "grant_not_offered",
        lambda uow: grants.reject(ctx, uow, person_actor(TAKER), world.held.id),
    )
    spent = run(
        ctx,
        lambda uow: settle(
            ctx, uow, bill(TAKER, "s1", ("TB", "1", 100_000), med_type="11", institution=HOSPITAL)
        ),
    )
    assert spent.acct_mulaid_pay == 80_000  # the four accepted grants, not the held one
    assert [g.id for g in run(ctx, held_grants.held)] == [world.held.id]
    offers = [m for m in run(ctx, lambda uow: inbox.messages(uow, TAKER))
              if m.kind is NoticeKind.OFFER_RECEIVED]  # fmt: skip
    assert len(offers) == 4  # no offer told while it is held


def test_held_grants_wait_for_the_officer_past_the_offer_deadline(world: World) -> None:
    ctx = world.ctx
    world.clock.advance(timedelta(days=10))
    assert run(ctx, lambda uow: grants.expire_due_offers(ctx, uow)) == 0
    assert run(ctx, lambda uow: grants.grant_visible_to(uow, OFFICER, world.held.id)).state == (
        "held"
    )
    assert world.available(GIVERS[4]) == 280_000


def test_released_it_is_an_offer_with_a_whole_acceptance_period_then_accepted_and_spent(
    world: World,
) -> None:
    ctx = world.ctx
    world.clock.advance(timedelta(days=3))  # the offer's own deadline has passed
    world.refused("forbidden", lambda uow: held_grants.release(ctx, uow, operator(Role.CLERK),
                                                               world.held.id))  # fmt: skip
    released = run(ctx, lambda uow: held_grants.release(ctx, uow, OFFICER, world.held.id))
    assert released.state == "offered"
    assert released.expires_at_us > ctx.now_us()
    world.refused(
        "grant_not_held", lambda uow: held_grants.release(ctx, uow, OFFICER, world.held.id)
    )
    told = [m for m in run(ctx, lambda uow: inbox.messages(uow, TAKER))
            if m.kind is NoticeKind.OFFER_RECEIVED]  # fmt: skip
    assert len(told) == 5
    accepted = run(ctx, lambda uow: grants.accept(ctx, uow, person_actor(TAKER), world.held.id))
    assert accepted.state == "active"
    spent = run(
        ctx,
        lambda uow: settle(
            ctx, uow, bill(TAKER, "s1", ("TB", "1", 100_000), med_type="11", institution=HOSPITAL)
        ),
    )
    assert spent.acct_mulaid_pay == 100_000  # the released grant's money too
    assert world.available(GIVERS[4]) == 280_000
    trail = run(ctx, lambda uow: log.search(uow, AuditQuery(subject=TAKER)))
    assert [e.entry.action for e in reversed(trail)] == ["risk_write_held", "risk_grant_released"]


def test_a_released_grant_not_accepted_returns_at_its_new_deadline(world: World) -> None:
    ctx = world.ctx
    released = run(ctx, lambda uow: held_grants.release(ctx, uow, OFFICER, world.held.id))
    world.clock.advance(timedelta(days=2))
    assert ctx.now_us() > released.expires_at_us
    assert run(ctx, lambda uow: grants.expire_due_offers(ctx, uow)) == 1
    after = run(ctx, lambda uow: grants.grant_visible_to(uow, OFFICER, world.held.id))
    assert after.state == "expired"
    assert world.available(GIVERS[4]) == 300_000  # its reservation, without a timeout, voided


def test_rejected_the_money_goes_back_to_the_contributor_who_is_told(world: World) -> None:
    ctx = world.ctx
    world.refused(
        "risk_hold_reason_required",
        lambda uow: held_grants.reject(ctx, uow, OFFICER, world.held.id, "  "),
    )
    rejected = run(
        ctx, lambda uow: held_grants.reject(ctx, uow, OFFICER, world.held.id, "疑似虚构亲属")
    )
    assert (rejected.state, rejected.close_reason) == ("rejected", "risk_rejected")
    assert world.available(GIVERS[4]) == 300_000
    world.refused(
        "grant_not_offered",
        lambda uow: grants.accept(ctx, uow, person_actor(TAKER), world.held.id),
    )
    told = run(ctx, lambda uow: inbox.messages(uow, GIVERS[4]))
    assert [m.kind for m in told].count(NoticeKind.OFFER_RETURNED) == 1
    trail = run(ctx, lambda uow: log.search(uow, AuditQuery(subject=TAKER)))
    (decision,) = [e.entry for e in trail if e.entry.action == "risk_grant_rejected"]
    assert (decision.reason, decision.detail["returned_fen"]) == ("疑似虚构亲属", 20_000)
    # a new offer may follow: the held one no longer counts as open
    again = run(ctx, lambda uow: grants.offer(ctx, uow, person_actor(GIVERS[4]), TAKER, 10_000))
    assert again.state in ("offered", "held")


def test_the_officers_api_lists_releases_and_rejects_held_grants(
    world: World, tmp_path: Path
) -> None:
    ctx = world.ctx
    base = "/api/v1/admin/risk/held-grants"
    with make_client(ctx, world.clock, tmp_path) as client:
        officer = operator_headers(ctx, "li.risk", "risk_officer")
        (listed,) = client.get(base, headers=officer).json()
        assert (listed["grant_id"], listed["amount"], listed["state"]) == (
            world.held.id,
            "200.00",
            "held",
        )
        assert listed["expires_at"] is None  # no deadline runs while held
        analyst = operator_headers(ctx, "ana", "analyst")
        assert client.get(base, headers=analyst).status_code == 403
        no_reason = post(client, f"{base}/{world.held.id}/reject", officer, {"reason": " "})
        assert (no_reason.status_code, no_reason.json()["code"]) == (
            400,
            "risk_hold_reason_required",
        )
        once = {**officer, **key()}
        first = client.post(f"{base}/{world.held.id}/release", json={}, headers=once)
        again = client.post(f"{base}/{world.held.id}/release", json={}, headers=once)
        assert first.status_code == 200 and first.json()["state"] == "offered"
        assert again.headers["Idempotency-Replayed"] == "true"
        late = post(client, f"{base}/{world.held.id}/reject", officer, {"reason": "迟到"})
        assert (late.status_code, late.json()["code"]) == (400, "grant_not_held")
        assert client.get(base, headers=officer).json() == []


def test_an_ordinary_offer_from_both_account_parts_still_returns_at_six(world: World) -> None:
    """The 06:00 return voids released grants' reservations itself; an ordinary offer's, made of
    two linked parts that the ledger expired already, is left as the ledger left it."""
    ctx = world.ctx
    both = "P370100000930"  # Jinan shares this year's money too (Gansu earlier years' only)
    insured(ctx, both, region="370100", current=10_000, earlier=10_000, name="李四")
    relate(ctx, both, GIVERS[0], "sibling")
    offered = run(ctx, lambda uow: grants.offer(ctx, uow, person_actor(both), GIVERS[0], 15_000))
    assert (offered.state, offered.from_current_fen, offered.from_earlier_fen) == (
        "offered", 10_000, 5_000,
    )  # fmt: skip
    world.clock.advance(timedelta(days=2))
    assert run(ctx, lambda uow: grants.expire_due_offers(ctx, uow)) == 1
    parts = run(ctx, lambda uow: parts_available(ctx, uow, "370100", both))
    assert (parts.current_fen, parts.earlier_fen) == (10_000, 10_000)
    assert world.held.state == "held"  # the held grant is left waiting
