"""The year-end rollover (结转, docs/rules.md §3): this year's personal-account money moves into
earlier years' money, one transfer per person and year.

Restartable and idempotent. Accounts are taken in id order, at most ``BATCH_SIZE_MAX`` per
transaction, and each transfer has the id ``roll:{year}:{region}:{psn_no}``. A rerun (after a
kill, or a second run) sends those ids again and the ledger answers ``exists`` without moving
anything, so nobody is rolled over twice, and money injected after the rollover stays in this
year's part until the next one.

Each transfer is a balancing transfer (``BALANCING_DEBIT``, no cap): the ledger moves what this
year's part holds when it posts, so the job reads no balance. Money that pending transfers
reserve counts as spent and stays where it is, so no reservation can be left without the money
behind it. An empty part gets a transfer of 0, so a rerun leaves it alone too.
"""

from __future__ import annotations

from functools import partial
from typing import Final

from gongji.core.errors import InvariantViolation
from gongji.kernel import chart
from gongji.kernel.context import Context
from gongji.kernel.errors import LedgerRefused
from gongji.ledger.types import (
    AMOUNT_MAX,
    SUCCESS_RESULTS,
    Account,
    AccountFlags,
    CreateTransferResult,
    Transfer,
    TransferFlags,
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
    outcomes = ctx.ledger.create_transfers_recorded_in(uow, _rollovers(ctx, uow, year, keys))
    if any(outcome.result not in SUCCESS_RESULTS for outcome in outcomes):
        raise LedgerRefused(f"rollover {year}", [outcome.result for outcome in outcomes])
    moved = sum(1 for o in outcomes if o.result is CreateTransferResult.OK and o.moved > 0)
    return moved, keys[-1].id if len(keys) == BATCH_SIZE_MAX else None


def _rollovers(ctx: Context, uow: UnitOfWork, year: int, keys: list[AccountKey]) -> list[Transfer]:
    """One balancing transfer a person whose accounts are open, without a cap: the ledger moves
    what this year's part holds when it posts, pending reservations counted as spent, and
    records 0 for an empty part. No balance is read first. A transfer made by an earlier run
    answers ``exists`` and moves nothing again.

    The accounts are read (locked) for their ``closed`` flag only: a transfer to or from a
    closed account would be refused, and the ledger would remember the refusal for good."""
    earlier = {key.id: chart.personal_earlier(key.region, key.ref or "") for key in keys}
    accounts = ctx.ledger.accounts_in(uow, [*earlier, *earlier.values()], lock=True)
    transfers: list[Transfer] = []
    for key in keys:
        current, into = accounts[key.id], accounts.get(earlier[key.id])
        if into is None or _closed(current) or _closed(into):
            continue
        transfers.append(
            Transfer(
                _transfer_id(year, key),
                current.id,
                into.id,
                AMOUNT_MAX,
                chart.LEDGER_CNY,
                chart.TransferCode.ROLLOVER,
                TransferFlags.BALANCING_DEBIT,
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
