"""The year-end rollover (结转, docs/rules.md §3): this year's personal-account money moves into
earlier years' money, one transfer per person and year.

Restartable and idempotent. Accounts are taken in id order, at most ``BATCH_SIZE_MAX`` per
transaction, and each transfer has the id ``roll:{year}:{region}:{psn_no}``. A rerun (after a
kill, or a second run) finds those ids and skips the person, so nobody is rolled over twice, and
money injected after the rollover stays in this year's part until the next one.

Only the available balance moves (``credit_available``): money that pending transfers reserve
stays where it is, so no reservation can be left without the money behind it.
"""

from __future__ import annotations

from functools import partial
from typing import Final

from gongji.core.errors import InvariantViolation
from gongji.kernel import chart
from gongji.kernel.context import Context
from gongji.kernel.errors import LedgerRefused
from gongji.ledger.types import (
    SUCCESS_RESULTS,
    Account,
    AccountFlags,
    CreateTransferResult,
    Transfer,
)
from gongji.people.domain.import_errors import RolloverYearNotEnded, RolloverYearPast
from gongji.people.store import scans_repo
from gongji.people.store.scans_repo import AccountKey
from gongji.store.uow import UnitOfWork, run_in_transaction

BATCH_SIZE_MAX: Final = 1_000
BATCHES_MAX: Final = 10_000_000  # a bound, far beyond the nation's ten-digit population


def rollover_transfer_id(year: int, region: str, psn_no: str) -> str:
    return f"roll:{year}:{region}:{psn_no}"


def run_rollover(ctx: Context, year: int) -> int:
    """Roll ``year`` over for every personal account; returns how many moved in this run.

    Only the year just ended (Asia/Shanghai) may be rolled over: before its end, money injected
    later that year would stay behind; after the next year began, that year's money would go too.
    """
    last = ctx.today().year - 1
    if year > last:
        raise RolloverYearNotEnded(year=year)
    if year < last:
        raise RolloverYearPast(year=year, last=last)
    moved, after_id = 0, ""
    for _ in range(BATCHES_MAX):
        work = partial(_committed_batch, ctx, year, after_id)
        count, after_next = run_in_transaction(ctx.engine, work)
        moved += count
        if after_next is None:
            return moved
        after_id = after_next
    raise InvariantViolation(f"rollover {year}: more than {BATCHES_MAX} batches")


def _committed_batch(
    ctx: Context, year: int, after_id: str, uow: UnitOfWork
) -> tuple[int, str | None]:
    done = roll_over_batch(ctx, uow, year, after_id)
    uow.commit()
    return done


def roll_over_batch(
    ctx: Context, uow: UnitOfWork, year: int, after_id: str
) -> tuple[int, str | None]:
    """One batch after ``after_id``: (how many moved, where the next batch starts or None)."""
    keys = scans_repo.accounts_with_code(
        uow.connection, chart.AccountCode.PERSONAL_CURRENT, after_id, BATCH_SIZE_MAX
    )
    transfers = _rollovers(ctx, uow, year, keys)
    results = ctx.ledger.create_transfers_in(uow, transfers)
    if not set(results) <= SUCCESS_RESULTS:
        raise LedgerRefused(f"rollover {year}", results)
    moved = results.count(CreateTransferResult.OK)
    return moved, keys[-1].id if len(keys) == BATCH_SIZE_MAX else None


def _rollovers(ctx: Context, uow: UnitOfWork, year: int, keys: list[AccountKey]) -> list[Transfer]:
    """The transfers still to make: not made yet, accounts open, money available."""
    wanted = {key.id: _transfer_id(year, key) for key in keys}
    done = ctx.ledger.transfers_in(uow, wanted.values())
    pending = [key for key in keys if wanted[key.id] not in done]
    earlier = {key.id: chart.personal_earlier(key.region, key.ref or "") for key in pending}
    accounts = ctx.ledger.accounts_in(uow, [*earlier, *earlier.values()], lock=True)
    transfers: list[Transfer] = []
    for key in pending:
        current, into = accounts[key.id], accounts.get(earlier[key.id])
        if into is None or _closed(current) or _closed(into) or current.credit_available <= 0:
            continue
        transfers.append(
            Transfer(
                wanted[key.id],
                current.id,
                into.id,
                current.credit_available,
                chart.LEDGER_CNY,
                chart.TransferCode.ROLLOVER,
                ref=key.ref,
            )
        )
    return transfers


def _transfer_id(year: int, key: AccountKey) -> str:
    if not key.ref:
        raise InvariantViolation(f"personal account {key.id} carries no person number")
    return rollover_transfer_id(year, key.region, key.ref)


def _closed(account: Account) -> bool:
    return bool(account.flags & AccountFlags.CLOSED)
