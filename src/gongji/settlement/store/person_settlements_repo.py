"""SQL for the back office's view of settlements: a person's settlements, what paid each, and
what was drawn from given grants or authorizations. No decisions.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, select

from gongji.settlement.store.settlements_repo import (
    _SETTLEMENT_COLUMNS,
    DrawRow,
    SettlementRow,
)
from gongji.store import raw
from gongji.store.tables_settlements import settlements

LISTED_MAX = 200


_SETTLEMENTS_OF = (
    f"SELECT {raw.column_list(SettlementRow)} FROM settlements WHERE psn_no = :psn_no"
    " ORDER BY created_at_us DESC, setl_id LIMIT :limit"
)
_DRAWS = f"SELECT {raw.column_list(DrawRow)} FROM settlement_draws"


def settlements_of(
    connection: Connection, psn_no: str, limit: int = LISTED_MAX
) -> list[SettlementRow]:
    """The person's settlements and reversals, latest first."""
    return [
        SettlementRow(*row) for row in raw.fetch(connection, *settlements_of_read(psn_no, limit))
    ]


def settlements_of_read(psn_no: str, limit: int = LISTED_MAX) -> raw.Read:
    """The read of :func:`settlements_of`, to make ahead (``raw.prefetch``)."""
    return _SETTLEMENTS_OF, {"psn_no": psn_no, "limit": limit}


def draws_of_settlements(connection: Connection, setl_ids: Sequence[str]) -> list[DrawRow]:
    if not setl_ids:
        return []
    return [DrawRow(*row) for row in raw.fetch(connection, *draws_of_settlements_read(setl_ids))]


def draws_of_settlements_read(setl_ids: Sequence[str]) -> raw.Read:
    """The read of :func:`draws_of_settlements` (some ids), to make ahead."""
    params: dict[str, object] = {}
    where = raw.in_list("setl_id", sorted(set(setl_ids)), params)
    return f"{_DRAWS} WHERE {where} ORDER BY setl_id, seq", params


def draws_from_sources(connection: Connection, source_ids: Sequence[str]) -> list[DrawRow]:
    """Every draw on these grants or authorizations (reversals appear as negative draws)."""
    if not source_ids:
        return []
    return [DrawRow(*row) for row in raw.fetch(connection, *draws_from_sources_read(source_ids))]


def draws_from_sources_read(source_ids: Sequence[str]) -> raw.Read:
    """The read of :func:`draws_from_sources` (some ids), to make ahead."""
    params: dict[str, object] = {}
    where = raw.in_list("source_id", sorted(set(source_ids)), params)
    return f"{_DRAWS} WHERE {where} ORDER BY business_date, setl_id", params


def reversed_among(connection: Connection, setl_ids: Sequence[str]) -> set[str]:
    """Which of these settlements have been reversed (a reversal names the one it undoes)."""
    if not setl_ids:
        return set()
    return {str(row[0]) for row in raw.fetch(connection, *reversed_among_read(setl_ids))}


def reversed_among_read(setl_ids: Sequence[str]) -> raw.Read:
    """The read of :func:`reversed_among` (some ids), to make ahead."""
    params: dict[str, object] = {}
    where = raw.in_list("reverses", sorted(set(setl_ids)), params)
    return f"SELECT reverses FROM settlements WHERE {where}", params


def reversed_paid_by(connection: Connection, source_ids: Sequence[str]) -> set[str]:
    """Which settlements paid by these grants or authorizations have been reversed: as
    :func:`reversed_among` of their draws' settlements, without reading the draws first."""
    if not source_ids:
        return set()
    return {str(row[0]) for row in raw.fetch(connection, *reversed_paid_by_read(source_ids))}


def reversed_paid_by_read(source_ids: Sequence[str]) -> raw.Read:
    """The read of :func:`reversed_paid_by` (some ids), to make ahead."""
    params: dict[str, object] = {}
    where = raw.in_list("source_id", sorted(set(source_ids)), params)
    paid = f"SELECT setl_id FROM settlement_draws WHERE {where}"
    return f"SELECT reverses FROM settlements WHERE reverses IN ({paid})", params


def recent_at_institution(
    connection: Connection, institution_code: str, limit: int = LISTED_MAX
) -> list[SettlementRow]:
    """An institution's latest settlements and reversals, latest first."""
    statement = (
        select(*_SETTLEMENT_COLUMNS)
        .where(settlements.c.institution_code == institution_code)
        .order_by(settlements.c.created_at_us.desc(), settlements.c.setl_id)
        .limit(limit)
    )
    return [SettlementRow(**dict(row)) for row in connection.execute(statement).mappings()]
