"""The monthly clearing (按月清算, docs/rules.md §1 and §11) as a job: from 01:00 on the first day
of a month (Asia/Shanghai), clear the month before it. The hour of grace lets settlements begun just
before midnight commit first: a draw of the old month written after it was stored would never be
cleared.

Restartable and idempotent through the service: the first run stores the month, every later run
(the scheduler's every minute, a cron line, two servers at once) finds it stored and is one
primary-key read. A month the scheduler missed while no server ran is not caught up here:
an operator runs it with ``gongji clearing run --month``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

from gongji.kernel.context import Context
from gongji.settlement.service.clearing import ClearingRun, run_clearing
from gongji.store.uow import UnitOfWork, run_in_transaction

GRACE: Final = timedelta(hours=1)


def month_before(today: date) -> str:
    """``YYYY-MM`` of the month that ended before ``today``'s month began."""
    return (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def run_monthly_clearing(ctx: Context) -> ClearingRun:
    """Clear last month (business calendar) unless it is stored; the stored or new result."""
    month = month_before((ctx.local_now() - GRACE).date())

    def work(uow: UnitOfWork) -> ClearingRun:
        result = run_clearing(ctx, uow, month)
        uow.commit()
        return result

    return run_in_transaction(ctx.engine, work)
