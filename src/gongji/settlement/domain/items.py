"""Catalogue items, bill lines and the per-item adjudication of docs/rules.md §8.

Each line is rounded half up to the fen on its own, as the national platform does, so the
settlement totals are plain sums of integers and the four parts of every line add up to its
price exactly: ``price = full self-pay + over-limit + first self-pay + in-scope``.

This module also says, per item, which parts of the personal burden account money may pay
(docs/rules.md §7): never items outside basic medical insurance (wellness, public health, fitness)
or items flagged as not account-payable, and by default neither the full self-pay nor the
over-limit part, which are paid in cash. How much of an item's in-scope part stays with the
person depends on the whole settlement (deductible, ratio, cap), so that share comes from
:mod:`~gongji.settlement.domain.compute`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum
from typing import Final

from gongji.core.errors import GongjiError, InvariantViolation

QUANTITY_MAX: Final = Decimal(1_000_000)
"""Largest quantity on one line; more is a unit mix-up (fen for yuan, ml for l)."""

QUANTITY_DECIMALS_MAX: Final = 4
"""Quantities may have up to four decimals (0.0001 of a box, of a gram, of a day)."""

UNIT_PRICE_FEN_MAX: Final = 10**11
"""Largest unit price: 1 000 000 000.00 yuan. Keeps every product far inside a BIGINT."""

LINE_AMOUNT_FEN_MAX: Final = 10**13
"""Largest price of one line (unit price × quantity): 100 000 000 000.00 yuan, the largest amount
gongji accepts anywhere. With :data:`BILL_LINES_MAX` it keeps a bill's total inside a BIGINT."""

BILL_LINES_MAX: Final = 20_000
"""Most lines one settlement may carry; a long inpatient stay stays far below it."""

_ONE: Final = Decimal(1)
_PRODUCT_PRECISION: Final = 80  # digits: exact for any accepted amount × any sane ratio
_QUANTITY_STEP: Final = Decimal(1).scaleb(-QUANTITY_DECIMALS_MAX)


class ItemQuantityInvalid(GongjiError):
    """A line's quantity is not a Decimal > 0 with at most four decimals, or is absurdly large."""

    code = "item_quantity_invalid"
    message_zh = "项目数量不正确：{item_code} {quantity}"
    message_en = "Invalid quantity for item {item_code}: {quantity}"


class ItemPriceInvalid(GongjiError):
    """A line's unit price is not a whole number of fen ≥ 0, or is absurdly large."""

    code = "item_price_invalid"
    message_zh = "项目单价不正确：{item_code} {unit_price_fen}"
    message_en = "Invalid unit price for item {item_code}: {unit_price_fen}"


class CatalogueItemInvalid(GongjiError):
    """A catalogue entry breaks a rule (self-pay ratio outside [0, 1], negative ceiling …)."""

    code = "catalogue_item_invalid"
    message_zh = "目录项目 {item_code} 的 {field} 不正确"
    message_en = "Catalogue item {item_code} has an invalid {field}"


class BillEmpty(GongjiError):
    """A settlement needs at least one line; an empty bill is a client mistake."""

    code = "bill_empty"
    message_zh = "结算明细为空"
    message_en = "The bill has no lines"


class BillTooLong(GongjiError):
    """More lines than :data:`BILL_LINES_MAX` in one settlement."""

    code = "bill_too_long"
    message_zh = "结算明细超过 {limit} 条"
    message_en = "The bill has more than {limit} lines"


class ItemClass(StrEnum):
    """Catalogue class (收费项目等级 ``chrgitm_lv``): 甲类 A, 乙类 B, 丙类 C."""

    A = "A"
    B = "B"
    C = "C"

    @property
    def national_code(self) -> str:
        """The national code table's value: ``01`` 甲类, ``02`` 乙类, ``03`` 丙类."""
        return {"A": "01", "B": "02", "C": "03"}[self.value]


class ItemCategory(StrEnum):
    """What an item is; the last three are outside basic medical insurance (docs/rules.md §7)."""

    DRUG = "drug"
    DEVICE = "device"
    CONSUMABLE = "consumable"
    SERVICE = "service"
    EXAMINATION = "examination"
    WELLNESS = "wellness"
    PUBLIC_HEALTH = "public_health"
    FITNESS = "fitness"


ACCOUNT_EXCLUDED_CATEGORIES: Final = frozenset(
    {ItemCategory.WELLNESS, ItemCategory.PUBLIC_HEALTH, ItemCategory.FITNESS}
)
"""Categories account money may never pay, whatever the item's own flag says."""


@dataclass(frozen=True)
class AccountPayPolicy:
    """Which parts of an item's personal burden account money may pay besides the in-scope ones.

    docs/rules.md §7: full self-pay (全自费) and over-limit (超限价) amounts are paid in cash by
    default; a region may allow its accounts to pay them.
    """

    account_may_pay_full_selfpay: bool = False
    account_may_pay_overlimit: bool = False


DEFAULT_ACCOUNT_POLICY: Final = AccountPayPolicy()


@dataclass(frozen=True)
class CatalogueItem:
    """One entry of the medical-insurance catalogue, as the patient's scheme sees it.

    ``selfpay_prop`` (先行自付比例) is read for class B only; ``price_ceiling_fen`` is the most the
    fund recognises per unit (限价), ``None`` when the item has none. ``price_fixed`` says the
    ceiling is also the one price every institution charges (统一定价: a government-set service
    price, a centrally procured drug's 中选价): a desk takes it and accepts no other.
    """

    code: str
    name: str
    item_class: ItemClass
    category: ItemCategory
    selfpay_prop: Decimal = Decimal(0)
    price_ceiling_fen: int | None = None
    account_payable: bool = True
    in_catalogue: bool = True
    price_fixed: bool = False

    def __post_init__(self) -> None:
        if not self.code:
            raise CatalogueItemInvalid(item_code=self.code, field="code")
        prop = self.selfpay_prop
        if not isinstance(prop, Decimal) or not prop.is_finite() or not 0 <= prop <= 1:
            raise CatalogueItemInvalid(item_code=self.code, field="selfpay_prop", value=str(prop))
        ceiling = self.price_ceiling_fen
        if ceiling is not None and (not _is_int(ceiling) or not 0 <= ceiling <= UNIT_PRICE_FEN_MAX):
            raise CatalogueItemInvalid(item_code=self.code, field="price_ceiling_fen")
        if self.price_fixed and ceiling is None:
            raise CatalogueItemInvalid(item_code=self.code, field="price_fixed")

    @property
    def account_eligible(self) -> bool:
        """Whether account money may pay any part of this item (docs/rules.md §7)."""
        return self.account_payable and self.category not in ACCOUNT_EXCLUDED_CATEGORIES

    @property
    def wholly_self_paid(self) -> bool:
        """Class C and out-of-catalogue items are paid in full by the person (全自费)."""
        return self.item_class is ItemClass.C or not self.in_catalogue


@dataclass(frozen=True)
class BillLine:
    """One line of a bill: a catalogue item, how much of it, at what unit price.

    Refused on construction when the quantity or the price is invalid, so a line that exists can
    be adjudicated; :func:`build_bill_lines` collects every bad line of a bill at once.
    """

    item: CatalogueItem
    quantity: Decimal
    unit_price_fen: int

    def __post_init__(self) -> None:
        if not _quantity_ok(self.quantity):
            raise ItemQuantityInvalid(item_code=self.item.code, quantity=str(self.quantity))
        price = self.unit_price_fen
        if not _is_int(price) or not 0 <= price <= UNIT_PRICE_FEN_MAX:
            raise ItemPriceInvalid(item_code=self.item.code, unit_price_fen=str(price))
        if self.quantity * price > LINE_AMOUNT_FEN_MAX:
            raise ItemPriceInvalid(
                item_code=self.item.code, unit_price_fen=str(price), reason="line amount too large"
            )


@dataclass(frozen=True)
class ItemFigures:
    """The adjudicated parts of one line, in fen, under the national per-item field names.

    ``det_item_fee_sumamt = fulamt_ownpay_amt + overlmt_amt + preselfpay_amt + inscp_scp_amt``.
    """

    item_code: str
    det_item_fee_sumamt: int
    fulamt_ownpay_amt: int
    overlmt_amt: int
    preselfpay_amt: int
    inscp_scp_amt: int
    account_eligible: bool


def multiply_half_up_fen(amount_fen: int, factor: Decimal) -> int:
    """``amount_fen × factor`` rounded to a whole fen, half up, as the platform rounds each item.

    The product is taken exactly (a wide local context, whatever the caller's context says) and
    rounded once. A stand-in for ``gongji.core.money``'s helper, kept here so settlement does
    not wait on it; the two must agree (half away from zero; only non-negative values occur).
    """
    with localcontext() as context:
        context.prec = _PRODUCT_PRECISION
        return int((factor * amount_fen).quantize(_ONE, rounding=ROUND_HALF_UP))


def adjudicate_line(line: BillLine) -> ItemFigures:
    """Split one line into full self-pay, over-limit, first self-pay and in-scope parts."""
    item = line.item
    price = multiply_half_up_fen(line.unit_price_fen, line.quantity)
    capped = price
    if item.price_ceiling_fen is not None:
        capped = min(price, multiply_half_up_fen(item.price_ceiling_fen, line.quantity))
    full_selfpay = first_selfpay = in_scope = 0
    if item.wholly_self_paid:
        full_selfpay = capped
    else:
        if item.item_class is ItemClass.B:
            first_selfpay = multiply_half_up_fen(capped, item.selfpay_prop)
        in_scope = capped - first_selfpay
    figures = ItemFigures(
        item_code=item.code,
        det_item_fee_sumamt=price,
        fulamt_ownpay_amt=full_selfpay,
        overlmt_amt=price - capped,
        preselfpay_amt=first_selfpay,
        inscp_scp_amt=in_scope,
        account_eligible=item.account_eligible,
    )
    _check_item(figures)
    return figures


def adjudicate_bill(lines: Sequence[BillLine]) -> tuple[ItemFigures, ...]:
    """Adjudicate every line of a bill, in bill order; refuses empty and over-long bills."""
    if not lines:
        raise BillEmpty()
    if len(lines) > BILL_LINES_MAX:
        raise BillTooLong(limit=BILL_LINES_MAX, lines=len(lines))
    return tuple(adjudicate_line(line) for line in lines)


def build_bill_lines(
    specs: Sequence[tuple[CatalogueItem, Decimal, int]],
) -> tuple[tuple[BillLine, ...], tuple[GongjiError, ...]]:
    """Build lines from (item, quantity, unit price) and collect every refusal, each with its
    0-based ``line`` index in ``detail``, so a client sees all bad lines of a bill at once."""
    if len(specs) > BILL_LINES_MAX:
        return (), (BillTooLong(limit=BILL_LINES_MAX, lines=len(specs)),)
    lines: list[BillLine] = []
    problems: list[GongjiError] = []
    for index, (item, quantity, unit_price_fen) in enumerate(specs):
        try:
            lines.append(BillLine(item, quantity, unit_price_fen))
        except (ItemQuantityInvalid, ItemPriceInvalid) as problem:
            problem.detail["line"] = index
            problems.append(problem)
    return tuple(lines), tuple(problems)


def account_payable_part(
    figures: ItemFigures, inscp_personal_fen: int, policy: AccountPayPolicy
) -> int:
    """How much of one item's personal burden account money may pay.

    ``inscp_personal_fen`` is this item's share of the in-scope amount the fund did not pay
    (deductible and co-pay), as distributed by the settlement.
    """
    if not 0 <= inscp_personal_fen <= figures.inscp_scp_amt:
        raise InvariantViolation(f"in-scope share {inscp_personal_fen} outside item {figures}")
    if not figures.account_eligible:
        return 0
    part = figures.preselfpay_amt + inscp_personal_fen
    if policy.account_may_pay_full_selfpay:
        part += figures.fulamt_ownpay_amt
    if policy.account_may_pay_overlimit:
        part += figures.overlmt_amt
    return part


def _check_item(figures: ItemFigures) -> None:
    parts = (
        figures.fulamt_ownpay_amt,
        figures.overlmt_amt,
        figures.preselfpay_amt,
        figures.inscp_scp_amt,
    )
    if min(parts) < 0 or sum(parts) != figures.det_item_fee_sumamt:
        raise InvariantViolation(f"item parts do not add up: {figures}")


def _is_int(value: object) -> bool:
    # bool is an int subclass; True fen is a bug at the edge, never a price.
    return isinstance(value, int) and not isinstance(value, bool)


def _quantity_ok(quantity: object) -> bool:
    if not isinstance(quantity, Decimal) or not quantity.is_finite():
        return False
    if not 0 < quantity <= QUANTITY_MAX:
        return False
    return quantity == quantity.quantize(_QUANTITY_STEP)
