"""Money as integer fen, the one yuan parser and formatter, and the one splitter.

Inside gongji every amount is a plain ``int`` of fen (分, 0.01 yuan): integers add exactly, fit a
``BIGINT`` column and cannot drift the way binary floats do. Yuan appear only at the edges (API,
files, the national interface), and they cross into the domain through :func:`parse_yuan` and
out through :func:`format_yuan` or :func:`yuan_decimal`; nothing else converts.

Every split of money (co-pay, fund vs account vs cash, several grants) goes through
:func:`split_by_weights` or :func:`allocate_in_order`, whose parts always add up to the total,
so no fen is ever created or lost by rounding.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from gongji.core.errors import GongjiError

FEN_DIGITS: Final = 2
FEN_PER_YUAN: Final = 10**FEN_DIGITS

AMOUNT_FEN_MAX: Final = 10**13
"""Largest magnitude accepted from outside: 100 000 000 000.00 yuan.

No single amount in medical insurance comes near it; anything larger is a unit mix-up or an
attack, and refusing it keeps every sum of accepted amounts far inside a signed 64-bit column.
"""

AMOUNT_TEXT_LENGTH_MAX: Final = 32
"""Longest yuan string read; a longer one is refused before any work is done on it."""

SPLIT_PARTS_MAX: Final = 1_000_000
"""Most parts one split may have; a bound on the work a single call can cause."""

_AMOUNT_YUAN_MAX: Final = Decimal(AMOUNT_FEN_MAX).scaleb(-FEN_DIGITS)
_ERROR_VALUE_LENGTH_MAX: Final = 40

# ASCII digits only: ``\d`` would also take full-width and other scripts' digits.
_YUAN_TEXT: Final = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


class AmountNotANumber(GongjiError):
    """The text is not a plain yuan amount: empty, garbage, '+', exponent, NaN or infinity."""

    code = "amount_not_a_number"
    message_zh = "金额格式不正确：{value}"
    message_en = "Not a valid yuan amount: {value}"


class AmountFloatRefused(GongjiError):
    """A binary float was given; it cannot hold most yuan amounts exactly, so it is refused."""

    code = "amount_float_refused"
    message_zh = "金额不能使用浮点数：{value}"
    message_en = "Amounts must not be binary floating-point numbers: {value}"


class AmountTypeRefused(GongjiError):
    """A value that is neither text, Decimal nor int (a bool, None, a list…) was given."""

    code = "amount_type_refused"
    message_zh = "金额类型不正确：{type}"
    message_en = "An amount cannot be of type {type}"


class AmountTooPrecise(GongjiError):
    """The amount is not a whole number of fen; rounding it silently would move money."""

    code = "amount_too_precise"
    message_zh = "金额最多保留两位小数：{value}"
    message_en = "An amount has at most two decimal places: {value}"


class AmountNegative(GongjiError):
    """A negative amount where only zero or more is meaningful."""

    code = "amount_negative"
    message_zh = "金额不能为负数：{value}"
    message_en = "The amount must not be negative: {value}"


class AmountZero(GongjiError):
    """A zero amount where the operation needs money to move."""

    code = "amount_zero"
    message_zh = "金额必须大于零"
    message_en = "The amount must be greater than zero"


class AmountTooLarge(GongjiError):
    """The amount is beyond :data:`AMOUNT_FEN_MAX` in magnitude."""

    code = "amount_too_large"
    message_zh = "金额超出允许范围：{value}"
    message_en = "The amount is out of range: {value}"


class SplitInvalid(GongjiError):
    """A split or allocation was asked with a negative total, negative or no weights."""

    code = "split_invalid"
    message_zh = "金额分摊参数不正确：{reason}"
    message_en = "Invalid split of an amount: {reason}"


def parse_yuan(value: object, *, allow_negative: bool = False, allow_zero: bool = True) -> int:
    """Read a yuan amount from the edge and return integer fen.

    Takes any object so that an edge can hand over what it received: a ``float`` (or anything
    else) is refused with its own code rather than by a type checker that never runs there.

    Text must be plain decimal (``"12.3"``, ``"-5"``): no sign ``+``, no exponent, no
    whitespace, because an edge that accepts sloppy text cannot be reconciled against one
    that does not. ``Decimal`` (what a JSON reader with ``parse_float=Decimal`` yields) and
    ``int`` (whole yuan) are taken as values. Trailing zeros past two places (``"31.500"``)
    are accepted since they lose nothing; a non-zero third decimal is refused, never rounded.
    """
    amount = _yuan_as_decimal(value)
    fen = _decimal_yuan_to_fen(amount, value)
    if fen < 0 and not allow_negative:
        raise AmountNegative(value=_shown(value))
    if fen == 0 and not allow_zero:
        raise AmountZero(value=_shown(value))
    return fen


def _yuan_as_decimal(value: object) -> Decimal:
    """Turn an accepted edge type into a finite Decimal, refusing everything else."""
    # bool is an int subclass and float must be named before the generic refusal.
    if isinstance(value, float):
        raise AmountFloatRefused(value=_shown(value))
    if isinstance(value, bool):
        raise AmountTypeRefused(type=type(value).__name__)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise AmountNotANumber(value=_shown(value))
        return value
    if isinstance(value, str):
        if len(value) > AMOUNT_TEXT_LENGTH_MAX or _YUAN_TEXT.fullmatch(value) is None:
            raise AmountNotANumber(value=_shown(value))
        return Decimal(value)
    raise AmountTypeRefused(type=type(value).__name__)


def _decimal_yuan_to_fen(amount: Decimal, original: object) -> int:
    """Convert exactly, without the Decimal context (whose 28 digits could round).

    Trailing zeros are dropped before scaling, so a hostile exponent (``0E-999999999`` from a
    JSON number) never makes a huge power of ten: after the size check, at most 10**13 remains.
    """
    # copy_abs and comparison are exact; abs() would round to the context first.
    if amount.copy_abs() > _AMOUNT_YUAN_MAX:
        raise AmountTooLarge(value=_shown(original))
    if amount.is_zero():
        return 0
    sign, digits, exponent = amount.as_tuple()
    if not isinstance(exponent, int):  # pragma: no cover - finiteness was checked
        raise AmountNotANumber(value=_shown(original))
    significant = "".join(map(str, digits)).rstrip("0")
    shift = exponent + len(digits) - len(significant) + FEN_DIGITS
    if shift < 0:
        raise AmountTooPrecise(value=_shown(original))
    fen: int = int(significant) * 10**shift
    return -fen if sign else fen


def _shown(value: object) -> str:
    """A short text of the offending value for the error detail, as the user would write it
    (``1E+999999999``, not ``Decimal('1E+999999999')``); never echo megabytes."""
    try:
        text = str(value) if isinstance(value, str | Decimal) else repr(value)
    except ValueError:  # an int past the interpreter's digit limit cannot be written out
        return f"<{type(value).__name__}>"
    if len(text) > _ERROR_VALUE_LENGTH_MAX:
        return text[:_ERROR_VALUE_LENGTH_MAX] + "…"
    return text


def format_yuan(fen: int) -> str:
    """Write fen as a yuan string with exactly two decimals: ``1230`` → ``"12.30"``.

    Any size is written: totals (a month of clearing) may exceed what one input may be.
    """
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise AmountTypeRefused(type=type(fen).__name__)
    whole, cents = divmod(abs(fen), FEN_PER_YUAN)
    sign = "-" if fen < 0 else ""
    return f"{sign}{whole}.{cents:02d}"


def yuan_decimal(fen: int) -> Decimal:
    """Fen as a two-place Decimal (``3150`` → ``Decimal('31.50')``) for JSON number edges.

    The national interface carries amounts as JSON numbers; a Decimal lets the encoder write
    them exactly, with no binary float in between.
    """
    return Decimal(format_yuan(fen))


def round_half_up_fen(amount: Decimal | int) -> int:
    """Round a Decimal number of fen (price × ratio) to whole fen, halves away from zero.

    This is 四舍五入 as the benefit rules state it, per item. Halves go away from zero on both
    sides so that a reversal, which negates amounts, rounds to exactly the negated value.
    """
    if isinstance(amount, float):
        raise AmountFloatRefused(value=_shown(amount))
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise AmountTypeRefused(type=type(amount).__name__)
    if isinstance(amount, int):
        return amount
    if not amount.is_finite():
        raise AmountNotANumber(value=_shown(amount))
    # to_integral_value is exact: unlike quantize it is not bounded by the context precision.
    return int(amount.to_integral_value(rounding=ROUND_HALF_UP))


def split_by_weights(total_fen: int, weights: Sequence[int]) -> list[int]:
    """Split ``total_fen`` in proportion to ``weights`` by the largest-remainder method.

    Each part is its exact share rounded down, and the fen left over go one each to the
    largest remainders, lowest index first on ties; so parts sum exactly to the total, each is
    within one fen of its exact share, zero weights get zero, and the result is deterministic.
    """
    _check_split(total_fen, weights)
    weight_sum = sum(weights)
    if weight_sum == 0:
        raise SplitInvalid(reason="no weights" if not weights else "all weights are zero")
    parts: list[int] = []
    remainders: list[int] = []
    for weight in weights:
        part, remainder = divmod(total_fen * weight, weight_sum)
        parts.append(part)
        remainders.append(remainder)
    leftover_fen = total_fen - sum(parts)
    by_remainder = sorted(range(len(parts)), key=lambda index: (-remainders[index], index))
    for index in by_remainder[:leftover_fen]:
        parts[index] += 1
    return parts


def allocate_in_order(total_fen: int, capacities: Sequence[int]) -> list[int]:
    """Fill ``capacities`` in order and return the parts plus what is left, as the last part.

    This is the payment waterfall: own account, then grants oldest first, then cash takes the
    rest. The result has one more element than ``capacities``; no part exceeds its capacity
    and all parts sum to ``total_fen``.
    """
    _check_split(total_fen, capacities)
    parts: list[int] = []
    left_fen = total_fen
    for capacity in capacities:
        part = min(capacity, left_fen)
        parts.append(part)
        left_fen -= part
    parts.append(left_fen)
    return parts


def _check_split(total_fen: int, weights: Sequence[int]) -> None:
    """Refuse what would make parts negative or the call unbounded."""
    if total_fen < 0:
        raise SplitInvalid(reason=f"negative total {total_fen}")
    if len(weights) > SPLIT_PARTS_MAX:
        raise SplitInvalid(reason=f"more than {SPLIT_PARTS_MAX} parts")
    if any(weight < 0 for weight in weights):
        raise SplitInvalid(reason="negative weight")
