"""Bulk reads for jobs and imports: keyset scans over whole tables, a page at a time. No decisions.

A scan resumes after the last key it returned, so a job killed between pages starts again where
it stopped, and no page holds more than ``limit`` rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from gongji.store.tables import ledger_accounts
from gongji.store.tables_people import persons


@dataclass(frozen=True, slots=True)
class AccountKey:
    """Where an account belongs: its id, its region and the reference it carries (a psn_no)."""

    id: str
    region: str
    ref: str | None


def accounts_with_code(
    connection: Connection, code: int, after_id: str, limit: int
) -> list[AccountKey]:
    """Accounts of one chart code with ids after ``after_id``, in id order."""
    statement = (
        select(ledger_accounts.c.id, ledger_accounts.c.region, ledger_accounts.c.ref)
        .where(ledger_accounts.c.code == code, ledger_accounts.c.id > after_id)
        .order_by(ledger_accounts.c.id)
        .limit(limit)
    )
    return [AccountKey(row.id, row.region, row.ref) for row in connection.execute(statement)]


def any_person(connection: Connection) -> bool:
    return connection.execute(select(persons.c.psn_no).limit(1)).first() is not None
