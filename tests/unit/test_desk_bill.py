"""The desk's bill form without a database: lines priced from the catalogue (a fixed price is
the only one accepted, an institution's own price must be typed) and the scan field (a new
line of quantity 1, or one more on the line that has the item)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gongji.settlement.domain.bill import LineIn
from gongji.settlement.domain.items import (
    CatalogueItem,
    CatalogueItemInvalid,
    ItemCategory,
    ItemClass,
)
from gongji.settlement.pages.desk_bill import (
    LINE_ROWS_MAX,
    DeskLine,
    priced_line,
    read_bill,
    with_scanned,
)
from gongji.web.forms import FieldError
from gongji.web.session import Form

FIXED = CatalogueItem(
    "FIX1", "诊查费", ItemClass.A, ItemCategory.SERVICE, price_ceiling_fen=1_500, price_fixed=True
)
OWN = CatalogueItem(
    "OWN1", "血压计", ItemClass.B, ItemCategory.DEVICE, Decimal("0.2"), price_ceiling_fen=19_800
)


def test_a_fixed_price_is_taken_and_no_other_is_accepted() -> None:
    assert priced_line(DeskLine(0, "FIX1", Decimal(2), None), FIXED) == LineIn(
        "FIX1", Decimal(2), 1_500
    )
    assert priced_line(DeskLine(0, "FIX1", Decimal(1), 1_500), FIXED).unit_price_fen == 1_500
    with pytest.raises(FieldError) as refused:
        priced_line(DeskLine(3, "FIX1", Decimal(1), 1_400), FIXED)
    assert refused.value.name == "unit_price_3"
    assert refused.value.error.code == "item_price_fixed"
    assert refused.value.error.message("zh") == (
        "诊查费 为统一定价 15.00 元，不能修改单价；请清空单价或填写 15.00"
    )


def test_an_institutions_own_price_must_be_typed_and_may_exceed_the_ceiling() -> None:
    over = priced_line(DeskLine(1, "OWN1", Decimal(1), 25_000), OWN)
    assert over.unit_price_fen == 25_000  # the over-limit part is the patient's (§8.1)
    with pytest.raises(FieldError) as refused:
        priced_line(DeskLine(1, "OWN1", Decimal(1), None), OWN)
    assert (refused.value.name, refused.value.error.code) == ("unit_price_1", "item_price_missing")


def test_a_fixed_price_needs_a_ceiling() -> None:
    with pytest.raises(CatalogueItemInvalid):
        CatalogueItem("X", "无价", ItemClass.A, ItemCategory.SERVICE, price_fixed=True)


def test_an_empty_price_field_is_read_as_no_price() -> None:
    form = Form({"med_type": "41", "item_code_0": "own1", "quantity_0": "2", "unit_price_0": ""})
    bill = read_bill(form)
    assert bill.lines == (DeskLine(0, "OWN1", Decimal(2), None),) and bill.item_codes == ["OWN1"]


def test_a_scan_adds_a_line_then_one_more_of_it() -> None:
    first = with_scanned({"item_code_0": "OWN1", "unit_price_0": "120.00"}, FIXED)
    assert (first["item_code_1"], first["quantity_1"], first["unit_price_1"]) == (
        "FIX1",
        "1",
        "15.00",
    )
    second = with_scanned(first, FIXED)
    assert second["quantity_1"] == "2" and "item_code_2" not in second
    assert with_scanned({**second, "quantity_1": "2.5"}, FIXED)["quantity_1"] == "3.5"
    own = with_scanned({}, OWN)
    assert (own["item_code_0"], own["unit_price_0"]) == ("OWN1", "")  # the institution's to type
    assert with_scanned({"item_code_0": "own1 ", "quantity_0": "9"}, OWN)["quantity_0"] == "10"


def test_a_scan_refused_when_the_lines_are_full_or_a_quantity_is_bad() -> None:
    full = {f"item_code_{n}": f"X{n}" for n in range(LINE_ROWS_MAX)}
    with pytest.raises(FieldError) as no_room:
        with_scanned(full, OWN)
    assert (no_room.value.name, no_room.value.error.code) == ("scan", "desk_bill_lines_full")
    with pytest.raises(FieldError) as bad:
        with_scanned({"item_code_0": "OWN1", "quantity_0": "abc"}, OWN)
    assert (bad.value.name, bad.value.error.code) == ("quantity_0", "item_quantity_invalid")
