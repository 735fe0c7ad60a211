"""What every /api/v1 body shares. Amounts are yuan strings with two decimals
("500.00"); requests refuse unknown fields and bound every string.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict

from gongji.core.clock import from_us
from gongji.core.money import parse_yuan

Text = Annotated[str, Field(min_length=1, max_length=200)]
Region = Annotated[str, Field(pattern=r"^\d{6}$")]
PsnNo = Annotated[str, Field(min_length=1, max_length=32)]


def _not_a_boolean(value: object) -> object:
    """JSON ``true`` would otherwise pass as the integer 1 (one yuan): not money, not a count."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    return value


# Amount as sent: a yuan string ("500.00"). Numbers are accepted only to be refused with a clear
# code (a float is never money), by parse_amount below, not by a generic validation error.
# Booleans are refused as the request's shape (422), before any amount is read.
AmountIn = Annotated[str | int | float, BeforeValidator(_not_a_boolean)]
WholeNumber = Annotated[int, Strict(), BeforeValidator(_not_a_boolean)]
"""A count or a year in a JSON body: a JSON integer, never ``true`` nor a string of digits."""


def parse_amount(value: AmountIn) -> int:
    return parse_yuan(value)


def iso(timestamp_us: int | None) -> str | None:
    return None if timestamp_us is None else from_us(timestamp_us).isoformat()


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")
