"""The 06:00 return of offers not accepted (docs/rules.md §6.1), as a job.

Restartable and idempotent: each batch is its own transaction and touches only offers still
``offered`` past their deadline, so a kill between batches loses nothing and a rerun (or two
runs at once) expires each offer exactly once.
"""

from __future__ import annotations

from gongji.kernel.context import Context
from gongji.mutual_aid.service import grants
from gongji.store.uow import UnitOfWork, run_in_transaction

BATCH_SIZE = 500
BATCHES_MAX = 10_000


def run_expire_grants(ctx: Context) -> int:
    """Expire every due offer; returns how many this run expired."""

    def batch(uow: UnitOfWork) -> int:
        count = grants.expire_due_offers(ctx, uow, limit=BATCH_SIZE)
        uow.commit()
        return count

    total = 0
    for _ in range(BATCHES_MAX):
        count = run_in_transaction(ctx.engine, batch)
        total += count
        if count < BATCH_SIZE:
            break
    return total
