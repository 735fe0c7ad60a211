"""SQL for settlements, their items and draws, and accumulators. No decisions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

from sqlalchemy import Connection, case, func, select

from gongji.store import raw
from gongji.store.engine import is_sqlite
from gongji.store.tables_institutions import catalogue_items
from gongji.store.tables_settlements import (
    AMOUNT_COLUMNS,
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


@dataclass(frozen=True, slots=True)
class ItemRow:
    """One settled bill line; ``quantity`` is the decimal text the institution sent."""

    setl_id: str
    line_no: int
    item_code: str
    quantity: str
    unit_price_fen: int
    det_item_fee_sumamt: int
    fulamt_ownpay_amt: int
    overlmt_amt: int
    preselfpay_amt: int
    inscp_scp_amt: int
    account_payable_fen: int


_SETTLEMENT_COLUMNS = [settlements.c[f.name] for f in fields(SettlementRow)]
_DRAW_COLUMNS = [settlement_draws.c[f.name] for f in fields(DrawRow)]


def settlement(connection: Connection, setl_id: str) -> SettlementRow | None:
    row = (
        connection.execute(select(*_SETTLEMENT_COLUMNS).where(settlements.c.setl_id == setl_id))
        .mappings()
        .first()
    )
    return None if row is None else SettlementRow(**dict(row))


_BY_REQUEST = (
    f"SELECT {raw.column_list(SettlementRow)} FROM settlements"
    " WHERE institution_code = :institution_code AND request_id = :request_id"
)


def by_request_read(institution_code: str, request_id: str) -> raw.Read:
    return _BY_REQUEST, {"institution_code": institution_code, "request_id": request_id}


def by_request(
    connection: Connection, institution_code: str, request_id: str
) -> SettlementRow | None:
    found = raw.fetch(connection, *by_request_read(institution_code, request_id))
    return SettlementRow(*found[0]) if found else None


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


_INSERT_SETTLEMENT = raw.insert_statement("settlements", raw.field_names(SettlementRow))


def insert_settlement(connection: Connection, row: SettlementRow) -> None:
    raw.execute(connection, _INSERT_SETTLEMENT, raw.record_params(row))


def insert_items(connection: Connection, rows: Sequence[ItemRow]) -> None:
    raw.insert_rows(connection, "settlement_items", ItemRow, rows)


_ITEMS_OF = (
    f"SELECT {raw.column_list(ItemRow)} FROM settlement_items"
    " WHERE setl_id = :setl_id ORDER BY line_no"
)


def items_read(setl_id: str) -> raw.Read:
    return _ITEMS_OF, {"setl_id": setl_id}


def items_of(connection: Connection, setl_id: str) -> list[ItemRow]:
    return [ItemRow(*row) for row in raw.fetch(connection, *items_read(setl_id))]


def insert_draws(connection: Connection, rows: Sequence[DrawRow]) -> None:
    raw.insert_rows(connection, "settlement_draws", DrawRow, rows)


_DRAWS_OF = (
    f"SELECT {raw.column_list(DrawRow)} FROM settlement_draws WHERE setl_id = :setl_id ORDER BY seq"
)


def draws_read(setl_id: str) -> raw.Read:
    return _DRAWS_OF, {"setl_id": setl_id}


def draws_of(connection: Connection, setl_id: str) -> list[DrawRow]:
    return [DrawRow(*row) for row in raw.fetch(connection, *draws_read(setl_id))]


_ACCUMULATOR_KEY = "psn_no = :psn_no AND year = :year AND insutype = :insutype AND pool = :pool"
_READ_ACCUMULATOR = (
    f"SELECT deductible_used_fen, fund_paid_fen FROM accumulators WHERE {_ACCUMULATOR_KEY}"
)
_LOCK_PERSON = "SELECT psn_no FROM persons WHERE psn_no = :psn_no FOR UPDATE"
_NEW_ACCUMULATOR = (
    "INSERT INTO accumulators (psn_no, year, insutype, pool, deductible_used_fen, fund_paid_fen,"
    " updated_at_us) VALUES (:psn_no, :year, :insutype, :pool, 0, 0, :now_us)"
)
_SET_ACCUMULATOR = (
    "UPDATE accumulators SET deductible_used_fen = :deductible_used_fen,"
    f" fund_paid_fen = :fund_paid_fen, updated_at_us = :now_us WHERE {_ACCUMULATOR_KEY}"
)


def lock_person_read(psn_no: str) -> raw.Read:
    """The person's row lock that :func:`lock_accumulator` takes first (PostgreSQL)."""
    return _LOCK_PERSON, {"psn_no": psn_no}


_PG_LOCK_ACCUMULATOR = (  # the row locked (and made at zero if missing) in one statement
    f"{_NEW_ACCUMULATOR} ON CONFLICT (psn_no, year, insutype, pool)"
    " DO UPDATE SET updated_at_us = accumulators.updated_at_us"
    " RETURNING deductible_used_fen, fund_paid_fen"
)


def accumulator_lock_read(
    psn_no: str, year: int, insutype: str, pool: str, now_us: int
) -> raw.Read:
    """What :func:`lock_accumulator` sends on PostgreSQL, to make ahead (``raw.prefetch``)."""
    key = {"psn_no": psn_no, "year": year, "insutype": insutype, "pool": pool}
    return _PG_LOCK_ACCUMULATOR, {**key, "now_us": now_us}


def lock_accumulator(
    connection: Connection, psn_no: str, year: int, insutype: str, pool: str, now_us: int
) -> tuple[int, int]:
    """The person's (deductible used, fund paid) in a benefit pool for the year, row-locked;
    created at zero.

    Every settlement of a person takes the lock of the person's row first (on SQLite the write
    transaction already serialises them), so two settlements of one person queue even when they
    draw on different pools. On PostgreSQL the accumulator's row is then made if missing and
    locked by one statement (an upsert that changes nothing of a row already there), so that a
    settlement reading ahead (``accumulator_lock_read``) needs no write in between.
    """
    key = {"psn_no": psn_no, "year": year, "insutype": insutype, "pool": pool}
    if not is_sqlite(connection.engine):
        raw.fetch(connection, *lock_person_read(psn_no))
        found = raw.fetch(connection, *accumulator_lock_read(psn_no, year, insutype, pool, now_us))
        return int(found[0][0]), int(found[0][1])
    found = raw.fetch(connection, _READ_ACCUMULATOR + raw.for_update(connection), key)
    if found:
        return int(found[0][0]), int(found[0][1])
    raw.execute(connection, _NEW_ACCUMULATOR, {**key, "now_us": now_us})
    return 0, 0


def accumulator_read(psn_no: str, year: int, insutype: str, pool: str) -> raw.Read:
    """What :func:`read_accumulator` reads (unlocked), to make ahead (``raw.prefetch``)."""
    return _READ_ACCUMULATOR, {"psn_no": psn_no, "year": year, "insutype": insutype, "pool": pool}


def read_accumulator(
    connection: Connection, psn_no: str, year: int, insutype: str, pool: str
) -> tuple[int, int]:
    found = raw.fetch(connection, *accumulator_read(psn_no, year, insutype, pool))
    return (int(found[0][0]), int(found[0][1])) if found else (0, 0)


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
    params = {
        "psn_no": psn_no,
        "year": year,
        "insutype": insutype,
        "pool": pool,
        "deductible_used_fen": deductible_used_fen,
        "fund_paid_fen": fund_paid_fen,
        "now_us": now_us,
    }
    raw.execute(connection, _SET_ACCUMULATOR, params)


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


def person_sums(
    connection: Connection, psn_no: str, first_date: str, last_date: str
) -> list[tuple[str, str, int, int, int, int]]:
    """(insutype, benefit pool, deductible paid, fund paid, account paid, medical fees) of a
    person's settlements by business date, at every institution; reversals are negative rows."""
    statement = (
        select(
            settlements.c.insutype,
            settlements.c.benefit_pool,
            func.sum(settlements.c.act_pay_dedc),
            func.sum(settlements.c.fund_pay_sumamt),
            func.sum(settlements.c.acct_pay),
            func.sum(settlements.c.medfee_sumamt),
        )
        .where(
            settlements.c.psn_no == psn_no,
            settlements.c.business_date >= first_date,
            settlements.c.business_date <= last_date,
        )
        .group_by(settlements.c.insutype, settlements.c.benefit_pool)
        .order_by(settlements.c.insutype, settlements.c.benefit_pool)
    )
    return [
        (str(row[0]), str(row[1]), *(int(value or 0) for value in row[2:]))  # type: ignore[misc]
        for row in connection.execute(statement)
    ]


@dataclass(frozen=True, slots=True)
class PersonItemRow:
    setl_id: str
    institution_code: str
    med_type: str
    business_date: str
    line_no: int
    item_code: str
    quantity: str
    unit_price_fen: int
    det_item_fee_sumamt: int


def live_items_of_person(
    connection: Connection,
    psn_no: str,
    first_date: str,
    last_date: str,
    med_types: Sequence[str],
    categories: Sequence[str],
    limit: int,
) -> list[PersonItemRow]:
    """The lines of a person's settlements of ``med_types`` not reversed since, at every
    institution, whose catalogue item is of one of ``categories``, by business date then
    settlement and line. The category is filtered here, before ``limit``: filtered after it,
    a person with many other lines would get fewer than ``limit`` of the wanted ones."""
    reversed_ids = select(settlements.c.reverses).where(settlements.c.reverses.is_not(None))
    statement = (
        select(
            settlements.c.setl_id,
            settlements.c.institution_code,
            settlements.c.med_type,
            settlements.c.business_date,
            settlement_items.c.line_no,
            settlement_items.c.item_code,
            settlement_items.c.quantity,
            settlement_items.c.unit_price_fen,
            settlement_items.c.det_item_fee_sumamt,
        )
        .join(settlement_items, settlement_items.c.setl_id == settlements.c.setl_id)
        .join(catalogue_items, catalogue_items.c.code == settlement_items.c.item_code)
        .where(
            settlements.c.psn_no == psn_no,
            settlements.c.kind == "settlement",
            settlements.c.med_type.in_(list(med_types)),
            catalogue_items.c.category.in_(list(categories)),
            settlements.c.business_date >= first_date,
            settlements.c.business_date <= last_date,
            settlements.c.setl_id.not_in(reversed_ids),
        )
        .order_by(
            settlements.c.business_date, settlements.c.created_at_us, settlement_items.c.line_no
        )
        .limit(limit)
    )
    return [PersonItemRow(*row) for row in connection.execute(statement)]


def settled_at(connection: Connection, psn_no: str, institution_code: str) -> bool:
    """Whether the person has any settlement at this institution."""
    statement = (
        select(settlements.c.setl_id)
        .where(settlements.c.psn_no == psn_no, settlements.c.institution_code == institution_code)
        .limit(1)
    )
    return connection.execute(statement).first() is not None
