"""The payment waterfall (docs/rules.md §8): own account, grants, authorizations, cash.

Every expected figure is worked out by hand in the comment above it, in fen.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from gongji.core.errors import InvariantViolation
from gongji.institutions.domain.institutions import InstitutionLevel
from gongji.settlement.domain.benefits import Employment, hefei_example_table
from gongji.settlement.domain.compute import YearToDate, compute_settlement
from gongji.settlement.domain.items import BillLine, CatalogueItem, ItemCategory, ItemClass
from gongji.settlement.domain.payment import (
    SHARED_SOURCES_MAX,
    PaymentOrderInvalid,
    PaymentPlan,
    PaymentSourcesTooMany,
    PaymentStep,
    SharedKind,
    SharedSource,
    SourceDraw,
    check_plan,
    parse_payment_order,
    plan_payment,
)

GRANT, AUTH = SharedKind.GRANT, SharedKind.AUTHORIZATION
OWN, GRANTS, AUTHS, CASH = (
    PaymentStep.OWN_ACCOUNT,
    PaymentStep.GRANTS,
    PaymentStep.AUTHORIZATIONS,
    PaymentStep.CASH,
)
SOURCES = (
    SharedSource(GRANT, "g-2025-001", 2000),  # the older grant
    SharedSource(GRANT, "g-2025-007", 4000),
    SharedSource(AUTH, "a-1", 10000),
)


def test_own_account_two_grants_an_authorization_and_cash() -> None:
    # The med_type 11 example of test_settlement_compute: psn 20600, accounts may pay 11800.
    # Own account 3000 → 3000 (8800 left to accounts); grant g-001 2000 → 2000 (6800 left);
    # grant g-007 4000 → 4000 (2800 left); authorization a-1 10000 → 2800 (0 left).
    # acct_pay 3000 + 8800 = 11800; acct_mulaid_pay 8800; cash 20600 − 11800 = 8800.
    a, b, c = ItemClass.A, ItemClass.B, ItemClass.C
    drug, exam = ItemCategory.DRUG, ItemCategory.EXAMINATION
    l1 = CatalogueItem("L1", "A drug", a, drug)
    l2 = CatalogueItem("L2", "B drug", b, drug, selfpay_prop=Decimal("0.1"))
    l3 = CatalogueItem("L3", "C service", c, ItemCategory.SERVICE)
    l4 = CatalogueItem("L4", "not listed", a, ItemCategory.CONSUMABLE, in_catalogue=False)
    l5 = CatalogueItem("L5", "A exam", a, exam, price_ceiling_fen=8000)
    bill = [
        BillLine(l1, Decimal(2), 1250),
        BillLine(l2, Decimal(3), 3333),
        BillLine(l3, Decimal(1), 5000),
        BillLine(l4, Decimal("1.5"), 1200),
        BillLine(l5, Decimal(1), 10000),
    ]
    rule = hefei_example_table().lookup("310", "11", InstitutionLevel.PRIMARY, Employment.EMPLOYED)
    figures = compute_settlement(bill, rule, YearToDate(15_000, 0))
    assert (figures.psn_part_amt, figures.account_payable_fen) == (20600, 11800)

    plan = plan_payment(figures.psn_part_amt, figures.account_payable_fen, 3000, SOURCES)

    assert plan == PaymentPlan(
        psn_part_amt=20600,
        acct_pay=11800,
        acct_mulaid_pay=8800,
        own_acct_pay_fen=3000,
        psn_cash_pay=8800,
        draws=(
            SourceDraw(GRANT, "g-2025-001", 2000),
            SourceDraw(GRANT, "g-2025-007", 4000),
            SourceDraw(AUTH, "a-1", 2800),
        ),
    )
    assert figures.medfee_sumamt == figures.fund_pay_sumamt + plan.acct_pay + plan.psn_cash_pay


def test_acct_used_flag_0_leaves_own_account_alone() -> None:
    # No own account: grants 2000 + 4000, authorization 5800 → 11800; cash 20600 − 11800.
    plan = plan_payment(20600, 11800, None, SOURCES)
    assert (plan.own_acct_pay_fen, plan.acct_mulaid_pay, plan.acct_pay) == (0, 11800, 11800)
    assert plan.psn_cash_pay == 8800
    assert [d.amount_fen for d in plan.draws] == [2000, 4000, 5800]


def test_no_mutual_aid_uses_own_account_only() -> None:
    # Own 3000 of 11800; the other 17600 in cash.
    plan = plan_payment(20600, 11800, 3000, SOURCES, use_mutual_aid=False)
    assert (plan.acct_pay, plan.acct_mulaid_pay, plan.psn_cash_pay, plan.draws) == (
        3000, 0, 17600, (),
    )  # fmt: skip


def test_shared_money_first_when_configured() -> None:
    # Grants, then authorizations, then own: 2000 + 4000 + a-1 5800 = 11800, own account 0.
    order = (GRANTS, AUTHS, OWN, CASH)
    plan = plan_payment(20600, 11800, 3000, SOURCES, order)
    assert [d.amount_fen for d in plan.draws] == [2000, 4000, 5800]
    assert (plan.own_acct_pay_fen, plan.acct_pay, plan.psn_cash_pay) == (0, 11800, 8800)
    plan = plan_payment(20600, 11800, 3000, (*SOURCES[:2], SharedSource(AUTH, "a-1", 5000)), order)
    # grants 6000, authorization 5000 → 11000; own 800; cash 20600 − 11800 = 8800.
    assert (plan.own_acct_pay_fen, plan.acct_mulaid_pay, plan.psn_cash_pay) == (800, 11000, 8800)


def test_authorizations_before_grants_when_configured() -> None:
    # a-1 holds 10000 → 10000; then g-001 pays the 1800 left; g-007 and own untouched.
    plan = plan_payment(20600, 11800, 3000, SOURCES, (AUTHS, GRANTS, OWN))
    assert plan.draws == (SourceDraw(AUTH, "a-1", 10000), SourceDraw(GRANT, "g-2025-001", 1800))
    assert (plan.own_acct_pay_fen, plan.psn_cash_pay) == (0, 8800)


def test_sources_too_small_leave_the_rest_in_cash() -> None:
    # Accounts may pay 50000 but hold 1000 + 2000 + 4000 + 10000 = 17000; cash 60000 − 17000.
    plan = plan_payment(60000, 50000, 1000, SOURCES)
    assert (plan.acct_pay, plan.acct_mulaid_pay, plan.psn_cash_pay) == (17000, 16000, 43000)


def test_nothing_account_payable_is_all_cash() -> None:
    plan = plan_payment(5000, 0, 3000, SOURCES)
    assert (plan.acct_pay, plan.acct_mulaid_pay, plan.psn_cash_pay, plan.draws) == (
        0, 0, 5000, (),
    )  # fmt: skip


def test_nothing_to_pay() -> None:
    plan = plan_payment(0, 0, None, ())
    assert (plan.acct_pay, plan.psn_cash_pay) == (0, 0)


def test_cash_step_may_be_left_implicit() -> None:
    assert plan_payment(100, 100, 40, (), (OWN,)).psn_cash_pay == 60


@pytest.mark.parametrize(
    "order",
    [(OWN, OWN, CASH), (OWN, CASH, GRANTS), (CASH, OWN), ("own_account", CASH)],
)
def test_bad_payment_order_is_refused(order: tuple[PaymentStep, ...]) -> None:
    with pytest.raises(PaymentOrderInvalid) as caught:
        plan_payment(100, 100, 40, (), order)
    assert caught.value.code == "payment_order_invalid"


def test_parse_payment_order() -> None:
    assert parse_payment_order(["grants", "own_account", "cash"]) == (GRANTS, OWN, CASH)
    for bad in (["own_account", "bank"], ["cash", "grants"], ["grants", "grants"]):
        with pytest.raises(PaymentOrderInvalid):
            parse_payment_order(bad)


def test_bad_inputs_are_bugs() -> None:
    with pytest.raises(InvariantViolation):
        plan_payment(100, 101, 0, ())  # accounts may not pay more than the person owes
    with pytest.raises(InvariantViolation):
        plan_payment(100, -1, 0, ())
    with pytest.raises(InvariantViolation):
        plan_payment(100, 50, -1, ())
    with pytest.raises(InvariantViolation):
        plan_payment(100, 50, 0, (SOURCES[0], SOURCES[0]))
    with pytest.raises(InvariantViolation):
        SharedSource(GRANT, "g", -1)
    with pytest.raises(InvariantViolation):
        SharedSource(GRANT, "", 1)


def test_too_many_sources_are_refused() -> None:
    sources = [SharedSource(GRANT, f"g{i}", 1) for i in range(SHARED_SOURCES_MAX + 1)]
    with pytest.raises(PaymentSourcesTooMany) as caught:
        plan_payment(10, 10, None, sources)
    assert caught.value.code == "payment_sources_too_many"


def test_check_plan_catches_overdrawn_sources() -> None:
    plan = plan_payment(20600, 11800, 3000, SOURCES)
    check_plan(plan, 11800, 3000, SOURCES)
    smaller = (SharedSource(GRANT, "g-2025-001", 1999), *SOURCES[1:])
    with pytest.raises(InvariantViolation):
        check_plan(plan, 11800, 3000, smaller)
    with pytest.raises(InvariantViolation):
        check_plan(plan, 11799, 3000, SOURCES)
    with pytest.raises(InvariantViolation):
        check_plan(plan, 11800, None, SOURCES)
