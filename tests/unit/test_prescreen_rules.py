"""The pre-settlement rules of 3101/3102 (settlement/domain/prescreen.py), without a database:
each rule found on the line that breaks it, with its amount, and nothing on a clean line."""

from __future__ import annotations

from decimal import Decimal

from gongji.settlement.domain.items import CatalogueItem, ItemCategory, ItemClass
from gongji.settlement.domain.prescreen import (
    ACCOUNT_NOT_PAYABLE,
    ALREADY_SETTLED,
    AMOUNT_MISMATCH,
    ITEM_NOT_IN_CATALOGUE,
    ITEM_SELF_PAID,
    PRICE_OVER_CEILING,
    QUANTITY_INVALID,
    RULES,
    Order,
    Severity,
    analyse,
)

ITEMS = {
    "A": CatalogueItem("A", "甲类药", ItemClass.A, ItemCategory.DRUG),
    "B": CatalogueItem("B", "乙类限价药", ItemClass.B, ItemCategory.DRUG, Decimal("0.1"), 8_000),
    "C": CatalogueItem("C", "丙类药", ItemClass.C, ItemCategory.DRUG, Decimal(1)),
    "N": CatalogueItem("N", "不许账户付的器械", ItemClass.A, ItemCategory.DEVICE,
                       account_payable=False),
}  # fmt: skip


def order(rx: str, code: str, cnt: str, pric: int, declared: int | None = None) -> Order:
    return Order(rx, code, Decimal(cnt), pric, declared)


def found(*orders: Order, settled: tuple[str, ...] = ()) -> list[tuple[str, str, int]]:
    return [(v.rule.rule_id, v.rx_id, v.amount_fen) for v in analyse(orders, ITEMS, settled)]


def test_a_clean_bill_breaks_nothing() -> None:
    assert found(order("1", "A", "2", 1_000, 2_000), order("2", "B", "1", 8_000)) == []


def test_each_rule_on_the_line_that_breaks_it() -> None:
    assert found(order("1", "X", "2", 500)) == [(ITEM_NOT_IN_CATALOGUE.rule_id, "1", 1_000)]
    assert found(order("2", "C", "1", 3_000)) == [(ITEM_SELF_PAID.rule_id, "2", 3_000)]
    assert found(order("3", "B", "2", 10_000)) == [(PRICE_OVER_CEILING.rule_id, "3", 4_000)]
    assert found(order("4", "A", "0", 100)) == [(QUANTITY_INVALID.rule_id, "4", 0)]
    assert found(order("5", "A", "1.00001", 100)) == [(QUANTITY_INVALID.rule_id, "5", 0)]
    assert found(order("6", "A", "3", 333, 1_000)) == [(AMOUNT_MISMATCH.rule_id, "6", 1)]
    assert found(order("7", "N", "1", 2_500)) == [(ACCOUNT_NOT_PAYABLE.rule_id, "7", 2_500)]
    assert found(order("8", "A", "1", 100), settled=("8",)) == [(ALREADY_SETTLED.rule_id, "8", 100)]


def test_a_line_may_break_several_rules_in_rule_order() -> None:
    rules = [rule_id for rule_id, _, _ in found(order("9", "B", "2", 9_000, 1), settled=("9",))]
    assert rules == [PRICE_OVER_CEILING.rule_id, AMOUNT_MISMATCH.rule_id, ALREADY_SETTLED.rule_id]


def test_messages_are_chinese_and_name_the_item() -> None:
    (over,) = analyse([order("3", "B", "2", 10_000)], ITEMS)
    assert over.message_zh == "乙类限价药（B）单价 100.00 超过医保限价 80.00，超出部分由参保人自付"
    assert over.rule.severity is Severity.NOTICE


def test_rule_ids_are_unique_and_stable() -> None:
    assert [rule.rule_id for rule in RULES] == [f"GJ-{n:04d}" for n in range(1, 8)]
