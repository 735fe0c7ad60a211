"""A grant's offer and its acceptance in few round trips on PostgreSQL (issue 20: "the same for
grants"), with risk's write-time screen on, as bootstrap registers it; on both databases the
grant, its money and its notice come out as they always did.

An offer reads every fact its rules need with the wallets' locks, the contributor's accounts
(locked) with the quotas they received, then writes the grant and its quota account with the
screen's reads and the ledger's (an offer that raises an alert reads two more: which alerts are
new, and the standing ones again, those just stored among them); an acceptance reads the
relationship, the recipient's facts and what the ledger must know with the locks, and the
ledger's balances with its resolutions."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import Engine

from gongji.core.clock import ManualClock
from gongji.kernel import chart
from gongji.mutual_aid.service import grants, mutual_aid_choice
from gongji.notify.domain.messages import NoticeKind
from gongji.notify.service import inbox
from gongji.risk.service.screening import make_screen
from gongji.sim.db_trips import TripCounter, count_trips
from support.world import ELDER, at, build_context, insured, person_actor, relate, run

HEAD, MOTHER = "P62010000001", "P62010000002"


def test_an_offer_and_its_acceptance_wait_for_few_round_trips(engine: Engine) -> None:
    counter = TripCounter()
    count_trips(engine, counter)
    engine.dispose()  # the connections the migrations opened were not counted
    clock = ManualClock(at("2026-03-02 10:00:00"))
    ctx = replace(build_context(engine, clock), screens=(make_screen(),))
    insured(ctx, HEAD, earlier=500_000, name="张建国")
    insured(ctx, MOTHER, name="李秀英", born=ELDER)
    relate(ctx, HEAD, MOTHER, "parent")
    clock.advance(timedelta(days=40))  # a relation this old raises no alert of its own

    before = counter.trips
    offered = run(ctx, lambda uow: grants.offer(ctx, uow, person_actor(HEAD), MOTHER, 30_000))
    offer_trips = counter.trips - before
    before = counter.trips
    accepted = run(
        ctx,
        lambda uow: mutual_aid_choice.accept(ctx, uow, person_actor(MOTHER), offered.id, True),
    )
    accept_trips = counter.trips - before

    assert (offered.state, offered.amount_fen, offered.from_earlier_fen) == (
        "offered",
        30_000,
        30_000,
    )
    assert accepted.grant == replace(
        offered, state="active", accepted_at_us=accepted.grant.accepted_at_us
    )
    assert accepted.grant == run(
        ctx, lambda uow: grants.grant_visible_to(uow, person_actor(MOTHER), offered.id)
    )
    assert accepted.mutual_aid.on and accepted.mutual_aid.chosen
    quota = ctx.ledger.lookup_accounts([chart.earmark(offered.id)])[chart.earmark(offered.id)]
    assert quota.credits_posted == 30_000 and quota.credits_pending == 0
    told = run(ctx, lambda uow: inbox.messages(uow, MOTHER))
    assert told[0].kind == NoticeKind.OFFER_RECEIVED  # newest first
    assert told[0].text.body.startswith("张**向您共济 300.00 元")  # the masked name, read once
    if engine.dialect.name == "postgresql":
        # 51eedd6's parent: 33 and 19. The offer: the locks with its facts, the accounts with
        # the quotas received, the writes with the screen's reads (the alerts standing about
        # either party among them) and the ledger's, the COMMIT.
        assert offer_trips <= 4, offer_trips
        # The grant, the locks with the rest, the ledger's balances with its resolutions, the
        # standing choice read with the writes, the COMMIT.
        assert accept_trips <= 5, accept_trips
