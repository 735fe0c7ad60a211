"""The command every front door fills to pre-settle or settle a bill: the REST API, the national
interface and the settlement desk each read their own wire format, then build this one value
and hand it to the same use cases (docs/rules.md §8).

Wire formats differ (a JSON string, a JSON number, a form field), so each door reads its own
fields and names them in its own refusals; what a quantity may be is decided here once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from gongji.settlement.domain.items import ItemQuantityInvalid

QUANTITY_TEXT: Final = re.compile(r"[0-9]{1,12}(\.[0-9]{1,12})?")
"""A quantity as text: plain decimal digits, no sign, exponent or spaces. Its range and scale
are checked with the bill line (:func:`~gongji.settlement.domain.items.build_bill_lines`)."""


def parse_quantity(text: str, item_code: str) -> Decimal:
    if QUANTITY_TEXT.fullmatch(text) is None:
        raise ItemQuantityInvalid(item_code=item_code[:40], quantity=text[:25])
    return Decimal(text)


@dataclass(frozen=True, slots=True)
class LineIn:
    """One bill line as the institution sent it: item, quantity, unit price in fen."""

    item_code: str
    quantity: Decimal
    unit_price_fen: int


@dataclass(frozen=True, slots=True)
class SettleRequest:
    """A bill to pre-settle or settle, for one patient at one institution."""

    institution_code: str
    request_id: str
    psn_no: str
    med_type: str
    lines: tuple[LineIn, ...]
    acct_used_flag: bool = True
    use_mutual_aid: bool | None = None
    """The patient's choice for this bill (desk, ``exp_content``); None: their standing choice
    就医时使用家庭共济 (docs/rules.md §6.2)."""

    def fingerprint(self) -> str:
        """What makes two requests the same request (idempotency per institution request id)."""
        lines = ";".join(
            f"{line.item_code},{line.quantity.normalize()},{line.unit_price_fen}"
            for line in self.lines
        )
        choice = "-" if self.use_mutual_aid is None else str(int(self.use_mutual_aid))
        flags = f"{int(self.acct_used_flag)}{choice}"
        return f"{self.psn_no}|{self.med_type}|{flags}|{lines}"
