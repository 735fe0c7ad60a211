"""SQL for the back office's view of settlements: a person's settlements, what paid each, and
what was drawn from given grants or authorizations. No decisions.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, select

from gongji.settlement.store.settlements_repo import (
    _DRAW_COLUMNS,
    _SETTLEMENT_COLUMNS,
    DrawRow,
    SettlementRow,
)
from gongji.store.tables_settlements import settlement_draws, settlements

LISTED_MAX = 200


def settlements_of(
    connection: Connection, psn_no: str, limit: int = LISTED_MAX
) -> list[SettlementRow]:
    """The person's settlements and reversals, latest first."""
    statement = (
        select(*_SETTLEMENT_COLUMNS)
        .where(settlements.c.psn_no == psn_no)
        .order_by(settlements.c.created_at_us.desc(), settlements.c.setl_id)
        .limit(limit)
    )
    return [SettlementRow(**dict(row)) for row in connection.execute(statement).mappings()]


def draws_of_settlements(connection: Connection, setl_ids: Sequence[str]) -> list[DrawRow]:
    if not setl_ids:
        return []
    statement = (
        select(*_DRAW_COLUMNS)
        .where(settlement_draws.c.setl_id.in_(sorted(set(setl_ids))))
        .order_by(settlement_draws.c.setl_id, settlement_draws.c.seq)
    )
    return [DrawRow(**dict(row)) for row in connection.execute(statement).mappings()]


def draws_from_sources(connection: Connection, source_ids: Sequence[str]) -> list[DrawRow]:
    """Every draw on these grants or authorizations (reversals appear as negative draws)."""
    if not source_ids:
        return []
    statement = (
        select(*_DRAW_COLUMNS)
        .where(settlement_draws.c.source_id.in_(sorted(set(source_ids))))
        .order_by(settlement_draws.c.business_date, settlement_draws.c.setl_id)
    )
    return [DrawRow(**dict(row)) for row in connection.execute(statement).mappings()]


def reversed_among(connection: Connection, setl_ids: Sequence[str]) -> set[str]:
    """Which of these settlements have been reversed (a reversal names the one it undoes)."""
    if not setl_ids:
        return set()
    statement = select(settlements.c.reverses).where(
        settlements.c.reverses.in_(sorted(set(setl_ids)))
    )
    return {str(row.reverses) for row in connection.execute(statement)}


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
