"""Every rule of docs/rules.md §6.1 at its exact edges, with the clock in hand. On both databases.

The family: 张建国 (Lanzhou employee, 1 800.00 this year, 6 200.00 earlier), his mother
(resident, Jinan), his wife (employee, Lanzhou).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine

from gongji.core.clock import ManualClock
from gongji.core.errors import GongjiError
from gongji.kernel.context import Context
from gongji.mutual_aid.service import grants
from gongji.mutual_aid.service.accounts import personal_account_view
from gongji.store.records import GrantRecord
from support.world import ELDER, YOUNGER, at, build_context, insured, person_actor, relate, run

SON, MOTHER, WIFE, STRANGER = "P620100000001", "P370100000001", "P620100000002", "P440100000009"


@dataclass
class Family:
    ctx: Context
    clock: ManualClock

    def offer(self, amount_fen: int, to: str = MOTHER, by: str = SON) -> GrantRecord:
        return run(
            self.ctx, lambda uow: grants.offer(self.ctx, uow, person_actor(by), to, amount_fen)
        )

    def refused(self, code: str, amount_fen: int = 100, to: str = MOTHER, by: str = SON) -> None:
        with pytest.raises(GongjiError) as caught:
            self.offer(amount_fen, to, by)
        assert caught.value.code == code

    def accept(self, grant_id: str, by: str = MOTHER) -> GrantRecord:
        return run(self.ctx, lambda uow: grants.accept(self.ctx, uow, person_actor(by), grant_id))

    def expire(self) -> int:
        return run(self.ctx, lambda uow: grants.expire_due_offers(self.ctx, uow))

    def available(self, psn_no: str = SON) -> int:
        return run(
            self.ctx, lambda uow: personal_account_view(self.ctx, uow, "620100", psn_no)
        ).available_fen


@pytest.fixture
def family(engine: Engine) -> Iterator[Family]:
    clock = ManualClock(at("2026-03-02 10:00:00"))
    ctx = build_context(engine, clock)
    insured(ctx, SON, current=180_000, earlier=620_000, name="张建国")
    insured(ctx, MOTHER, region="370100", insutype="390", name="王桂兰", born=ELDER)
    insured(ctx, WIFE, current=50_000, name="李秀英")
    relate(ctx, SON, MOTHER, "parent")
    relate(ctx, SON, WIFE, "spouse")
    yield Family(ctx, clock)


def test_quiet_hours_edges(family: Family) -> None:
    family.clock.set(at("2026-03-02 21:59:59"))
    family.offer(100, to=MOTHER)
    family.clock.set(at("2026-03-02 22:00:00"))
    family.refused("quiet_hours", to=WIFE)
    family.clock.set(at("2026-03-03 05:59:59"))
    family.refused("quiet_hours", to=WIFE)
    family.clock.set(at("2026-03-03 06:00:00"))
    family.offer(100, to=WIFE)


def test_three_offers_a_day_counted_on_the_shanghai_calendar(family: Family) -> None:
    family.clock.set(at("2026-03-02 08:00:00"))
    first = family.offer(100, to=MOTHER)
    family.offer(100, to=WIFE)
    run(family.ctx, lambda uow: grants.reject(family.ctx, uow, person_actor(MOTHER), first.id))
    family.offer(100, to=MOTHER)  # third: a rejected offer still counts
    family.refused("grants_per_day_exceeded", to=MOTHER)
    family.clock.set(at("2026-03-03 06:00:00"))
    family.expire()
    family.offer(100, to=MOTHER)


def test_amount_limit_is_inclusive(family: Family) -> None:
    family.refused("grant_amount_exceeds_limit", amount_fen=200_001)
    family.refused("grant_amount_not_positive", amount_fen=0)
    family.offer(200_000)


def test_offer_returns_at_six_the_next_morning_exactly_once(family: Family) -> None:
    before = family.available()
    grant = family.offer(50_000)
    assert family.available() == before - 50_000
    family.clock.set(at("2026-03-03 05:59:59"))
    assert family.expire() == 0
    family.clock.set(at("2026-03-03 06:00:00"))
    assert family.expire() == 1
    assert family.expire() == 0
    assert family.available() == before
    with pytest.raises(GongjiError) as caught:
        family.accept(grant.id)
    assert caught.value.code == "grant_offer_expired"


def test_accept_at_the_last_second_moves_the_money(family: Family) -> None:
    grant = family.offer(50_000)
    family.clock.set(at("2026-03-03 05:59:59"))
    accepted = family.accept(grant.id)
    assert accepted.state == "active"
    family.clock.set(at("2026-03-03 06:00:00"))
    assert family.expire() == 0


def test_one_open_offer_per_pair(family: Family) -> None:
    family.offer(100)
    family.refused("open_offer_exists")
    family.offer(100, to=WIFE)


def test_recipient_wallet_must_be_open_and_not_frozen(family: Family) -> None:
    insured(family.ctx, STRANGER, region="440100", wallet=False, name="张伟", born=YOUNGER)
    relate(family.ctx, SON, STRANGER, "child")
    family.refused("recipient_wallet_not_open", to=STRANGER)


def test_relationship_must_exist_and_be_verified(family: Family) -> None:
    insured(family.ctx, STRANGER, region="510100", insutype="390", name="张丽")
    family.refused("relationship_not_active", to=STRANGER)


def test_available_balance_bounds_the_offer(family: Family) -> None:
    family.refused("insufficient_balance", amount_fen=60_000, by=WIFE, to=SON)


def test_no_onward_granting_of_a_received_quota(family: Family) -> None:
    grant = family.offer(200_000, to=WIFE)
    family.accept(grant.id, by=WIFE)
    family.refused("onward_granting_not_allowed", amount_fen=100_000, by=WIFE, to=SON)


def test_residents_cannot_give(family: Family) -> None:
    family.refused("contributor_has_no_personal_account", by=MOTHER, to=SON)
