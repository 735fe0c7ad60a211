"""Per-item adjudication (docs/rules.md §8) and what account money may pay of an item (§7).

Every expected figure is worked out by hand in the comment above it, in fen.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from gongji.core.errors import GongjiError, InvariantViolation
from gongji.settlement.domain.items import (
    BILL_LINES_MAX,
    AccountPayPolicy,
    BillEmpty,
    BillLine,
    BillTooLong,
    CatalogueItem,
    CatalogueItemInvalid,
    ItemCategory,
    ItemClass,
    ItemFigures,
    ItemPriceInvalid,
    ItemQuantityInvalid,
    account_payable_part,
    adjudicate_bill,
    adjudicate_line,
    build_bill_lines,
    multiply_half_up_fen,
)

D = Decimal


def item(
    item_class: ItemClass = ItemClass.A,
    category: ItemCategory = ItemCategory.DRUG,
    *,
    prop: str = "0",
    ceiling: int | None = None,
    account_payable: bool = True,
    in_catalogue: bool = True,
    code: str = "X01",
) -> CatalogueItem:
    return CatalogueItem(
        code=code,
        name="测试项目",
        item_class=item_class,
        category=category,
        selfpay_prop=D(prop),
        price_ceiling_fen=ceiling,
        account_payable=account_payable,
        in_catalogue=in_catalogue,
    )


def parts(figures: ItemFigures) -> tuple[int, int, int, int, int]:
    """(price, full self-pay, over-limit, first self-pay, in-scope)."""
    return (
        figures.det_item_fee_sumamt,
        figures.fulamt_ownpay_amt,
        figures.overlmt_amt,
        figures.preselfpay_amt,
        figures.inscp_scp_amt,
    )


# --- each class -----------------------------------------------------------------------------


def test_class_a_is_wholly_in_scope() -> None:
    # 12.50 yuan × 2 = 1250 × 2 = 2500 fen, all in scope.
    figures = adjudicate_line(BillLine(item(ItemClass.A), D(2), 1250))
    assert parts(figures) == (2500, 0, 0, 0, 2500)


def test_class_b_pays_first_selfpay_then_in_scope() -> None:
    # 3333 × 3 = 9999; first self-pay 9999 × 0.1 = 999.9 → 1000 (half up); in scope 9999 − 1000.
    figures = adjudicate_line(BillLine(item(ItemClass.B, prop="0.1"), D(3), 3333))
    assert parts(figures) == (9999, 0, 0, 1000, 8999)


def test_class_b_first_selfpay_rounds_half_up_not_to_even() -> None:
    # 10 × 0.05 = 0.5 → 1 (banker's rounding would give 0); in scope 10 − 1 = 9.
    figures = adjudicate_line(BillLine(item(ItemClass.B, prop="0.05"), D(1), 10))
    assert parts(figures) == (10, 0, 0, 1, 9)


def test_class_a_ignores_a_selfpay_prop() -> None:
    # The ratio is read for class B only: 1000 stays wholly in scope.
    figures = adjudicate_line(BillLine(item(ItemClass.A, prop="0.2"), D(1), 1000))
    assert parts(figures) == (1000, 0, 0, 0, 1000)


def test_class_c_is_full_selfpay() -> None:
    # 5000 × 1, class C: all 5000 is full self-pay.
    figures = adjudicate_line(BillLine(item(ItemClass.C, ItemCategory.SERVICE), D(1), 5000))
    assert parts(figures) == (5000, 5000, 0, 0, 0)


def test_out_of_catalogue_is_full_selfpay_whatever_its_class() -> None:
    # 1200 × 1.5 = 1800; out of catalogue → 1800 full self-pay although marked class A/B.
    for item_class in (ItemClass.A, ItemClass.B):
        thing = item(item_class, ItemCategory.CONSUMABLE, prop="0.1", in_catalogue=False)
        assert parts(adjudicate_line(BillLine(thing, D("1.5"), 1200))) == (1800, 1800, 0, 0, 0)


# --- price ceilings -------------------------------------------------------------------------


def test_class_a_over_ceiling() -> None:
    # price 10000, ceiling 8000 × 1 = 8000: over-limit 2000, in scope 8000.
    figures = adjudicate_line(BillLine(item(ceiling=8000), D(1), 10000))
    assert parts(figures) == (10000, 0, 2000, 0, 8000)


def test_class_b_over_ceiling_with_fractional_quantity() -> None:
    # price 333 × 2.5 = 832.5 → 833; ceiling 250 × 2.5 = 625; over-limit 833 − 625 = 208;
    # first self-pay 625 × 0.2 = 125; in scope 625 − 125 = 500. 208 + 125 + 500 = 833.
    thing = item(ItemClass.B, prop="0.2", ceiling=250)
    assert parts(adjudicate_line(BillLine(thing, D("2.5"), 333))) == (833, 0, 208, 125, 500)


def test_class_c_over_ceiling_keeps_over_limit_apart() -> None:
    # price 2000 × 2 = 4000, ceiling 1500 × 2 = 3000: over-limit 1000, full self-pay 3000.
    thing = item(ItemClass.C, ItemCategory.DEVICE, ceiling=1500)
    assert parts(adjudicate_line(BillLine(thing, D(2), 2000))) == (4000, 3000, 1000, 0, 0)


def test_out_of_catalogue_over_ceiling_keeps_over_limit_apart() -> None:
    # price 900, ceiling 600: over-limit 300, full self-pay 600.
    thing = item(ceiling=600, in_catalogue=False)
    assert parts(adjudicate_line(BillLine(thing, D(1), 900))) == (900, 600, 300, 0, 0)


def test_under_or_at_ceiling_has_no_over_limit() -> None:
    # 3000 under a 5000 ceiling, and 5000 at it: nothing over the limit.
    under = adjudicate_line(BillLine(item(ceiling=5000), D(1), 3000))
    at = adjudicate_line(BillLine(item(ceiling=5000), D(1), 5000))
    assert parts(under) == (3000, 0, 0, 0, 3000)
    assert parts(at) == (5000, 0, 0, 0, 5000)


def test_zero_ceiling_puts_all_over_limit() -> None:
    # ceiling 0: the fund recognises nothing, all 700 is over the limit.
    assert parts(adjudicate_line(BillLine(item(ceiling=0), D(1), 700))) == (700, 0, 700, 0, 0)


# --- quantities and prices ------------------------------------------------------------------


def test_four_decimal_quantities_round_per_item() -> None:
    # 1000 × 0.3333 = 333.3 → 333; 1000 × 0.0005 = 0.5 → 1; 1000 × 1.00000 = 1000.
    assert adjudicate_line(BillLine(item(), D("0.3333"), 1000)).det_item_fee_sumamt == 333
    assert adjudicate_line(BillLine(item(), D("0.0005"), 1000)).det_item_fee_sumamt == 1
    assert adjudicate_line(BillLine(item(), D("1.00000"), 1000)).det_item_fee_sumamt == 1000


def test_zero_price_is_allowed() -> None:
    assert parts(adjudicate_line(BillLine(item(), D(1), 0))) == (0, 0, 0, 0, 0)


@pytest.mark.parametrize(
    "quantity",
    [D(0), D(-1), D("-0.5"), D("1.00001"), D("NaN"), D("Infinity"), D(1_000_001), 1.5, 2, "1"],
)
def test_bad_quantity_is_refused(quantity: object) -> None:
    with pytest.raises(ItemQuantityInvalid) as caught:
        BillLine(item(code="Q1"), quantity, 100)  # type: ignore[arg-type]
    assert caught.value.code == "item_quantity_invalid"
    assert caught.value.detail["item_code"] == "Q1"


@pytest.mark.parametrize("price", [-1, 1.5, True, 10**11 + 1, "100"])
def test_bad_unit_price_is_refused(price: object) -> None:
    with pytest.raises(ItemPriceInvalid) as caught:
        BillLine(item(), D(1), price)  # type: ignore[arg-type]
    assert caught.value.code == "item_price_invalid"


@pytest.mark.parametrize(
    ("prop", "ceiling", "code", "field"),
    [
        (D("1.1"), None, "X", "selfpay_prop"),
        (D("-0.1"), None, "X", "selfpay_prop"),
        (0.1, None, "X", "selfpay_prop"),
        (D("NaN"), None, "X", "selfpay_prop"),
        (D(0), -1, "X", "price_ceiling_fen"),
        (D(0), 1.5, "X", "price_ceiling_fen"),
        (D(0), None, "", "code"),
    ],
)
def test_bad_catalogue_item_is_refused(
    prop: object, ceiling: object, code: str, field: str
) -> None:
    with pytest.raises(CatalogueItemInvalid) as caught:
        CatalogueItem(code, "x", ItemClass.B, ItemCategory.DRUG, prop, ceiling)  # type: ignore[arg-type]
    assert caught.value.code == "catalogue_item_invalid"
    assert caught.value.detail["field"] == field


def test_build_bill_lines_reports_every_bad_line_with_its_index() -> None:
    good = item(code="G")
    lines, problems = build_bill_lines(
        [(good, D(1), 100), (item(code="B1"), D(0), 100), (good, D(2), 5), (good, D(1), -3)]
    )
    assert [line.unit_price_fen for line in lines] == [100, 5]
    assert [(p.code, p.detail["line"]) for p in problems] == [
        ("item_quantity_invalid", 1),
        ("item_price_invalid", 3),
    ]
    assert all(isinstance(p, GongjiError) for p in problems)


def test_bill_must_not_be_empty_or_too_long() -> None:
    with pytest.raises(BillEmpty):
        adjudicate_bill([])
    line = BillLine(item(), D(1), 1)
    with pytest.raises(BillTooLong) as caught:
        adjudicate_bill([line] * (BILL_LINES_MAX + 1))
    assert caught.value.code == "bill_too_long"
    assert len(adjudicate_bill([line] * 3)) == 3
    _, problems = build_bill_lines([(item(), D(1), 1)] * (BILL_LINES_MAX + 1))
    assert [p.code for p in problems] == ["bill_too_long"]


# --- what account money may pay -------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "flag", "eligible"),
    [
        (ItemCategory.DRUG, True, True),
        (ItemCategory.DEVICE, True, True),
        (ItemCategory.CONSUMABLE, True, True),
        (ItemCategory.SERVICE, True, True),
        (ItemCategory.EXAMINATION, True, True),
        (ItemCategory.DRUG, False, False),
        (ItemCategory.WELLNESS, True, False),
        (ItemCategory.PUBLIC_HEALTH, True, False),
        (ItemCategory.FITNESS, True, False),
    ],
)
def test_account_eligibility(category: ItemCategory, flag: bool, eligible: bool) -> None:
    thing = item(category=category, account_payable=flag)
    assert thing.account_eligible is eligible
    assert adjudicate_line(BillLine(thing, D(1), 100)).account_eligible is eligible


def test_account_part_by_default_is_first_selfpay_and_in_scope_share() -> None:
    # Class B, prop 0.2, ceiling 250, qty 2.5, price 333: full 0, over 208, first 125, in 500.
    # Say the settlement leaves 300 of the 500 in scope with the person:
    # default → 125 + 300 = 425; with over-limit allowed → 425 + 208 = 633.
    figures = adjudicate_line(BillLine(item(ItemClass.B, prop="0.2", ceiling=250), D("2.5"), 333))
    assert account_payable_part(figures, 300, AccountPayPolicy()) == 425
    allow_over = AccountPayPolicy(account_may_pay_overlimit=True)
    assert account_payable_part(figures, 300, allow_over) == 633


def test_account_part_of_full_selfpay_only_when_allowed() -> None:
    # Class C, ceiling 1500, qty 2, price 2000: full 3000, over 1000.
    figures = adjudicate_line(BillLine(item(ItemClass.C, ceiling=1500), D(2), 2000))
    assert account_payable_part(figures, 0, AccountPayPolicy()) == 0
    allow_full = AccountPayPolicy(account_may_pay_full_selfpay=True)
    assert account_payable_part(figures, 0, allow_full) == 3000
    allow_both = AccountPayPolicy(True, True)
    assert account_payable_part(figures, 0, allow_both) == 4000


def test_ineligible_item_gets_nothing_from_accounts_even_when_policy_is_wide() -> None:
    figures = adjudicate_line(BillLine(item(ItemClass.C, ItemCategory.WELLNESS), D(1), 8800))
    assert account_payable_part(figures, 0, AccountPayPolicy(True, True)) == 0


def test_account_part_refuses_a_share_larger_than_the_in_scope_amount() -> None:
    figures = adjudicate_line(BillLine(item(), D(1), 100))
    with pytest.raises(InvariantViolation):
        account_payable_part(figures, 101, AccountPayPolicy())


def test_item_class_national_codes() -> None:
    assert [c.national_code for c in ItemClass] == ["01", "02", "03"]


def test_half_up_helper() -> None:
    assert multiply_half_up_fen(1, D("0.5")) == 1
    assert multiply_half_up_fen(3, D("0.5")) == 2
    assert multiply_half_up_fen(5, D("0.49")) == 2  # 2.45 → 2
    # 10^11 × 999999.9999 = 99 999 999 990 000 000 exactly (no float, no context rounding).
    assert multiply_half_up_fen(10**11, D("999999.9999")) == 99_999_999_990_000_000


def test_a_line_may_not_exceed_the_largest_amount() -> None:
    # 10^11 fen × 100 = 10^13 is the largest line; 10^11 × 100.0001 is over it.
    assert adjudicate_line(BillLine(item(), D(100), 10**11)).det_item_fee_sumamt == 10**13
    with pytest.raises(ItemPriceInvalid):
        BillLine(item(), D("100.0001"), 10**11)
