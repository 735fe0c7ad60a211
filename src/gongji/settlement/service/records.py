"""The settlement area's public face for the national interface and the back office: a stored
settlement and its items, a person's settlements, what paid each and what each grant paid for,
read inside the caller's unit of work (the ``*_read`` builders: the same reads, to make ahead).
The area's SQL, named here so that no other area reaches into ``gongji.settlement.store``.
"""

from __future__ import annotations

from gongji.settlement.store.person_settlements_repo import (
    draws_from_sources,
    draws_from_sources_read,
    draws_of_settlements,
    draws_of_settlements_read,
    recent_at_institution,
    reversed_among,
    reversed_among_read,
    reversed_paid_by,
    reversed_paid_by_read,
    settlements_of,
    settlements_of_read,
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
    "draws_from_sources_read",
    "draws_of_settlements",
    "draws_of_settlements_read",
    "items_of",
    "recent_at_institution",
    "reversal_of",
    "reversed_among",
    "reversed_among_read",
    "reversed_paid_by",
    "reversed_paid_by_read",
    "settlement",
    "settlements_of",
    "settlements_of_read",
]
