"""Writing the national interface's answers: amounts as JSON numbers with two decimals.

The platform's own traffic carries amounts as JSON numbers in yuan (``"acct_pay":15.5``), and
HIS clients are written against it: a strictly typed client (C#'s ``System.Text.Json``, Go's
``encoding/json``) refuses a string where it expects a number. gongji writes each amount as a
number with exactly two decimals, ``15.50``, ``-15.50``, ``0.00``: a number to such a client,
the decimal 15.50 to one that reads decimals, never anything a float would round.

A JSON encoder writes a number only from an ``int`` or a ``float``, and a float loses the
second decimal's zero, so the answer's amounts are :class:`~decimal.Decimal` values (two
places, from :func:`amount`) and :func:`dumps` writes them as they are, as orjson
``Fragment`` values (text put into the document unchanged); everything else as ``json.dumps``
would, compact and with Chinese unescaped (tests/unit/test_fsi_json.py compares the two).
orjson, not the standard encoder: a recursive walk calling ``json.dumps`` for every value cost
a tenth of the CPU of a HIS's visit, about 0.1 ms an answer (docs/benchmarks.md, issue 20, step
13).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
from fastapi.responses import JSONResponse

from gongji.core.money import format_yuan


def amount(fen: int) -> Decimal:
    """Fen as the answer's yuan: a decimal with exactly two places (``Decimal("15.50")``)."""
    return Decimal(format_yuan(fen))


def dumps(value: Any) -> str:
    """JSON text of an answer: dicts, lists, text, whole numbers, ``None``, booleans, and
    amounts (:class:`Decimal`) as numbers written with their own digits."""
    return render(value).decode("utf-8")


def render(value: Any) -> bytes:
    """:func:`dumps`, as UTF-8 bytes."""
    return orjson.dumps(value, default=_as_written, option=orjson.OPT_NON_STR_KEYS)


def _as_written(value: Any) -> orjson.Fragment:
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value))
    raise TypeError(f"not a JSON value of the national interface: {type(value).__name__}")


class FsiResponse(JSONResponse):
    """An answer envelope rendered by :func:`render`."""

    def render(self, content: Any) -> bytes:
        return render(content)
