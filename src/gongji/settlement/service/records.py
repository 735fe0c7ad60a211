"""The settlement area's public face for the national interface: a stored settlement and its
items, read inside the caller's unit of work. The area's SQL, named here so that no other area
reaches into ``gongji.settlement.store``.
"""

from __future__ import annotations

from gongji.settlement.store.settlements_repo import (
    SettlementRow,
    by_request,
    items_of,
    reversal_of,
    settlement,
)

__all__ = ["SettlementRow", "by_request", "items_of", "reversal_of", "settlement"]
