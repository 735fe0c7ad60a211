"""Money: the yuan parser and formatter, half-up rounding, and the two splitters."""

from __future__ import annotations

import os
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gongji.core.errors import GongjiError
from gongji.core.money import (
    AMOUNT_FEN_MAX,
    AMOUNT_TEXT_LENGTH_MAX,
    AmountFloatRefused,
    AmountNegative,
    AmountNotANumber,
    AmountTooLarge,
    AmountTooPrecise,
    AmountTypeRefused,
    AmountZero,
    SplitInvalid,
    allocate_in_order,
    format_yuan,
    parse_yuan,
    round_half_up_fen,
    split_by_weights,
    yuan_decimal,
)

SETTINGS = settings(derandomize=os.environ.get("CI") == "true", max_examples=300, deadline=None)

fen_values = st.integers(min_value=-AMOUNT_FEN_MAX, max_value=AMOUNT_FEN_MAX)


# --- parse_yuan: what is accepted -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "fen"),
    [
        ("12.3", 1230),
        ("12.30", 1230),
        ("0.01", 1),
        ("0", 0),
        ("0.00", 0),
        ("2000", 200_000),
        ("007.5", 750),
        ("31.500", 3150),  # trailing zeros lose nothing
        (Decimal("31.5"), 3150),
        (Decimal("1E+3"), 100_000),
        (Decimal("0.010"), 1),
        (12, 1200),
        (0, 0),
        ("100000000000.00", AMOUNT_FEN_MAX),
    ],
)
def test_parse_yuan_accepts(value: str | Decimal | int, fen: int) -> None:
    assert parse_yuan(value) == fen


@pytest.mark.parametrize(
    ("value", "fen"),
    [("-5", -500), ("-0.05", -5), (Decimal("-12.30"), -1230), (-3, -300), ("-0", 0)],
)
def test_parse_yuan_accepts_negatives_when_allowed(value: str | Decimal | int, fen: int) -> None:
    assert parse_yuan(value, allow_negative=True) == fen


def test_parse_yuan_minus_zero_is_zero_not_negative() -> None:
    assert parse_yuan("-0.00") == 0


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (Decimal("0E-999999999"), None),
        (Decimal("0E+999999999"), None),
        (Decimal("1E-999999999"), AmountTooPrecise),
        (Decimal("5E+999999999"), AmountTooLarge),
        pytest.param(Decimal("0." + "0" * 5000 + "1"), AmountTooPrecise, id="5001-decimals"),
        pytest.param(10**5000, AmountTooLarge, id="int-of-5001-digits"),
    ],
)
def test_parse_yuan_is_quick_on_hostile_sizes(value: Decimal | int, error: type | None) -> None:
    if error is None:
        assert parse_yuan(value) == 0
    else:
        with pytest.raises(error):
            parse_yuan(value)


def test_parse_yuan_is_exact_beyond_decimal_context_precision() -> None:
    # 40 significant digits: the default context (28) would round if the parser used it.
    assert parse_yuan(Decimal("1.000000000000000000000000000000000000000")) == 100
    with pytest.raises(AmountTooPrecise):
        parse_yuan(Decimal("1.000000000000000000000000000000000000001"))


# --- parse_yuan: one example per refusal code -------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "",
        " ",
        " 12.30",
        "12.30 ",
        "12.30\n",
        "abc",
        "+5",
        "1e3",
        "1E3",
        "NaN",
        "Infinity",
        "-inf",
        "12.",
        ".5",
        "1,000.00",
        "１２",  # full-width digits
        "--5",
        "5-",
        "1" * (AMOUNT_TEXT_LENGTH_MAX + 1),
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("Infinity"),
        Decimal("-Infinity"),
    ],
)
def test_parse_yuan_refuses_not_a_number(value: str | Decimal) -> None:
    with pytest.raises(AmountNotANumber) as caught:
        parse_yuan(value, allow_negative=True)
    assert caught.value.code == "amount_not_a_number"


def test_not_a_number_message_is_chinese_and_names_the_value() -> None:
    with pytest.raises(AmountNotANumber) as caught:
        parse_yuan("abc")
    assert caught.value.message() == "金额格式不正确：abc"
    assert caught.value.as_dict("en")["code"] == "amount_not_a_number"


def test_error_detail_does_not_echo_huge_input() -> None:
    with pytest.raises(AmountNotANumber) as caught:
        parse_yuan("9" * 10_000)
    assert len(caught.value.detail["value"]) < 50


@pytest.mark.parametrize("value", [12.3, 0.0, float("nan"), float("inf"), -1.5])
def test_parse_yuan_refuses_floats(value: float) -> None:
    with pytest.raises(AmountFloatRefused) as caught:
        parse_yuan(value)  # type: ignore[arg-type]
    assert caught.value.code == "amount_float_refused"


@pytest.mark.parametrize("value", [True, False, None, b"12", [12], Fraction(1, 2)])
def test_parse_yuan_refuses_other_types(value: object) -> None:
    with pytest.raises(AmountTypeRefused) as caught:
        parse_yuan(value)  # type: ignore[arg-type]
    assert caught.value.code == "amount_type_refused"


@pytest.mark.parametrize("value", ["0.001", "12.345", Decimal("0.005"), "-0.001"])
def test_parse_yuan_refuses_more_than_two_decimals(value: str | Decimal) -> None:
    with pytest.raises(AmountTooPrecise) as caught:
        parse_yuan(value, allow_negative=True)
    assert caught.value.code == "amount_too_precise"


@pytest.mark.parametrize("value", ["-5", "-0.01", Decimal("-1"), -1])
def test_parse_yuan_refuses_negatives_by_default(value: str | Decimal | int) -> None:
    with pytest.raises(AmountNegative) as caught:
        parse_yuan(value)
    assert caught.value.code == "amount_negative"


@pytest.mark.parametrize("value", ["0", "0.00", "-0", Decimal("0E-7"), 0])
def test_parse_yuan_refuses_zero_when_asked(value: str | Decimal | int) -> None:
    with pytest.raises(AmountZero) as caught:
        parse_yuan(value, allow_zero=False)
    assert caught.value.code == "amount_zero"


@pytest.mark.parametrize(
    "value",
    [
        "100000000000.01",
        "-100000000000.01",
        "999999999999999",
        Decimal("1E+12"),
        Decimal("1E+100000"),
        10**11 + 1,
    ],
)
def test_parse_yuan_refuses_absurd_sizes(value: str | Decimal | int) -> None:
    with pytest.raises(AmountTooLarge) as caught:
        parse_yuan(value, allow_negative=True)
    assert caught.value.code == "amount_too_large"


def test_a_refused_decimal_is_shown_as_written() -> None:
    with pytest.raises(AmountTooLarge) as caught:
        parse_yuan(Decimal("1E+999999999"))
    assert caught.value.detail["value"] == "1E+999999999"


def test_every_refusal_is_a_gongji_error() -> None:
    for value in ("x", "0.001", "-1", "1e3"):
        with pytest.raises(GongjiError):
            parse_yuan(value)


# --- format_yuan and yuan_decimal -------------------------------------------------------------


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (1230, "12.30"),
        (-5, "-0.05"),
        (0, "0.00"),
        (1, "0.01"),
        (-100, "-1.00"),
        (10**15, "10000000000000.00"),
    ],
)
def test_format_yuan(fen: int, text: str) -> None:
    assert format_yuan(fen) == text


@pytest.mark.parametrize("fen", [True, 1.0, "12", Decimal(1)])
def test_format_yuan_refuses_non_int(fen: object) -> None:
    with pytest.raises(AmountTypeRefused):
        format_yuan(fen)  # type: ignore[arg-type]


def test_yuan_decimal_has_two_places() -> None:
    assert yuan_decimal(3150) == Decimal("31.50")
    assert str(yuan_decimal(3150)) == "31.50"
    assert str(yuan_decimal(-5)) == "-0.05"
    assert str(yuan_decimal(0)) == "0.00"


@SETTINGS
@given(fen=fen_values)
def test_parse_of_format_is_identity(fen: int) -> None:
    assert parse_yuan(format_yuan(fen), allow_negative=True) == fen
    assert parse_yuan(yuan_decimal(fen), allow_negative=True) == fen


@SETTINGS
@given(fen=st.integers(min_value=0, max_value=AMOUNT_FEN_MAX))
def test_parse_of_format_is_identity_without_negatives(fen: int) -> None:
    assert parse_yuan(format_yuan(fen)) == fen


# --- round_half_up_fen --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "fen"),
    [
        (Decimal("2.5"), 3),
        (Decimal("2.4999"), 2),
        (Decimal("3.5"), 4),
        (Decimal("-2.5"), -3),
        (Decimal("0.5"), 1),
        (Decimal("0.49"), 0),
        (Decimal("1234.5") * Decimal("0.3"), 370),  # 370.35
        (Decimal(7), 7),
        (7, 7),
        (Decimal("1E+40"), 10**40),
    ],
)
def test_round_half_up_fen(amount: Decimal | int, fen: int) -> None:
    assert round_half_up_fen(amount) == fen


def test_round_half_up_fen_refuses_bad_values() -> None:
    with pytest.raises(AmountFloatRefused):
        round_half_up_fen(2.5)  # type: ignore[arg-type]
    with pytest.raises(AmountNotANumber):
        round_half_up_fen(Decimal("NaN"))
    with pytest.raises(AmountTypeRefused):
        round_half_up_fen(True)


@SETTINGS
@given(amount=st.decimals(min_value=-(10**15), max_value=10**15, places=4))
def test_round_half_up_fen_is_symmetric_and_close(amount: Decimal) -> None:
    fen = round_half_up_fen(amount)
    assert round_half_up_fen(amount.copy_negate()) == -fen
    assert abs(Decimal(fen) - amount) <= Decimal("0.5")


# --- split_by_weights ---------------------------------------------------------------------------


def test_split_examples() -> None:
    assert split_by_weights(100, [1, 1, 1]) == [34, 33, 33]
    assert split_by_weights(101, [1, 1]) == [51, 50]
    assert split_by_weights(5, [0, 1, 0, 1]) == [0, 3, 0, 2]
    assert split_by_weights(0, [3, 2]) == [0, 0]
    assert split_by_weights(1000, [7]) == [1000]
    assert split_by_weights(2, [1, 2, 1]) == [1, 1, 0]  # remainders tie at 0 and 2: index 0


def test_split_breaks_ties_by_lowest_index() -> None:
    # 2 fen over three equal shares of 2/3: the first two get them.
    assert split_by_weights(2, [1, 1, 1]) == [1, 1, 0]
    # 1 fen over [1, 2, 1]: exact shares .25, .5, .25 → the largest remainder wins.
    assert split_by_weights(1, [1, 2, 1]) == [0, 1, 0]


@pytest.mark.parametrize(
    ("total", "weights"),
    [(-1, [1]), (10, [1, -1]), (10, [0, 0]), (10, [])],
)
def test_split_refuses_invalid(total: int, weights: list[int]) -> None:
    with pytest.raises(SplitInvalid) as caught:
        split_by_weights(total, weights)
    assert caught.value.code == "split_invalid"


@SETTINGS
@given(
    total=st.integers(min_value=0, max_value=AMOUNT_FEN_MAX),
    weights=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=30).filter(
        any
    ),
)
def test_split_sums_to_total_within_one_fen(total: int, weights: list[int]) -> None:
    parts = split_by_weights(total, weights)
    assert len(parts) == len(weights)
    assert sum(parts) == total
    weight_sum = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        exact = Fraction(total * weight, weight_sum)
        assert part >= 0
        assert abs(part - exact) < 1
        if weight == 0:
            assert part == 0
    assert split_by_weights(total, weights) == parts  # deterministic


# --- allocate_in_order --------------------------------------------------------------------------


def test_allocate_in_order_examples() -> None:
    # own account 30.00, two grants 10.00 and 50.00, bill 45.00: cash pays nothing.
    assert allocate_in_order(4500, [3000, 1000, 5000]) == [3000, 1000, 500, 0]
    # bill larger than all accounts: cash takes the rest.
    assert allocate_in_order(10_000, [3000, 1000]) == [3000, 1000, 6000]
    assert allocate_in_order(0, [3000]) == [0, 0]
    assert allocate_in_order(700, []) == [700]


@pytest.mark.parametrize(("total", "capacities"), [(-1, [1]), (10, [5, -1])])
def test_allocate_refuses_invalid(total: int, capacities: list[int]) -> None:
    with pytest.raises(SplitInvalid):
        allocate_in_order(total, capacities)


@SETTINGS
@given(
    total=st.integers(min_value=0, max_value=AMOUNT_FEN_MAX),
    capacities=st.lists(st.integers(min_value=0, max_value=AMOUNT_FEN_MAX), max_size=20),
)
def test_allocate_never_exceeds_capacity_and_sums_to_total(
    total: int, capacities: list[int]
) -> None:
    parts = allocate_in_order(total, capacities)
    assert len(parts) == len(capacities) + 1
    assert sum(parts) == total
    assert all(0 <= part <= capacity for part, capacity in zip(parts, capacities, strict=False))
    assert parts[-1] >= 0
    # Waterfall: a later part gets money only once every earlier capacity is full.
    for index, part in enumerate(parts[:-1]):
        if part < capacities[index]:
            assert all(later == 0 for later in parts[index + 1 :])
