"""The settlement area's public face for the national interface and the back office: a stored
settlement and its items, a person's settlements, what paid each and what each grant paid for,
read inside the caller's unit of work. The area's SQL, named here so that no other area
reaches into ``gongji.settlement.store``.
"""

from __future__ import annotations

from gongji.settlement.store.person_settlements_repo import (
    draws_from_sources,
    draws_of_settlements,
    recent_at_institution,
    reversed_among,
    settlements_of,
)
from gongji.settlement.store.settlements_repo import (
    DrawRow,
    SettlementRow,
    by_request,
    items_of,
    reversal_of,
    settlement,
)

__all__ = [
    "DrawRow",
    "SettlementRow",
    "by_request",
    "draws_from_sources",
    "draws_of_settlements",
    "items_of",
    "recent_at_institution",
    "reversal_of",
    "reversed_among",
    "settlement",
    "settlements_of",
]
