"""Properties of the settlement arithmetic over random bills, accumulators and balances.

For any bill, rule, year-to-date, policy, balances and payment order: the identities of
docs/rules.md §8 hold, nothing is negative, parts add up, accounts never pay more than the
account-payable amount and no source pays more than it holds.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from gongji.settlement.domain.benefits import BenefitRule
from gongji.settlement.domain.compute import (
    SettlementFigures,
    YearToDate,
    compute_settlement,
    split_by_weights,
)
from gongji.settlement.domain.items import (
    AccountPayPolicy,
    BillLine,
    CatalogueItem,
    ItemCategory,
    ItemClass,
    adjudicate_line,
)
from gongji.settlement.domain.payment import (
    PaymentPlan,
    PaymentStep,
    SharedKind,
    SharedSource,
    plan_payment,
)

PROPERTY = settings(derandomize=True, max_examples=300, deadline=None)


def hundredths(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda n: Decimal(n).scaleb(-2))


items = st.builds(
    CatalogueItem,
    code=st.sampled_from(["X1", "X2", "X3"]),
    name=st.just("item"),
    item_class=st.sampled_from(ItemClass),
    category=st.sampled_from(ItemCategory),
    selfpay_prop=hundredths(0, 100),
    price_ceiling_fen=st.none() | st.integers(0, 200_000),
    account_payable=st.booleans(),
    in_catalogue=st.booleans(),
)
lines = st.builds(
    BillLine,
    item=items,
    quantity=st.integers(1, 1_000_000).map(lambda n: Decimal(n).scaleb(-4)),
    unit_price_fen=st.integers(0, 500_000),
)
bills = st.lists(lines, min_size=1, max_size=8)
rules = st.builds(
    BenefitRule,
    deductible_fen=st.integers(0, 200_000),
    ratio=hundredths(0, 100),
    annual_cap_fen=st.integers(0, 2_000_000),
)
years = st.builds(
    YearToDate, deductible_used_fen=st.integers(0, 250_000), fund_paid_fen=st.integers(0, 2_500_000)
)
policies = st.builds(AccountPayPolicy, st.booleans(), st.booleans())
sources = st.lists(
    st.builds(
        SharedSource,
        kind=st.sampled_from(SharedKind),
        source_id=st.uuids().map(str),
        available_fen=st.integers(0, 300_000),
    ),
    max_size=5,
    unique_by=lambda s: s.source_id,
)
orders = st.permutations(
    [PaymentStep.OWN_ACCOUNT, PaymentStep.GRANTS, PaymentStep.AUTHORIZATIONS]
).map(lambda steps: (*steps, PaymentStep.CASH))


def assert_settlement_identities(f: SettlementFigures, ytd: YearToDate, rule: BenefitRule) -> None:
    assert f.medfee_sumamt == (
        f.fulamt_ownpay_amt + f.overlmt_selfpay + f.preselfpay_amt + f.inscp_scp_amt
    )
    assert f.medfee_sumamt == f.fund_pay_sumamt + f.psn_part_amt + f.hosp_part_amt
    assert f.fund_pay_sumamt == f.hifp_pay
    assert f.act_pay_dedc == min(f.inscp_scp_amt, ytd.deductible_left_fen(rule))
    assert f.hifp_pay <= ytd.cap_left_fen(rule)
    assert f.payable_by_accounts_fen >= (
        f.preselfpay_amt + f.act_pay_dedc + (f.inscp_scp_amt - f.act_pay_dedc - f.hifp_pay)
    )
    assert 0 <= f.account_payable_fen <= f.payable_by_accounts_fen <= f.psn_part_amt
    assert f.year_to_date_after == YearToDate(
        ytd.deductible_used_fen + f.act_pay_dedc, ytd.fund_paid_fen + f.hifp_pay
    )
    amounts = (
        f.medfee_sumamt, f.fulamt_ownpay_amt, f.overlmt_selfpay, f.preselfpay_amt,
        f.inscp_scp_amt, f.act_pay_dedc, f.hifp_pay, f.psn_part_amt,
    )  # fmt: skip
    assert min(amounts) >= 0


def assert_items_add_up(f: SettlementFigures) -> None:
    assert sum(i.figures.det_item_fee_sumamt for i in f.items) == f.medfee_sumamt
    assert sum(i.inscp_personal_fen for i in f.items) == f.inscp_scp_amt - f.hifp_pay
    assert sum(i.account_payable_fen for i in f.items) == f.account_payable_fen
    for i in f.items:
        burden = i.figures.det_item_fee_sumamt - i.figures.inscp_scp_amt + i.inscp_personal_fen
        assert 0 <= i.inscp_personal_fen <= i.figures.inscp_scp_amt
        assert 0 <= i.account_payable_fen <= burden
        if not i.figures.account_eligible:
            assert i.account_payable_fen == 0


def assert_plan_ok(
    plan: PaymentPlan,
    f: SettlementFigures,
    own: int | None,
    offered: list[SharedSource],
    use_mutual_aid: bool,
) -> None:
    assert plan.psn_part_amt == f.psn_part_amt == plan.acct_pay + plan.psn_cash_pay
    assert 0 <= plan.acct_mulaid_pay <= plan.acct_pay <= f.account_payable_fen
    assert plan.acct_pay == plan.own_acct_pay_fen + plan.acct_mulaid_pay
    assert plan.acct_mulaid_pay == sum(d.amount_fen for d in plan.draws)
    assert 0 <= plan.own_acct_pay_fen <= (own or 0)
    assert plan.psn_cash_pay >= 0
    available = {(s.kind, s.source_id): s.available_fen for s in offered}
    for draw in plan.draws:
        assert 0 < draw.amount_fen <= available[(draw.kind, draw.source_id)]
    # The waterfall draws as much as it may: all it is allowed, or everything there is.
    usable = (own or 0) + (sum(available.values()) if use_mutual_aid else 0)
    assert plan.acct_pay == min(f.account_payable_fen, usable)
    assert f.medfee_sumamt == f.fund_pay_sumamt + plan.acct_pay + plan.psn_cash_pay


@PROPERTY
@given(
    bill=bills,
    rule=rules,
    ytd=years,
    policy=policies,
    own=st.none() | st.integers(0, 300_000),
    offered=sources,
    order=orders,
    use_mutual_aid=st.booleans(),
)
def test_settlement_and_payment_identities(
    bill: list[BillLine],
    rule: BenefitRule,
    ytd: YearToDate,
    policy: AccountPayPolicy,
    own: int | None,
    offered: list[SharedSource],
    order: tuple[PaymentStep, ...],
    use_mutual_aid: bool,
) -> None:
    f = compute_settlement(bill, rule, ytd, policy)
    assert_settlement_identities(f, ytd, rule)
    assert_items_add_up(f)
    plan = plan_payment(
        f.psn_part_amt, f.account_payable_fen, own, offered, order, use_mutual_aid=use_mutual_aid
    )
    assert_plan_ok(plan, f, own, offered, use_mutual_aid)


@PROPERTY
@given(line=lines)
def test_item_parts_add_up(line: BillLine) -> None:
    f = adjudicate_line(line)
    parts = (f.fulamt_ownpay_amt, f.overlmt_amt, f.preselfpay_amt, f.inscp_scp_amt)
    assert min(parts) >= 0
    assert sum(parts) == f.det_item_fee_sumamt
    exact = line.quantity * line.unit_price_fen
    assert abs(f.det_item_fee_sumamt - exact) <= Decimal("0.5")
    if line.item.wholly_self_paid:
        assert f.preselfpay_amt == f.inscp_scp_amt == 0
    if line.item.item_class is not ItemClass.B:
        assert f.preselfpay_amt == 0


@PROPERTY
@given(
    total=st.integers(0, 10**9),
    weights=st.lists(st.integers(0, 10**9), min_size=1, max_size=20),
)
def test_split_by_weights_adds_up_and_stays_within_a_fen(total: int, weights: list[int]) -> None:
    weight_sum = sum(weights)
    if weight_sum == 0:
        total = 0
    parts = split_by_weights(total, weights)
    assert sum(parts) == total
    assert min(parts) >= 0
    for part, weight in zip(parts, weights, strict=True):
        exact = Decimal(total * weight) / Decimal(weight_sum) if weight_sum else Decimal(0)
        assert abs(part - exact) < 1
        if total <= weight_sum:
            assert part <= weight
