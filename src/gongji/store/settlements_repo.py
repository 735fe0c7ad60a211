"""SQL for settlements, their items and draws, and accumulators. No decisions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Connection, case, func, insert, select, update

from gongji.store.engine import is_sqlite
from gongji.store.tables_people import persons
from gongji.store.tables_settlements import (
    AMOUNT_COLUMNS,
    accumulators,
    settlement_draws,
    settlement_items,
    settlements,
)


@dataclass(frozen=True, slots=True)
class SettlementRow:
    setl_id: str
    institution_code: str
    request_id: str
    request_hash: str
    kind: str
    reverses: str | None
    psn_no: str
    insutype: str
    insured_region: str
    treatment_region: str
    med_type: str
    benefit_pool: str
    business_date: str
    year: int
    created_at_us: int
    medfee_sumamt: int
    fulamt_ownpay_amt: int
    overlmt_selfpay: int
    preselfpay_amt: int
    inscp_scp_amt: int
    act_pay_dedc: int
    hifp_pay: int
    fund_pay_sumamt: int
    hosp_part_amt: int
    psn_part_amt: int
    acct_pay: int
    acct_mulaid_pay: int
    psn_cash_pay: int
    balc: int

    def amounts(self) -> dict[str, int]:
        return {name: int(getattr(self, name)) for name in AMOUNT_COLUMNS}


@dataclass(frozen=True, slots=True)
class DrawRow:
    setl_id: str
    seq: int
    kind: str
    source_id: str
    account_id: str
    contributor: str
    contributor_region: str
    amount_fen: int
    business_date: str
    treatment_region: str


_SETTLEMENT_COLUMNS = [settlements.c[f.name] for f in fields(SettlementRow)]
_DRAW_COLUMNS = [settlement_draws.c[f.name] for f in fields(DrawRow)]


def settlement(connection: Connection, setl_id: str) -> SettlementRow | None:
    row = (
        connection.execute(select(*_SETTLEMENT_COLUMNS).where(settlements.c.setl_id == setl_id))
        .mappings()
        .first()
    )
    return None if row is None else SettlementRow(**dict(row))


def by_request(
    connection: Connection, institution_code: str, request_id: str
) -> SettlementRow | None:
    statement = select(*_SETTLEMENT_COLUMNS).where(
        settlements.c.institution_code == institution_code, settlements.c.request_id == request_id
    )
    row = connection.execute(statement).mappings().first()
    return None if row is None else SettlementRow(**dict(row))


def reversal_of(connection: Connection, setl_id: str) -> SettlementRow | None:
    statement = select(*_SETTLEMENT_COLUMNS).where(settlements.c.reverses == setl_id)
    row = connection.execute(statement).mappings().first()
    return None if row is None else SettlementRow(**dict(row))


def list_for_institution(
    connection: Connection, institution_code: str, first_date: str, last_date: str, limit: int
) -> list[SettlementRow]:
    statement = (
        select(*_SETTLEMENT_COLUMNS)
        .where(
            settlements.c.institution_code == institution_code,
            settlements.c.business_date >= first_date,
            settlements.c.business_date <= last_date,
        )
        .order_by(settlements.c.created_at_us, settlements.c.setl_id)
        .limit(limit)
    )
    return [SettlementRow(**dict(row)) for row in connection.execute(statement).mappings()]


def insert_settlement(connection: Connection, row: SettlementRow) -> None:
    connection.execute(insert(settlements), [{f.name: getattr(row, f.name) for f in fields(row)}])


def insert_items(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        connection.execute(insert(settlement_items), list(rows))


def items_of(connection: Connection, setl_id: str) -> list[dict[str, Any]]:
    statement = (
        select(settlement_items)
        .where(settlement_items.c.setl_id == setl_id)
        .order_by(settlement_items.c.line_no)
    )
    return [dict(row) for row in connection.execute(statement).mappings()]


def insert_draws(connection: Connection, rows: Sequence[DrawRow]) -> None:
    if rows:
        connection.execute(
            insert(settlement_draws),
            [{f.name: getattr(r, f.name) for f in fields(r)} for r in rows],
        )


def draws_of(connection: Connection, setl_id: str) -> list[DrawRow]:
    statement = (
        select(*_DRAW_COLUMNS)
        .where(settlement_draws.c.setl_id == setl_id)
        .order_by(settlement_draws.c.seq)
    )
    return [DrawRow(**dict(row)) for row in connection.execute(statement).mappings()]


def draws_between(connection: Connection, first_date: str, last_date: str) -> list[DrawRow]:
    statement = select(*_DRAW_COLUMNS).where(
        settlement_draws.c.business_date >= first_date,
        settlement_draws.c.business_date <= last_date,
    )
    return [DrawRow(**dict(row)) for row in connection.execute(statement).mappings()]


def lock_accumulator(
    connection: Connection, psn_no: str, year: int, insutype: str, pool: str, now_us: int
) -> tuple[int, int]:
    """The person's (deductible used, fund paid) in a benefit pool for the year, row-locked;
    created at zero.

    Every settlement of a person takes the lock of the person's row first (on SQLite the write
    transaction already serialises them), so two settlements of one person queue even when they
    draw on different pools.
    """
    if not is_sqlite(connection.engine):
        connection.execute(
            select(persons.c.psn_no).where(persons.c.psn_no == psn_no).with_for_update()
        )
    key = _accumulator_key(psn_no, year, insutype, pool)
    statement = select(accumulators.c.deductible_used_fen, accumulators.c.fund_paid_fen).where(*key)
    if not is_sqlite(connection.engine):
        statement = statement.with_for_update()
    row = connection.execute(statement).first()
    if row is not None:
        return int(row[0]), int(row[1])
    connection.execute(
        insert(accumulators),
        [
            {
                "psn_no": psn_no,
                "year": year,
                "insutype": insutype,
                "pool": pool,
                "deductible_used_fen": 0,
                "fund_paid_fen": 0,
                "updated_at_us": now_us,
            }
        ],
    )
    return 0, 0


def read_accumulator(
    connection: Connection, psn_no: str, year: int, insutype: str, pool: str
) -> tuple[int, int]:
    statement = select(accumulators.c.deductible_used_fen, accumulators.c.fund_paid_fen).where(
        *_accumulator_key(psn_no, year, insutype, pool)
    )
    row = connection.execute(statement).first()
    return (0, 0) if row is None else (int(row[0]), int(row[1]))


def _accumulator_key(psn_no: str, year: int, insutype: str, pool: str) -> tuple[Any, ...]:
    return (
        accumulators.c.psn_no == psn_no,
        accumulators.c.year == year,
        accumulators.c.insutype == insutype,
        accumulators.c.pool == pool,
    )


def set_accumulator(
    connection: Connection,
    psn_no: str,
    year: int,
    insutype: str,
    pool: str,
    deductible_used_fen: int,
    fund_paid_fen: int,
    now_us: int,
) -> None:
    connection.execute(
        update(accumulators)
        .where(*_accumulator_key(psn_no, year, insutype, pool))
        .values(
            deductible_used_fen=deductible_used_fen,
            fund_paid_fen=fund_paid_fen,
            updated_at_us=now_us,
        )
    )


def totals(
    connection: Connection,
    institution_code: str,
    first_date: str,
    last_date: str,
    *,
    insutype: str | None = None,
    insured_region: str | None = None,
    med_types: Sequence[str] | None = None,
) -> tuple[int, int, int, int]:
    """(net count, medfee_sumamt, fund_pay_sumamt, acct_pay) of an institution's settlements
    by business date; a reversal counts −1 and its amounts are already negated."""
    net_count = func.sum(case((settlements.c.kind == "reversal", -1), else_=1))
    conditions = [
        settlements.c.institution_code == institution_code,
        settlements.c.business_date >= first_date,
        settlements.c.business_date <= last_date,
    ]
    if insutype is not None:
        conditions.append(settlements.c.insutype == insutype)
    if insured_region is not None:
        conditions.append(settlements.c.insured_region == insured_region)
    if med_types is not None:
        conditions.append(settlements.c.med_type.in_(list(med_types)))
    statement = select(
        net_count,
        func.sum(settlements.c.medfee_sumamt),
        func.sum(settlements.c.fund_pay_sumamt),
        func.sum(settlements.c.acct_pay),
    ).where(*conditions)
    row = connection.execute(statement).one()
    count, medfee, fund, acct = (int(value or 0) for value in row)
    return count, medfee, fund, acct
