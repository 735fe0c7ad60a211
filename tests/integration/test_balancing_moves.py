"""The four services that move "what is left" (inheritance payout, a move to another region, a
quota's return, the year-end rollover) let the ledger decide the amount with a balancing
transfer, on SQLite and PostgreSQL (docs/ledger.md, "Services that move the rest").

Each test spends from the source account in the very transaction that posts the move, after
the service decided what to send and before the ledger loads the accounts: what a concurrent
payment committing between a balance read and the move would do. A service that read the
balance first would send the old amount and be refused (``exceeds_credits``); one that lets the
ledger decide moves what is left, and answers with that amount.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine

from gongji.core.clock import ManualClock
from gongji.jobs import rollover
from gongji.kernel import chart
from gongji.kernel.context import Context, Role
from gongji.ledger import book
from gongji.ledger.apply import BatchState, apply_batch
from gongji.ledger.types import (
    AMOUNT_MAX,
    BALANCING_FLAGS,
    CreateTransferResult,
    Transfer,
    TransferFlags,
)
from gongji.mutual_aid.service import grants, lifecycle
from gongji.people.service import registry
from gongji.store.raw import Executor
from support.world import at, build_context, give, insured, operator, person_actor, relate, run

SON, MOTHER = "P620100000001", "P370100000001"
ELDER = date(1944, 2, 18)


@dataclass
class World:
    ctx: Context
    clock: ManualClock

    def balances(self, region: str, psn_no: str = SON) -> tuple[int, int]:
        """(this year's, earlier years') credit balance in fen."""
        ids = chart.personal_current(region, psn_no), chart.personal_earlier(region, psn_no)
        found = self.ctx.ledger.lookup_accounts(ids)
        return found[ids[0]].credit_balance, found[ids[1]].credit_balance

    def recorded(self, *ids: str) -> dict[str, Transfer]:
        return self.ctx.ledger.lookup_transfers(ids)


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    clock = ManualClock(at("2026-03-02 10:00:00"))
    ctx = build_context(engine, clock)
    insured(ctx, SON, current=180_000, earlier=620_000, name="张建国")
    insured(ctx, MOTHER, region="370100", insutype="390", name="王桂兰", born=ELDER)
    yield World(ctx, clock)


def spend_before_posting(
    monkeypatch: pytest.MonkeyPatch, id_prefix: str, source: str, amount: int
) -> list[Transfer]:
    """Post a payment of ``amount`` from ``source`` just before the ledger loads the first batch
    holding a transfer whose id starts with ``id_prefix``, in that batch's transaction. Returns
    the batches that reached the ledger then, as sent."""
    real_load_state = book._load_state
    seen: list[Transfer] = []
    spend = Transfer(
        f"test:spend:{source}",
        source,
        chart.injection_source("620100"),
        amount,
        chart.LEDGER_CNY,
        chart.TransferCode.SETTLEMENT_OWN,
    )

    def load_state(connection: Executor, transfers: Sequence[Transfer], now_us: int) -> BatchState:
        if not seen and any(t.id.startswith(id_prefix) for t in transfers):
            seen.extend(transfers)
            state = real_load_state(connection, [spend], now_us)
            assert apply_batch(state, [spend]) == [CreateTransferResult.OK]
            book._write_state(connection, state)
        return real_load_state(connection, transfers, now_us)

    monkeypatch.setattr(book, "_load_state", load_state)
    return seen


def test_the_inheritance_pays_what_is_left_when_it_posts(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx, clerk = world.ctx, operator(Role.CLERK)
    run(ctx, lambda uow: lifecycle.record_death(ctx, uow, clerk, SON, date(2026, 3, 2), "D-1"))
    sent = spend_before_posting(
        monkeypatch, "inherit:", chart.personal_current("620100", SON), 30_000
    )
    heirs = [lifecycle.Heir("李秀英", "620102********0021", 770_000)]

    paid = run(ctx, lambda uow: lifecycle.pay_inheritance(ctx, uow, clerk, SON, "D-1", heirs))

    assert paid == 180_000 - 30_000 + 620_000
    assert {t.flags & BALANCING_FLAGS for t in sent} == {TransferFlags.BALANCING_DEBIT}
    assert world.balances("620100") == (0, 0)
    payout = ctx.ledger.lookup_accounts([chart.inheritance_payout("620100", SON)])
    assert payout[chart.inheritance_payout("620100", SON)].credit_balance == paid
    stored = run(ctx, lambda uow: registry.inheritance_paid(uow.connection, SON))
    assert stored


def test_a_move_takes_what_is_left_when_it_posts(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx, clerk = world.ctx, operator(Role.CLERK)
    spend_before_posting(monkeypatch, "move:", chart.personal_earlier("620100", SON), 20_000)

    run(ctx, lambda uow: lifecycle.move(ctx, uow, clerk, SON, "440100", date(2026, 3, 2)))

    assert world.balances("620100") == (0, 0)
    assert world.balances("440100") == (180_000, 600_000)


def test_moving_away_back_and_away_again_takes_the_balance_each_time(world: World) -> None:
    """Each move has transfers of its own: an earlier move's id resent would answer ``exists``
    and, as a balancing transfer, move nothing."""
    ctx, clerk = world.ctx, operator(Role.CLERK)
    for region, day in (("440100", 2), ("620100", 3), ("440100", 4)):
        on = date(2026, 3, day)
        run(ctx, lambda uow, to=region, on=on: lifecycle.move(ctx, uow, clerk, SON, to, on))
        world.clock.set(at(f"2026-03-0{day + 1} 10:00:00"))

    assert world.balances("620100") == (0, 0)
    assert world.balances("440100") == (180_000, 620_000)


def test_an_empty_part_moves_zero_and_the_answer_counts_only_money(world: World) -> None:
    ctx, clerk = world.ctx, operator(Role.CLERK)
    insured(ctx, "P620100000009", current=5_000, name="李四")
    run(
        ctx,
        lambda uow: lifecycle.record_death(
            ctx, uow, clerk, "P620100000009", date(2026, 3, 2), "D-9"
        ),
    )
    heirs = [lifecycle.Heir("李五", "620102********0021", 5_000)]

    paid = run(
        ctx,
        lambda uow: lifecycle.pay_inheritance(ctx, uow, clerk, "P620100000009", "D-9", heirs),
    )

    assert paid == 5_000
    earlier = f"inherit:{chart.personal_earlier('620100', 'P620100000009')}"
    assert world.recorded(earlier)[earlier].amount == 0


def test_a_quota_returns_what_is_left_when_it_posts(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guangzhou's contributor gives this year's money first (Gansu's would give earlier years'
    only), so the return has both parts."""
    ctx, recipient, giver = world.ctx, person_actor(MOTHER), "P440100000001"
    insured(ctx, giver, region="440100", current=180_000, earlier=620_000, name="张伟")
    relate(ctx, giver, MOTHER, "parent")
    grant_id = give(ctx, giver, MOTHER, 200_000)
    grant = run(ctx, lambda uow: grants.grant_visible_to(uow, recipient, grant_id))
    assert (grant.from_current_fen, grant.from_earlier_fen) == (180_000, 20_000)
    before = world.balances("440100", giver)
    sent = spend_before_posting(monkeypatch, f"{grant_id}:return:", chart.earmark(grant_id), 50_000)

    returned, closed = run(ctx, lambda uow: grants.return_quota(ctx, uow, grant, "returned"))

    assert returned == 150_000
    assert (closed.state, closed.close_reason) == ("closed", "returned")
    assert [(t.amount, t.flags) for t in sent] == [
        (20_000, TransferFlags.BALANCING_DEBIT | TransferFlags.LINKED),  # earlier years' part
        (AMOUNT_MAX, TransferFlags.BALANCING_DEBIT),  # the rest, to this year's
    ]
    assert world.balances("440100", giver) == (before[0] + 130_000, before[1] + 20_000)
    quota = ctx.ledger.lookup_accounts([chart.earmark(grant_id)])[chart.earmark(grant_id)]
    assert quota.credit_available == 0


def test_the_rollover_moves_what_is_left_when_it_posts(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.clock.set(datetime(2026, 12, 31, 16, 0, tzinfo=UTC))  # 2027-01-01 in Shanghai
    spend_before_posting(monkeypatch, "roll:", chart.personal_current("620100", SON), 45_000)

    moved = rollover.run_rollover(world.ctx, 2026)
    again = rollover.run_rollover(world.ctx, 2026)

    assert (moved, again) == (1, 0)
    assert world.balances("620100") == (0, 620_000 + 180_000 - 45_000)
    roll = rollover.rollover_transfer_id(2026, "620100", SON)
    assert world.recorded(roll)[roll].amount == 135_000
