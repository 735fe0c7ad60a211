"""Guardian mode (亲情账户, docs/rules.md §17) through the services on both databases: the
holder's consent lets the relative show her e-voucher (a desk then identifies *her*) and read
her wallet; revoking it, or the relationship ending, refuses the next request at once; every
step is in both histories and the guardian is told."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine

from gongji.core.clock import ManualClock
from gongji.core.errors import GongjiError
from gongji.kernel.context import Context
from gongji.mutual_aid.service import guardians, relationships, wallet_view
from gongji.notify.service import inbox
from gongji.people.service.credentials_lookup import Presented, identify_presented
from support.world import ELDER, IDS, at, build_context, insured, person_actor, relate, run

SON, MOTHER, DAUGHTER, STRANGER = (
    "P620100000001",
    "P620100000002",
    "P620100000003",
    "P620100000009",
)


@dataclass
class World:
    ctx: Context
    relationship_id: str

    def refused(self, code: str, action: object) -> None:
        with pytest.raises(GongjiError) as caught:
            run(self.ctx, action)  # type: ignore[arg-type]
        assert caught.value.code == code

    def grant(self, holder: str = MOTHER) -> guardians.Consent:
        actor = person_actor(holder)
        return run(
            self.ctx, lambda uow: guardians.grant(self.ctx, uow, actor, self.relationship_id)
        )

    def voucher(self, guardian: str = SON, holder: str = MOTHER) -> str:
        actor = person_actor(guardian)
        return run(self.ctx, lambda uow: guardians.show_voucher(self.ctx, uow, actor, holder))

    def events(self, psn_no: str) -> list[str]:
        found, _ = run(self.ctx, lambda uow: wallet_view.history(uow, psn_no, None, 100))
        return [event.kind for event in found]


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    ctx = build_context(engine, ManualClock(at("2026-03-02 10:00:00")))
    insured(ctx, SON, current=180_000, earlier=620_000, name="张建国")
    insured(ctx, MOTHER, current=30_000, earlier=90_000, name="王桂兰", born=ELDER)
    insured(ctx, DAUGHTER, name="张丽")
    insured(ctx, STRANGER, name="赵四")
    yield World(ctx, relate(ctx, SON, MOTHER, "parent"))


def test_with_her_consent_the_son_shows_his_mothers_voucher_and_sees_her_wallet(
    world: World,
) -> None:
    world.refused("guardian_not_allowed", lambda uow: guardians.show_voucher(
        world.ctx, uow, person_actor(SON), MOTHER))  # fmt: skip
    consent = world.grant()
    assert (consent.holder, consent.guardian, consent.other_name) == (MOTHER, SON, "张**")
    token = world.voucher()
    presented = Presented("01", token)
    found = run(world.ctx, lambda uow: identify_presented(world.ctx, uow, presented))
    assert found.psn_no == MOTHER  # the desk finds her, not him
    view = run(
        world.ctx, lambda uow: guardians.wallet_of(world.ctx, uow, person_actor(SON), MOTHER)
    )
    assert view.psn_no == MOTHER and view.account is not None
    assert view.account.available_fen == 120_000
    held = run(world.ctx, lambda uow: guardians.held_by(uow, SON))
    assert [c.holder for c in held] == [MOTHER]
    assert "guardian_voucher_shown" in world.events(MOTHER)
    (newest,) = run(world.ctx, lambda uow: wallet_view.latest(uow, MOTHER, 1))
    assert (newest.kind, newest.actor) == ("guardian_voucher_shown", f"person:{SON}")
    assert "guardian_consent_granted" in world.events(SON)
    told = run(world.ctx, lambda uow: inbox.messages(uow, SON))
    assert any(
        m.kind.value == "guardian_granted" and "王**" in m.text.body and "王桂兰" not in m.text.body
        for m in told
    )


def test_the_consent_is_one_way_and_only_the_holder_grants_it(world: World) -> None:
    world.grant()
    # the son is a guardian of his mother, not the other way round
    world.refused("guardian_not_allowed", lambda uow: guardians.show_voucher(
        world.ctx, uow, person_actor(MOTHER), SON))  # fmt: skip
    # a second consent on the same relationship by the same holder
    world.refused("guardian_consent_exists", lambda uow: guardians.grant(
        world.ctx, uow, person_actor(MOTHER), world.relationship_id))  # fmt: skip
    # someone outside the relationship can neither grant on it nor see
    world.refused("not_found", lambda uow: guardians.grant(
        world.ctx, uow, person_actor(STRANGER), world.relationship_id))  # fmt: skip
    world.refused("guardian_not_allowed", lambda uow: guardians.wallet_of(
        world.ctx, uow, person_actor(STRANGER), MOTHER))  # fmt: skip


def test_revoking_refuses_the_next_request_at_once(world: World) -> None:
    consent = world.grant()
    world.voucher()
    world.refused("not_found", lambda uow: guardians.revoke(
        world.ctx, uow, person_actor(SON), consent.id))  # fmt: skip  # the guardian cannot
    ended = run(world.ctx, lambda uow: guardians.revoke(
        world.ctx, uow, person_actor(MOTHER), consent.id))  # fmt: skip
    assert ended.end_reason == "revoked" and ended.ended_at_us is not None
    world.refused("guardian_not_allowed", lambda uow: guardians.show_voucher(
        world.ctx, uow, person_actor(SON), MOTHER))  # fmt: skip
    world.refused("guardian_not_allowed", lambda uow: guardians.wallet_of(
        world.ctx, uow, person_actor(SON), MOTHER))  # fmt: skip
    assert run(world.ctx, lambda uow: guardians.held_by(uow, SON)) == []
    told = [m.kind.value for m in run(world.ctx, lambda uow: inbox.messages(uow, SON))]
    assert "guardian_ended" in told
    # revoking again changes nothing; granting again is a new consent
    again = run(world.ctx, lambda uow: guardians.revoke(
        world.ctx, uow, person_actor(MOTHER), consent.id))  # fmt: skip
    assert again.ended_at_us == ended.ended_at_us
    assert world.grant().id != consent.id
    world.voucher()


def test_a_relationship_ended_ends_the_consent(world: World) -> None:
    consent = world.grant()
    run(world.ctx, lambda uow: relationships.dissolve(
        world.ctx, uow, person_actor(SON), world.relationship_id))  # fmt: skip
    world.refused("guardian_not_allowed", lambda uow: guardians.show_voucher(
        world.ctx, uow, person_actor(SON), MOTHER))  # fmt: skip
    assert run(world.ctx, lambda uow: guardians.given_by(uow, MOTHER)) == []
    assert "guardian_consent_ended" in world.events(MOTHER)
    # a new relationship does not revive the old consent
    relate(world.ctx, SON, MOTHER, "parent")
    world.refused("guardian_not_allowed", lambda uow: guardians.show_voucher(
        world.ctx, uow, person_actor(SON), MOTHER))  # fmt: skip
    assert consent.id not in [c.id for c in run(world.ctx, lambda uow: guardians.held_by(uow, SON))]


def test_a_relationship_that_is_not_active_cannot_carry_a_consent(world: World) -> None:
    id_number, name = IDS[DAUGHTER]
    proposed = run(world.ctx, lambda uow: relationships.propose(
        world.ctx, uow, person_actor(MOTHER), id_number, name, "child"))  # fmt: skip
    world.refused("guardian_not_allowed", lambda uow: guardians.grant(
        world.ctx, uow, person_actor(MOTHER), proposed.id))  # fmt: skip
