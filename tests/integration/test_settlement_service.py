"""Settlement through the services (docs/rules.md §8), on both databases: worked examples by hand,
the payment order, idempotency, reversal, and concurrency against one grant.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine

from gongji.core.clock import ManualClock
from gongji.core.errors import GongjiError
from gongji.kernel.context import Context
from gongji.ledger.check import check_ledger
from gongji.mutual_aid.service import authorizations, grants
from gongji.mutual_aid.service.accounts import personal_account_view
from gongji.mutual_aid.service.wallet_view import wallet_view
from gongji.settlement.service.settlement import reverse, settle
from gongji.settlement.service.settlement_quote import quote
from gongji.settlement.store import settlements_repo
from support.desk import HOSPITAL, PHARMACY, bill, open_desks
from support.world import ELDER, at, build_context, give, insured, person_actor, relate, run

SON, MOTHER, WIFE = "P620100000001", "P370100000001", "P620100000002"


@dataclass
class Desk:
    ctx: Context
    clock: ManualClock

    def give(self, by: str, to: str, amount_fen: int) -> str:
        return give(self.ctx, by, to, amount_fen)

    def available(self, psn_no: str, region: str = "620100") -> int:
        view = run(self.ctx, lambda uow: personal_account_view(self.ctx, uow, region, psn_no))
        return view.available_fen

    def received(self, psn_no: str) -> int:
        return run(self.ctx, lambda uow: wallet_view(self.ctx, uow, psn_no)).received_total_fen


@pytest.fixture
def desk(engine: Engine) -> Iterator[Desk]:
    clock = ManualClock(at("2026-03-02 10:00:00"))
    ctx = build_context(engine, clock)
    open_desks(ctx)
    insured(ctx, SON, current=180_000, earlier=620_000, name="张建国")
    insured(ctx, MOTHER, region="370100", insutype="390", name="王桂兰", born=ELDER)
    insured(ctx, WIFE, current=5_000, name="李秀英")
    relate(ctx, SON, MOTHER, "parent")
    relate(ctx, SON, WIFE, "spouse")
    yield Desk(ctx, clock)


def test_own_account_pays_the_deductible_at_a_hospital(desk: Desk) -> None:
    # 310 × 11 (illustrative table): deductible 500.00, ratio 50 %. A 100.00 class A service is
    # all in scope and all under the deductible: the fund pays 0, the own account 100.00.
    row = run(
        desk.ctx,
        lambda uow: settle(
            desk.ctx, uow, bill(SON, "r1", ("TA", "1", 10_000), med_type="11", institution=HOSPITAL)
        ),
    )
    assert (row.medfee_sumamt, row.inscp_scp_amt, row.act_pay_dedc, row.fund_pay_sumamt) == (
        10_000,
        10_000,
        10_000,
        0,
    )
    assert (row.psn_part_amt, row.acct_pay, row.acct_mulaid_pay, row.psn_cash_pay) == (
        10_000,
        10_000,
        0,
        0,
    )
    assert row.balc == 790_000 == desk.available(SON)


def test_inpatient_and_outpatient_keep_their_own_deductibles_and_caps(desk: Desk) -> None:
    # Shipped illustrative tables, insutype 310: inpatient (pool "inpatient") deductible 1 000.00 at
    # 85 %; outpatient 11 and pharmacy 41 share pool "outpatient", deductible 500.00 at 50 %.
    def settled(
        request_id: str, price_fen: int, med_type: str, institution: str
    ) -> tuple[int, int]:
        request = bill(SON, request_id, ("TA", "1", price_fen), med_type=med_type,
                       institution=institution)  # fmt: skip
        row = run(desk.ctx, lambda uow: settle(desk.ctx, uow, request))
        return row.act_pay_dedc, row.fund_pay_sumamt

    # A 1 200.00 stay: 1 000.00 deductible, then 200.00 × 85 % = 170.00 from the fund.
    assert settled("stay", 120_000, "21", HOSPITAL) == (100_000, 17_000)
    # The stay used none of the outpatient deductible: a 100.00 visit is all under it.
    assert settled("visit", 10_000, "11", HOSPITAL) == (10_000, 0)
    # A pharmacy purchase shares the outpatient pool: 400.00 deductible left, 50.00 × 50 % = 25.00.
    assert settled("pharmacy", 45_000, "41", PHARMACY) == (40_000, 2_500)

    def used(pool: str) -> tuple[int, int]:
        return run(
            desk.ctx,
            lambda uow: settlements_repo.read_accumulator(uow.connection, SON, 2026, "310", pool),
        )

    assert (used("inpatient"), used("outpatient")) == ((100_000, 17_000), (50_000, 2_500))


def test_own_account_two_grants_an_authorization_and_cash(desk: Desk) -> None:
    # The wife (own 50.00) buys a 200.00 class B item with 100 % first self-pay at the hospital:
    # the fund pays nothing; she pays 50.00 from her own account, 30.00 and 20.00 from two
    # grants (oldest first), 25.00 through her husband's authorization, and 75.00 in cash.
    older = desk.give(SON, WIFE, 3_000)
    desk.clock.set(at("2026-03-02 11:00:00"))
    newer = desk.give(SON, WIFE, 2_000)
    run(desk.ctx, lambda uow: authorizations.bind(desk.ctx, uow, person_actor(SON), WIFE, 2_500))
    son_before = desk.available(SON)
    request = bill(WIFE, "mix-1", ("TB", "1", 20_000), med_type="11", institution=HOSPITAL)
    row = run(desk.ctx, lambda uow: settle(desk.ctx, uow, request))
    assert row.amounts() == {
        "medfee_sumamt": 20_000,
        "fulamt_ownpay_amt": 0,
        "overlmt_selfpay": 0,
        "preselfpay_amt": 20_000,
        "inscp_scp_amt": 0,
        "act_pay_dedc": 0,
        "hifp_pay": 0,
        "fund_pay_sumamt": 0,
        "hosp_part_amt": 0,
        "psn_part_amt": 20_000,
        "acct_pay": 12_500,
        "acct_mulaid_pay": 7_500,
        "psn_cash_pay": 7_500,
        "balc": 0,
    }
    draws = run(desk.ctx, lambda uow: settlements_repo.draws_of(uow.connection, row.setl_id))
    assert [(d.kind, d.source_id, d.amount_fen) for d in draws] == [
        ("own", WIFE, 5_000),
        ("grant", older, 3_000),
        ("grant", newer, 2_000),
        ("authorization", draws[3].source_id, 2_500),
    ]
    assert desk.available(SON) == son_before - 2_500
    assert desk.received(WIFE) == 0


def test_a_pharmacy_purchase_in_jinan_uses_the_sons_grant(desk: Desk) -> None:
    desk.give(SON, MOTHER, 50_000)
    # 390 × 41 (illustrative): no deductible, ratio 50 %. 120.00 class A: fund 60.00, and the
    # mother's 60.00 comes from the grant, since a resident has no account of her own.
    row = run(desk.ctx, lambda uow: settle(desk.ctx, uow, bill(MOTHER, "jn-1", ("TA", "2", 6_000))))
    assert (
        row.fund_pay_sumamt,
        row.psn_part_amt,
        row.acct_pay,
        row.acct_mulaid_pay,
        row.psn_cash_pay,
    ) == (6_000, 6_000, 6_000, 6_000, 0)
    assert desk.received(MOTHER) == 44_000
    assert check_ledger(desk.ctx.engine).ok


def test_shared_money_never_pays_what_it_may_not(desk: Desk) -> None:
    desk.give(SON, MOTHER, 50_000)
    request = bill(MOTHER, "jn-2", ("TC", "1", 3_000), ("TW", "1", 2_000))
    row = run(desk.ctx, lambda uow: settle(desk.ctx, uow, request))
    assert (row.fulamt_ownpay_amt, row.acct_pay, row.psn_cash_pay) == (5_000, 0, 5_000)
    assert desk.received(MOTHER) == 50_000


def test_the_same_request_twice_is_one_settlement(desk: Desk) -> None:
    request = bill(SON, "dup", ("TA", "1", 10_000), med_type="11", institution=HOSPITAL)
    first = run(desk.ctx, lambda uow: settle(desk.ctx, uow, request))
    again = run(desk.ctx, lambda uow: settle(desk.ctx, uow, request))
    assert first == again
    changed = bill(SON, "dup", ("TA", "2", 10_000), med_type="11", institution=HOSPITAL)
    with pytest.raises(GongjiError) as caught:
        run(desk.ctx, lambda uow: settle(desk.ctx, uow, changed))
    assert caught.value.code == "settlement_request_reused"


def test_reversal_restores_balances_accumulators_and_the_grant(desk: Desk) -> None:
    grant_id = desk.give(SON, MOTHER, 50_000)
    row = run(desk.ctx, lambda uow: settle(desk.ctx, uow, bill(MOTHER, "jn-3", ("TA", "2", 6_000))))

    def used() -> tuple[int, int]:
        return run(
            desk.ctx,
            lambda uow: settlements_repo.read_accumulator(
                uow.connection, MOTHER, 2026, "390", "outpatient"
            ),
        )

    assert row.benefit_pool == "outpatient"  # a pharmacy purchase draws on outpatient pooling
    assert used() == (row.act_pay_dedc, row.fund_pay_sumamt) != (0, 0)
    undone = run(desk.ctx, lambda uow: reverse(desk.ctx, uow, PHARMACY, row.setl_id, "jn-3-r"))
    assert undone.reverses == row.setl_id
    assert {k: -v for k, v in row.amounts().items() if k != "balc"} == {
        k: v for k, v in undone.amounts().items() if k != "balc"
    }
    assert desk.received(MOTHER) == 50_000
    assert used() == (0, 0)
    again = run(desk.ctx, lambda uow: reverse(desk.ctx, uow, PHARMACY, row.setl_id, "jn-3-r"))
    assert again == undone
    with pytest.raises(GongjiError) as caught:
        run(desk.ctx, lambda uow: reverse(desk.ctx, uow, PHARMACY, row.setl_id, "jn-3-r2"))
    assert caught.value.code == "settlement_already_reversed"
    with pytest.raises(GongjiError) as caught:
        run(desk.ctx, lambda uow: reverse(desk.ctx, uow, HOSPITAL, row.setl_id, "other"))
    assert caught.value.code == "not_found"
    assert grant_id


def test_a_reversal_after_the_grant_closed_returns_money_to_the_contributor(desk: Desk) -> None:
    grant_id = desk.give(SON, MOTHER, 10_000)
    row = run(desk.ctx, lambda uow: settle(desk.ctx, uow, bill(MOTHER, "jn-4", ("TA", "2", 6_000))))
    run(desk.ctx, lambda uow: grants.give_back(desk.ctx, uow, person_actor(MOTHER), grant_id))
    son_before = desk.available(SON)
    run(desk.ctx, lambda uow: reverse(desk.ctx, uow, PHARMACY, row.setl_id, "jn-4-r"))
    assert desk.available(SON) == son_before + 6_000


def test_refusals_write_nothing(desk: Desk) -> None:
    cases = [
        (bill(MOTHER, "x1", ("NOPE", "1", 100)), "item_unknown"),
        (bill(MOTHER, "x2", ("TA", "-1", 100)), "item_quantity_invalid"),
        (bill(MOTHER, "x3", ("TA", "1", 100), med_type="21"), "med_type_not_allowed"),
        (bill("P000", "x4", ("TA", "1", 100)), "not_found"),
    ]
    for request, code in cases:
        with pytest.raises(GongjiError) as caught:
            run(desk.ctx, lambda uow: settle(desk.ctx, uow, request))
        assert caught.value.code == code
    preview = run(desk.ctx, lambda uow: quote(desk.ctx, uow, bill(MOTHER, "q", ("TA", "1", 100))))
    assert preview.figures.medfee_sumamt == 100
    assert (
        run(desk.ctx, lambda uow: settlements_repo.by_request(uow.connection, PHARMACY, "q"))
        is None
    )


def test_thirty_concurrent_settlements_against_one_grant(desk: Desk) -> None:
    desk.give(SON, MOTHER, 10_000)
    paid_by_grant: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(30)

    def buy(number: int) -> None:
        barrier.wait()
        try:
            row = run(
                desk.ctx,
                lambda uow: settle(desk.ctx, uow, bill(MOTHER, f"c{number}", ("TB", "1", 1_000))),
            )
            paid_by_grant.append(row.acct_mulaid_pay)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=buy, args=(n,)) for n in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(paid_by_grant) == [0] * 20 + [1_000] * 10
    assert desk.received(MOTHER) == 0
    assert check_ledger(desk.ctx.engine).ok
