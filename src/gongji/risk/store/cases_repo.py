"""SQL of cases, their alerts and recoveries. No decisions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from gongji.store import raw
from gongji.store.tables_risk import (
    risk_case_alerts,
    risk_cases,
    risk_recoveries,
    risk_resellable_items,
)


@dataclass(frozen=True, slots=True)
class CaseRow:
    id: str
    subject_kind: str
    subject: str
    state: str
    opened_by: str
    opened_at_us: int
    updated_at_us: int
    closed_at_us: int | None
    recovered_fen: int


def _columns() -> list[Any]:
    recovered = (
        select(func.coalesce(func.sum(risk_recoveries.c.amount_fen), 0))
        .where(risk_recoveries.c.case_id == risk_cases.c.id)
        .scalar_subquery()
    )
    return [*risk_cases.c, recovered.label("recovered_fen")]


def _row(row: Any) -> CaseRow:
    return CaseRow(
        row.id, row.subject_kind, row.subject, row.state, row.opened_by, int(row.opened_at_us),
        int(row.updated_at_us), row.closed_at_us, int(row.recovered_fen),
    )  # fmt: skip


_NUMBER_TURN = raw.advisory_key("risk_cases:number")


def next_number(connection: Connection) -> int:
    """The next case number. Two officers opening cases at once take turns on PostgreSQL (a
    transaction-scoped advisory lock, held to commit); SQLite has one writer at a time."""
    if connection.dialect.name != "sqlite":
        raw.execute(connection, "SELECT pg_advisory_xact_lock(:turn)", {"turn": _NUMBER_TURN})
    return int(connection.execute(select(func.count()).select_from(risk_cases)).scalar_one()) + 1


def insert_case(connection: Connection, case: CaseRow, alert_ids: Sequence[int]) -> None:
    values = {name: getattr(case, name) for name in CaseRow.__dataclass_fields__}
    del values["recovered_fen"]
    connection.execute(insert(risk_cases), [values])
    connection.execute(
        insert(risk_case_alerts), [{"case_id": case.id, "alert_id": a} for a in alert_ids]
    )


def case(connection: Connection, case_id: str, *, lock: bool = False) -> CaseRow | None:
    statement = select(*_columns()).where(risk_cases.c.id == case_id)
    if lock:
        statement = statement.with_for_update(of=risk_cases)
    found = connection.execute(statement).first()
    return None if found is None else _row(found)


def cases(connection: Connection, limit: int = 200) -> list[CaseRow]:
    statement = select(*_columns()).order_by(risk_cases.c.opened_at_us.desc()).limit(limit)
    return [_row(r) for r in connection.execute(statement)]


def cases_of(connection: Connection, subject: str) -> list[CaseRow]:
    statement = select(*_columns()).where(risk_cases.c.subject == subject)
    return [_row(r) for r in connection.execute(statement.order_by(risk_cases.c.opened_at_us))]


def set_state(connection: Connection, case_id: str, state: str, now_us: int, closed: bool) -> None:
    values: dict[str, Any] = {"state": state, "updated_at_us": now_us}
    if closed:
        values["closed_at_us"] = now_us
    connection.execute(update(risk_cases).where(risk_cases.c.id == case_id).values(**values))


def insert_recovery(
    connection: Connection, case_id: str, amount_fen: int, actor: str, now_us: int
) -> None:
    connection.execute(
        insert(risk_recoveries),
        [{"case_id": case_id, "amount_fen": amount_fen, "recorded_by": actor,
          "recorded_at_us": now_us}],
    )  # fmt: skip


def add_resellable(connection: Connection, item_code: str, actor: str, now_us: int) -> bool:
    exists = connection.execute(
        select(risk_resellable_items.c.item_code).where(
            risk_resellable_items.c.item_code == item_code
        )
    ).first()
    if exists is None:
        connection.execute(
            insert(risk_resellable_items),
            [{"item_code": item_code, "added_by": actor, "added_at_us": now_us}],
        )
    return exists is None
