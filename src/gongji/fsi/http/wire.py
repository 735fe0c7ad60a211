"""Writing the national interface's answers: amounts as JSON numbers with two decimals.

The platform's own traffic carries amounts as JSON numbers in yuan (``"acct_pay":15.5``), and
HIS clients are written against it: a strictly typed client (C#'s ``System.Text.Json``, Go's
``encoding/json``) refuses a string where it expects a number. gongji writes each amount as a
number with exactly two decimals, ``15.50``, ``-15.50``, ``0.00``: a number to such a client,
the decimal 15.50 to one that reads decimals, never anything a float would round.

Python's ``json`` writes a number only from an ``int`` or a ``float``, and a float loses the
second decimal's zero, so the answer's amounts are :class:`~decimal.Decimal` values (two
places, from :func:`amount`) and :func:`dumps` writes them as they are; everything else as
``json`` would.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from fastapi.responses import JSONResponse

from gongji.core.money import format_yuan


def amount(fen: int) -> Decimal:
    """Fen as the answer's yuan: a decimal with exactly two places (``Decimal("15.50")``)."""
    return Decimal(format_yuan(fen))


def dumps(value: Any) -> str:
    """JSON text of an answer: dicts, lists, text, whole numbers, ``None``, booleans, and
    amounts (:class:`Decimal`) as numbers written with their own digits."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        pairs = (f"{dumps(str(key))}:{dumps(item)}" for key, item in value.items())
        return "{" + ",".join(pairs) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


class FsiResponse(JSONResponse):
    """An answer envelope rendered by :func:`dumps`."""

    def render(self, content: Any) -> bytes:
        return dumps(content).encode("utf-8")
