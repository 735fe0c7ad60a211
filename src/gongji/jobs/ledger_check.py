"""The full ledger check as a job: its verdict stored, for the endpoint and monitoring to read.

A full check reads every transfer and every account (seconds on a ledger of a few hundred
thousand transfers), so no request starts one: ``GET /api/v1/ledger/check`` answers the last
stored verdict with its time, in one primary-key read. The scheduler of ``gongji serve`` runs
the check every :data:`INTERVAL` and ``gongji jobs run ledger-check`` runs it now; both store.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Final

from sqlalchemy import Engine, insert, select

from gongji.kernel.context import Context
from gongji.ledger.check import CheckReport, check_ledger
from gongji.store.tables_access import ledger_check_runs
from gongji.store.uow import UnitOfWork, run_in_transaction

INTERVAL: Final = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class StoredVerdict:
    report: CheckReport
    started_at_us: int
    finished_at_us: int


def run_ledger_check(ctx: Context) -> StoredVerdict:
    """Check the whole ledger now and store the verdict (ok or not)."""
    started_at_us = ctx.now_us()
    report = check_ledger(ctx.engine)
    stored = StoredVerdict(report, started_at_us, ctx.now_us())
    values = {
        "started_at_us": stored.started_at_us,
        "finished_at_us": stored.finished_at_us,
        "ok": int(report.ok),
        "report": json.dumps(asdict(report), ensure_ascii=False),
    }

    def store(uow: UnitOfWork) -> None:
        uow.connection.execute(insert(ledger_check_runs), [values])
        uow.commit()

    run_in_transaction(ctx.engine, store)
    return stored


def last_verdict(engine: Engine) -> StoredVerdict | None:
    """The latest stored verdict, or None before the first run."""
    statement = select(ledger_check_runs).order_by(ledger_check_runs.c.id.desc()).limit(1)
    row = run_in_transaction(
        engine, lambda uow: uow.connection.execute(statement).mappings().first(), read_only=True
    )
    if row is None:
        return None
    report = CheckReport(**json.loads(str(row["report"])))
    return StoredVerdict(report, int(row["started_at_us"]), int(row["finished_at_us"]))


def run_if_due(ctx: Context) -> StoredVerdict | None:
    """The scheduler's minute: a new check when the last one is older than the interval."""
    last = last_verdict(ctx.engine)
    due_us = int(INTERVAL.total_seconds() * 1_000_000)
    if last is not None and ctx.now_us() - last.started_at_us < due_us:
        return None
    return run_ledger_check(ctx)
