"""Pre-settlement rule checks (明细审核事前事中分析, national 3101 / 3102): what in a bill the
fund will not pay as sent, found before the HIS settles it, so the doctor can change the order
or tell the patient. Pure: the catalogue items, and for 3102 the visit's settled lines, are
given.

gongji checks what its own catalogue and rules know (docs/rules.md §7): an item outside the
catalogue, an item the fund never pays (class C, out of the basic insurance), a price above the
item's ceiling, a quantity or line amount that cannot be settled, an item no account money may
pay, and at settlement time (3102) a line already settled. Each finding is a
:class:`Violation` with a stable rule id, a severity and a Chinese message. The catalogue has no
sex, age or per-period quantity limits, so none are checked.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final

from gongji.core.money import format_yuan
from gongji.settlement.domain.items import (
    QUANTITY_DECIMALS_MAX,
    QUANTITY_MAX,
    CatalogueItem,
    multiply_half_up_fen,
)


class Severity(StrEnum):
    """``sev_deg`` as answered: ``1`` the line will be refused or not paid as sent (明确违规),
    ``2`` it will be settled, at the patient's cost for the part named (提醒)."""

    VIOLATION = "1"
    NOTICE = "2"


@dataclass(frozen=True, slots=True)
class Rule:
    rule_id: str
    name_zh: str
    severity: Severity


ITEM_NOT_IN_CATALOGUE: Final = Rule("GJ-0001", "目录外项目", Severity.VIOLATION)
ITEM_SELF_PAID: Final = Rule("GJ-0002", "全自费项目", Severity.NOTICE)
PRICE_OVER_CEILING: Final = Rule("GJ-0003", "超医保限价", Severity.NOTICE)
QUANTITY_INVALID: Final = Rule("GJ-0004", "数量不合理", Severity.VIOLATION)
AMOUNT_MISMATCH: Final = Rule("GJ-0005", "明细金额不符", Severity.VIOLATION)
ACCOUNT_NOT_PAYABLE: Final = Rule("GJ-0006", "个人账户不予支付", Severity.NOTICE)
ALREADY_SETTLED: Final = Rule("GJ-0007", "重复收费", Severity.VIOLATION)
RULES: Final = (
    ITEM_NOT_IN_CATALOGUE,
    ITEM_SELF_PAID,
    PRICE_OVER_CEILING,
    QUANTITY_INVALID,
    AMOUNT_MISMATCH,
    ACCOUNT_NOT_PAYABLE,
    ALREADY_SETTLED,
)
_QUANTITY_STEP: Final = Decimal(1).scaleb(-QUANTITY_DECIMALS_MAX)


@dataclass(frozen=True, slots=True)
class Order:
    """One line of the bill as the HIS sends it for analysis (``fsi_order_dtos``)."""

    rx_id: str
    item_code: str
    quantity: Decimal
    unit_price_fen: int
    declared_fen: int | None  # ``sumamt`` when sent


@dataclass(frozen=True, slots=True)
class Violation:
    rule: Rule
    rx_id: str
    item_code: str
    message_zh: str
    amount_fen: int  # the part of the line the finding concerns (违规金额)


def analyse(
    orders: Sequence[Order],
    items: Mapping[str, CatalogueItem],
    settled_rx_ids: Collection[str] = (),
) -> list[Violation]:
    """Every finding, line by line in the order sent, each line's in :data:`RULES` order."""
    found: list[Violation] = []
    for order in orders:
        found.extend(_line(order, items.get(order.item_code), settled_rx_ids))
    return found


def _line(
    order: Order, item: CatalogueItem | None, settled_rx_ids: Collection[str]
) -> list[Violation]:
    code = order.item_code
    quantity_ok = _quantity_ok(order.quantity)
    line_fen = multiply_half_up_fen(order.unit_price_fen, order.quantity) if quantity_ok else 0
    found: list[Violation] = []

    def add(rule: Rule, message: str, amount_fen: int) -> None:
        found.append(Violation(rule, order.rx_id, code, message, amount_fen))

    if item is None:
        add(ITEM_NOT_IN_CATALOGUE, f"项目 {code} 不在医保目录中，医保基金不予支付", line_fen)
    elif item.wholly_self_paid:
        add(ITEM_SELF_PAID, f"{item.name}（{code}）为全自费项目，由参保人全额自付", line_fen)
    ceiling = item.price_ceiling_fen if item is not None else None
    if item is not None and ceiling is not None and order.unit_price_fen > ceiling:
        over = multiply_half_up_fen(order.unit_price_fen - ceiling, order.quantity)
        add(
            PRICE_OVER_CEILING,
            f"{item.name}（{code}）单价 {format_yuan(order.unit_price_fen)} 超过医保限价 "
            f"{format_yuan(ceiling)}，超出部分由参保人自付",
            over if quantity_ok else 0,
        )
    if not quantity_ok:
        add(QUANTITY_INVALID, f"项目 {code} 数量 {order.quantity} 不合理", 0)
    elif order.declared_fen is not None and order.declared_fen != line_fen:
        add(
            AMOUNT_MISMATCH,
            f"项目 {code} 明细金额 {format_yuan(order.declared_fen)} 与数量×单价 "
            f"{format_yuan(line_fen)} 不符",
            abs(order.declared_fen - line_fen),
        )
    if item is not None and not item.wholly_self_paid and not item.account_eligible:
        add(ACCOUNT_NOT_PAYABLE, f"{item.name}（{code}）个人账户及家庭共济资金不予支付", line_fen)
    if order.rx_id in settled_rx_ids:
        add(ALREADY_SETTLED, f"明细 {order.rx_id} 已结算，不能再次收费", line_fen)
    return found


def _quantity_ok(quantity: Decimal) -> bool:
    if not quantity.is_finite() or not 0 < quantity <= QUANTITY_MAX:
        return False
    return quantity == quantity.quantize(_QUANTITY_STEP)
