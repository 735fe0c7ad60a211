"""Relationships (docs/rules.md §5), authorizations (§6.2) and lifecycle (§10), end to end through
the services on both databases. Every ending returns unused quotas and voids open offers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import Engine

from gongji.core.clock import ManualClock
from gongji.core.errors import GongjiError
from gongji.kernel.context import Context, Role
from gongji.mutual_aid.service import authorizations, grants, lifecycle, relationships, wallets
from gongji.mutual_aid.service.accounts import personal_account_view
from gongji.mutual_aid.store import mutual_aid_repo as aid_repo
from gongji.people.store import search_repo
from support.world import (
    ELDER,
    IDS,
    YOUNGER,
    at,
    build_context,
    insured,
    operator,
    person_actor,
    record_kinship,
    relate,
    run,
)

SON, MOTHER, SISTER, WIFE = "P620100000001", "P370100000001", "P510100000001", "P620100000002"


@dataclass
class World:
    ctx: Context
    clock: ManualClock

    def refused(self, code: str, action: object) -> None:
        with pytest.raises(GongjiError) as caught:
            run(self.ctx, action)  # type: ignore[arg-type]
        assert caught.value.code == code

    def available(self, psn_no: str = SON, region: str = "620100") -> int:
        return run(
            self.ctx, lambda uow: personal_account_view(self.ctx, uow, region, psn_no)
        ).available_fen


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    clock = ManualClock(at("2026-03-02 10:00:00"))
    ctx = build_context(engine, clock)
    insured(ctx, SON, current=180_000, earlier=620_000, name="张建国")
    insured(ctx, MOTHER, region="370100", insutype="390", name="王桂兰", born=ELDER)
    insured(ctx, SISTER, region="510100", insutype="390", name="张丽")
    insured(ctx, WIFE, current=50_000, name="李秀英")
    yield World(ctx, clock)


def test_a_kinship_the_registry_knows_becomes_active_on_confirmation(world: World) -> None:
    relationship_id = relate(world.ctx, SON, MOTHER, "parent")
    found = run(
        world.ctx,
        lambda uow: relationships.visible_relationship(uow, person_actor(SON), relationship_id),
    )
    assert (found.status, found.verification) == ("active", "registry")


def test_the_registry_may_hold_the_inverse_record(world: World) -> None:
    record_kinship(world.ctx, MOTHER, SON, "child")  # "SON is MOTHER's child"
    relationship_id = relate(world.ctx, SON, MOTHER, "parent", registry=False)
    found = run(
        world.ctx,
        lambda uow: relationships.visible_relationship(uow, person_actor(SON), relationship_id),
    )
    assert found.verification == "registry"


def test_an_unknown_kinship_waits_for_an_operator(world: World) -> None:
    id_number, name = IDS[SISTER]
    proposed = run(
        world.ctx,
        lambda uow: relationships.propose(
            world.ctx, uow, person_actor(SON), id_number, name, "兄弟姐妹"
        ),
    )
    confirmed = run(
        world.ctx,
        lambda uow: relationships.confirm(world.ctx, uow, person_actor(SISTER), proposed.id),
    )
    assert confirmed.status == "pending_review"
    queue = run(world.ctx, lambda uow: relationships.review_queue(uow))
    assert [r.id for r in queue] == [proposed.id]
    world.refused(
        "relationship_not_verified",
        lambda uow: grants.offer(world.ctx, uow, person_actor(SON), SISTER, 100),
    )
    world.refused(
        "forbidden",
        lambda uow: relationships.review(
            world.ctx, uow, operator(Role.CLERK), proposed.id, True, "ok"
        ),
    )
    approved = run(
        world.ctx,
        lambda uow: relationships.review(
            world.ctx, uow, operator(Role.REVIEWER), proposed.id, True, "户口簿"
        ),
    )
    assert (approved.status, approved.verification) == ("active", "operator")


def test_proposals_refuse_wrong_names_kinds_and_duplicates(world: World) -> None:
    id_number, name = IDS[MOTHER]
    propose = relationships.propose
    world.refused(
        "relative_not_found",
        lambda uow: propose(world.ctx, uow, person_actor(SON), id_number, "李四", "parent"),
    )
    world.refused(
        "relative_not_found",
        lambda uow: propose(
            world.ctx, uow, person_actor(SON), "620102199001011235", name, "parent"
        ),
    )
    world.refused(
        "kinship_kind_unknown",
        lambda uow: propose(world.ctx, uow, person_actor(SON), id_number, name, "cousin"),
    )
    relate(world.ctx, SON, MOTHER, "parent")
    world.refused(
        "relationship_exists",
        lambda uow: propose(world.ctx, uow, person_actor(SON), id_number, name, "parent"),
    )


def test_only_the_relative_confirms_and_others_see_nothing(world: World) -> None:
    id_number, name = IDS[MOTHER]
    proposed = run(
        world.ctx,
        lambda uow: relationships.propose(
            world.ctx, uow, person_actor(SON), id_number, name, "parent"
        ),
    )
    world.refused(
        "not_found",
        lambda uow: relationships.confirm(world.ctx, uow, person_actor(SON), proposed.id),
    )
    world.refused(
        "not_found",
        lambda uow: relationships.visible_relationship(uow, person_actor(WIFE), proposed.id),
    )


def test_dissolving_returns_unused_quotas_and_voids_offers(world: World) -> None:
    relationship_id = relate(world.ctx, SON, MOTHER, "parent")
    before = world.available()
    accepted = run(
        world.ctx, lambda uow: grants.offer(world.ctx, uow, person_actor(SON), MOTHER, 50_000)
    )
    run(world.ctx, lambda uow: grants.accept(world.ctx, uow, person_actor(MOTHER), accepted.id))
    world.clock.set(at("2026-03-03 10:00:00"))
    pending = run(
        world.ctx, lambda uow: grants.offer(world.ctx, uow, person_actor(SON), MOTHER, 20_000)
    )
    assert world.available() == before - 70_000
    run(
        world.ctx,
        lambda uow: relationships.dissolve(world.ctx, uow, person_actor(MOTHER), relationship_id),
    )
    assert world.available() == before
    for grant_id in (accepted.id, pending.id):
        closed = run(
            world.ctx, lambda uow: grants.grant_visible_to(uow, person_actor(SON), grant_id)
        )
        assert (closed.state, closed.close_reason) == ("closed", "dissolved")


def test_revocation_only_after_thirty_days(world: World) -> None:
    relate(world.ctx, SON, MOTHER, "parent")
    grant = run(
        world.ctx, lambda uow: grants.offer(world.ctx, uow, person_actor(SON), MOTHER, 50_000)
    )
    run(world.ctx, lambda uow: grants.accept(world.ctx, uow, person_actor(MOTHER), grant.id))
    world.clock.set(at("2026-03-31 23:59:59"))
    world.refused(
        "grant_revocation_too_early",
        lambda uow: grants.revoke(world.ctx, uow, person_actor(SON), grant.id),
    )
    world.clock.set(at("2026-04-01 00:00:00"))
    before = world.available()
    revoked = run(world.ctx, lambda uow: grants.revoke(world.ctx, uow, person_actor(SON), grant.id))
    assert revoked.state == "closed"
    assert world.available() == before + 50_000


def test_suspension_blocks_offers_and_accepts_until_resumed(world: World) -> None:
    relate(world.ctx, SON, MOTHER, "parent")
    clerk = operator(Role.CLERK)
    run(world.ctx, lambda uow: lifecycle.suspend(world.ctx, uow, clerk, SON, "稽核"))
    world.refused(
        "person_suspended", lambda uow: grants.offer(world.ctx, uow, person_actor(SON), MOTHER, 100)
    )
    run(world.ctx, lambda uow: lifecycle.resume(world.ctx, uow, clerk, SON, "稽核结束"))
    grant = run(world.ctx, lambda uow: grants.offer(world.ctx, uow, person_actor(SON), MOTHER, 100))
    run(world.ctx, lambda uow: lifecycle.suspend(world.ctx, uow, clerk, MOTHER, "稽核"))
    world.refused(
        "person_suspended",
        lambda uow: grants.accept(world.ctx, uow, person_actor(MOTHER), grant.id),
    )


def test_a_move_ends_relationships_and_takes_the_balance_along(world: World) -> None:
    relate(world.ctx, SON, MOTHER, "parent")
    grant = run(
        world.ctx, lambda uow: grants.offer(world.ctx, uow, person_actor(SON), MOTHER, 30_000)
    )
    run(world.ctx, lambda uow: grants.accept(world.ctx, uow, person_actor(MOTHER), grant.id))
    total = world.available() + 30_000
    run(
        world.ctx,
        lambda uow: lifecycle.move(
            world.ctx, uow, operator(Role.CLERK), SON, "440100", date(2026, 3, 2)
        ),
    )
    assert world.available(region="620100") == 0
    assert world.available(region="440100") == total
    assert (
        run(world.ctx, lambda uow: aid_repo.relationships_of(uow.connection, SON, ["active"])) == []
    )


def test_death_returns_quotas_then_pays_the_heirs_once(world: World) -> None:
    relate(world.ctx, SON, MOTHER, "parent")
    grant = run(
        world.ctx, lambda uow: grants.offer(world.ctx, uow, person_actor(SON), MOTHER, 30_000)
    )
    run(world.ctx, lambda uow: grants.accept(world.ctx, uow, person_actor(MOTHER), grant.id))
    clerk = operator(Role.CLERK)
    run(
        world.ctx,
        lambda uow: lifecycle.record_death(world.ctx, uow, clerk, SON, date(2026, 3, 2), "D-001"),
    )
    world.refused(
        "heirs_required",
        lambda uow: lifecycle.pay_inheritance(world.ctx, uow, clerk, SON, "D-001", []),
    )
    short = [lifecycle.Heir("李秀英", "620102194402180021", 799_999)]
    world.refused(
        "heir_shares_mismatch",
        lambda uow: lifecycle.pay_inheritance(world.ctx, uow, clerk, SON, "D-001", short),
    )
    assert world.available() == 800_000  # the refused payout moved nothing
    heirs = [  # the clerk typed one heir's whole ID number
        lifecycle.Heir("李秀英", "620102194402180021", 500_000),
        lifecycle.Heir("王建国", "620102********0035", 300_000),
    ]
    paid = run(
        world.ctx, lambda uow: lifecycle.pay_inheritance(world.ctx, uow, clerk, SON, "D-001", heirs)
    )
    assert paid == 800_000
    assert world.available() == 0
    stored = run(world.ctx, lambda uow: search_repo.inheritance_payout(uow.connection, SON))
    assert stored is not None
    assert [(h["name"], h["id"], h["share_fen"]) for h in stored.heirs] == [
        ("李**", "620102********0021", 500_000),
        ("王**", "620102********0035", 300_000),
    ]  # masked as stored: neither name nor number readable from the database
    world.refused(
        "inheritance_already_paid",
        lambda uow: lifecycle.pay_inheritance(world.ctx, uow, clerk, SON, "D-001", heirs),
    )


def test_authorizations_bind_in_order_once_per_pair(world: World) -> None:
    relate(world.ctx, SON, WIFE, "spouse")
    relate(world.ctx, SON, MOTHER, "parent")
    bound = run(
        world.ctx, lambda uow: authorizations.bind(world.ctx, uow, person_actor(SON), WIFE, 100_000)
    )
    assert (bound.binding_seq, bound.quota_fen, bound.status) == (1, 100_000, "active")
    world.refused(
        "authorization_exists",
        lambda uow: authorizations.bind(world.ctx, uow, person_actor(SON), WIFE, None),
    )
    world.refused(
        "contributor_has_no_personal_account",
        lambda uow: authorizations.bind(world.ctx, uow, person_actor(MOTHER), SON, None),
    )
    revoked = run(
        world.ctx, lambda uow: authorizations.revoke(world.ctx, uow, person_actor(WIFE), bound.id)
    )
    assert revoked.status == "revoked"


def test_wallets_open_on_behalf_freeze_and_close(world: World) -> None:
    insured(
        world.ctx,
        "P620100000077",
        region="620100",
        insutype="390",
        name="张小明",
        wallet=False,
        born=YOUNGER,
    )
    relate(world.ctx, SON, "P620100000077", "child")
    id_number, name = IDS["P620100000077"]
    request = wallets.OpenRequest("620100", id_number, name)
    opened = run(
        world.ctx, lambda uow: wallets.open_wallet(world.ctx, uow, person_actor(SON), request)
    )
    assert (opened.psn_no, opened.opened_by) == ("P620100000077", SON)
    world.refused(
        "not_related", lambda uow: wallets.open_wallet(world.ctx, uow, person_actor(WIFE), request)
    )
    risk = operator(Role.RISK_OFFICER)
    world.refused(
        "reason_required", lambda uow: wallets.set_frozen(world.ctx, uow, risk, MOTHER, True, " ")
    )
    run(
        world.ctx,
        lambda uow: wallets.set_frozen(world.ctx, uow, risk, MOTHER, True, "疑似虚假共济"),
    )
    relate(world.ctx, SON, MOTHER, "parent")
    world.refused(
        "recipient_wallet_frozen",
        lambda uow: grants.offer(world.ctx, uow, person_actor(SON), MOTHER, 100),
    )
    run(world.ctx, lambda uow: wallets.set_frozen(world.ctx, uow, risk, MOTHER, False, "核查无误"))
    closed = run(world.ctx, lambda uow: wallets.close_wallet(world.ctx, uow, person_actor(WIFE)))
    assert closed.status == "closed"


def test_lifecycle_dates_stay_inside_the_enrolment_and_answers_show_the_new_record(
    world: World,
) -> None:
    clerk = operator(Role.CLERK)
    ctx = world.ctx
    world.refused(
        "enrolment_date_too_far",
        lambda uow: lifecycle.move(ctx, uow, clerk, SON, "440100", date(9999, 12, 31)),
    )
    world.refused(
        "enrolment_date_before_start",
        lambda uow: lifecycle.terminate(ctx, uow, clerk, SON, date(1, 1, 1), "离职"),
    )
    moved = run(ctx, lambda uow: lifecycle.move(ctx, uow, clerk, SON, "440100", date(2026, 4, 1)))
    assert (moved.region, moved.start_date, moved.end_date) == ("440100", "2026-04-01", None)
    world.refused(  # the new enrolment starts on 2026-04-01: it cannot end the day before
        "enrolment_date_before_start",
        lambda uow: lifecycle.terminate(ctx, uow, clerk, SON, date(2026, 3, 31), "离职"),
    )
    ended = run(
        ctx, lambda uow: lifecycle.terminate(ctx, uow, clerk, SON, date(2026, 6, 30), "离职")
    )
    assert (ended.id, ended.end_date, ended.status) == (moved.id, "2026-06-30", "3")
