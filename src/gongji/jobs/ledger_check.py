"""The ledger check as a job: its verdict stored, for the endpoint and monitoring to read.

A full check reads every transfer and every account (seconds on a ledger of a few hundred
thousand transfers), so no request starts one: ``GET /api/v1/ledger/check`` answers the last
stored verdict with its time, in one primary-key read.

Two kinds (gongji.ledger.incremental): the **incremental** check reads only the transfers
posted since the last passing check's watermark and the accounts they touch, so its cost follows
the traffic since, not the ledger's size; the **full** check reads everything, covers what the
incremental one does not (pending sums, accounts no new transfer touched) and resets the
verified sums. The scheduler of ``gongji serve`` runs an incremental check every
:data:`INTERVAL` and a full one every :data:`FULL_INTERVAL`; ``gongji jobs run ledger-check``
runs an incremental one now (a full one with ``--full``, or when no check has passed yet).

A passing check stores its watermark (``through_seq``) and the posted sums it verified
(``ledger_check_balances``); a failing one stores only its verdict, so the next incremental
check starts again from the last verified point and reports the fault again until it is found.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Final

from sqlalchemy import Connection, Engine, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from gongji.kernel.context import Context
from gongji.ledger.check import CheckReport
from gongji.ledger.incremental import Verified, full_check, incremental_check
from gongji.store.tables_access import ledger_check_balances, ledger_check_runs
from gongji.store.uow import UnitOfWork, run_in_transaction

INTERVAL: Final = timedelta(hours=1)
FULL_INTERVAL: Final = timedelta(days=1)
FULL: Final = "full"
INCREMENTAL: Final = "incremental"
_ROWS_PER_INSERT: Final = 1000
R = ledger_check_runs.c


@dataclass(frozen=True, slots=True)
class StoredVerdict:
    report: CheckReport
    started_at_us: int
    finished_at_us: int
    kind: str = FULL


def run_ledger_check(ctx: Context, *, full: bool = False) -> StoredVerdict:
    """Check the ledger now (incremental unless ``full`` or nothing verified yet) and store the
    verdict, ok or not."""
    started_at_us = ctx.now_us()
    since = None if full else verified_through(ctx.engine)
    if since is None:
        report, verified = full_check(ctx.engine)
        kind = FULL
    else:
        report, verified = incremental_check(ctx.engine, since)
        kind = INCREMENTAL
    stored = StoredVerdict(report, started_at_us, ctx.now_us(), kind)
    values = {
        "started_at_us": stored.started_at_us,
        "finished_at_us": stored.finished_at_us,
        "ok": int(report.ok),
        "report": json.dumps(asdict(report), ensure_ascii=False),
        "kind": kind,
        "through_seq": verified.through_seq if report.ok else None,
    }

    def store(uow: UnitOfWork) -> None:
        if report.ok:
            _store_verified(uow.connection, verified, replace_all=kind == FULL)
        uow.connection.execute(insert(ledger_check_runs), [values])
        uow.commit()

    run_in_transaction(ctx.engine, store)
    return stored


def verified_through(engine: Engine) -> int | None:
    """The watermark: the last transfer a passing check verified, or None before the first."""
    statement = (
        select(R.through_seq)
        .where(R.ok == 1, R.through_seq.is_not(None))
        .order_by(R.id.desc())
        .limit(1)
    )
    return run_in_transaction(
        engine, lambda uow: uow.connection.execute(statement).scalar_one_or_none(), read_only=True
    )


def _store_verified(connection: Connection, verified: Verified, *, replace_all: bool) -> None:
    rows = [
        {"num": num, "debits_posted": debits, "credits_posted": credits}
        for num, (debits, credits) in verified.posted.items()
    ]
    if replace_all:
        connection.execute(delete(ledger_check_balances))
        for start in range(0, len(rows), _ROWS_PER_INSERT):
            connection.execute(
                insert(ledger_check_balances), rows[start : start + _ROWS_PER_INSERT]
            )
        return
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    for row in rows:
        statement = dialect.insert(ledger_check_balances).values(**row)
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=[ledger_check_balances.c.num],
                set_={
                    "debits_posted": statement.excluded.debits_posted,
                    "credits_posted": statement.excluded.credits_posted,
                },
            )
        )


def last_verdict(engine: Engine) -> StoredVerdict | None:
    """The latest stored verdict, or None before the first run."""
    statement = select(ledger_check_runs).order_by(R.id.desc()).limit(1)
    row = run_in_transaction(
        engine, lambda uow: uow.connection.execute(statement).mappings().first(), read_only=True
    )
    if row is None:
        return None
    report = CheckReport(**json.loads(str(row["report"])))
    return StoredVerdict(
        report, int(row["started_at_us"]), int(row["finished_at_us"]), str(row["kind"])
    )


def run_if_due(ctx: Context) -> StoredVerdict | None:
    """The scheduler's minute: a full check when the last full one is older than a day, else an
    incremental one when the last check of any kind is older than the interval."""
    now_us = ctx.now_us()
    last_full = _last_started(ctx.engine, FULL)
    if last_full is None or now_us - last_full >= _us(FULL_INTERVAL):
        return run_ledger_check(ctx, full=True)
    last = last_verdict(ctx.engine)
    if last is not None and now_us - last.started_at_us < _us(INTERVAL):
        return None
    return run_ledger_check(ctx)


def _last_started(engine: Engine, kind: str) -> int | None:
    statement = select(func.max(R.started_at_us)).where(R.kind == kind)
    return run_in_transaction(
        engine, lambda uow: uow.connection.execute(statement).scalar_one_or_none(), read_only=True
    )


def _us(interval: timedelta) -> int:
    return int(interval.total_seconds() * 1_000_000)
