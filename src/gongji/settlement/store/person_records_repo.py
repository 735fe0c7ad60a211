"""SQL of a person's own records: the settlements they were the patient of, and the draws on
their money (grants they gave, authorizations they made) at other people's settlements. Reads
only; newest first; bounded by ``limit``. The draws of given settlements are the back office's
read (``person_settlements_repo.draws_of_settlements``), named here too."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select

from gongji.settlement.store.person_settlements_repo import draws_of_settlements
from gongji.settlement.store.settlements_repo import DrawRow, SettlementRow
from gongji.store.tables_settlements import settlement_draws, settlements

__all__ = [
    "draws_of_settlements",
    "draws_on_contributor",
    "reversals_of",
    "settlements_by_id",
    "settlements_of_patient",
]

_SETTLEMENT_COLUMNS = [settlements.c[name] for name in SettlementRow.__dataclass_fields__]
_DRAW_COLUMNS = [settlement_draws.c[name] for name in DrawRow.__dataclass_fields__]


def settlements_of_patient(
    connection: Connection, psn_no: str, since_date: str, limit: int
) -> list[SettlementRow]:
    statement = (
        select(*_SETTLEMENT_COLUMNS)
        .where(settlements.c.psn_no == psn_no, settlements.c.business_date >= since_date)
        .order_by(settlements.c.created_at_us.desc(), settlements.c.setl_id.desc())
        .limit(limit)
    )
    return [SettlementRow(**dict(row)) for row in connection.execute(statement).mappings()]


def settlements_by_id(connection: Connection, setl_ids: Iterable[str]) -> list[SettlementRow]:
    wanted = sorted(set(setl_ids))
    if not wanted:
        return []
    statement = select(*_SETTLEMENT_COLUMNS).where(settlements.c.setl_id.in_(wanted))
    return [SettlementRow(**dict(row)) for row in connection.execute(statement).mappings()]


def reversals_of(connection: Connection, setl_ids: Iterable[str]) -> list[SettlementRow]:
    wanted = sorted(set(setl_ids))
    if not wanted:
        return []
    statement = select(*_SETTLEMENT_COLUMNS).where(settlements.c.reverses.in_(wanted))
    return [SettlementRow(**dict(row)) for row in connection.execute(statement).mappings()]


def draws_on_contributor(
    connection: Connection, contributor: str, since_date: str, limit: int
) -> list[DrawRow]:
    """Draws on ``contributor``'s money at someone else's settlement (own draws excluded)."""
    statement = (
        select(*_DRAW_COLUMNS)
        .where(
            settlement_draws.c.contributor == contributor,
            settlement_draws.c.kind != "own",
            settlement_draws.c.business_date >= since_date,
        )
        .order_by(settlement_draws.c.business_date.desc(), settlement_draws.c.setl_id.desc())
        .limit(limit)
    )
    return [DrawRow(*row) for row in connection.execute(statement)]
