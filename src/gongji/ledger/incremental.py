"""The ledger check of only what is new since the last verified point (its watermark).

A full check (:mod:`gongji.ledger.check`) reads every transfer: seconds on a few hundred
thousand, too much to run every hour as the ledger grows. The incremental check reads only the
transfers after the watermark (``seq`` above ``through_seq``) and, for each account they touch,
compares the account's posted sums with the sums the last passing check verified
(``ledger_check_balances``) plus those new transfers. It verifies, for the new rows: each
transfer's shape (amount, accounts, ledger), that each post or void of a pending transfer has
its resolution, every touched account's posted debits and credits, and the accounts' balance
flags. Pending sums, resolutions of older transfers and accounts no new transfer touched are
the full check's (run daily); it also resets the verified sums.

**The fence.** Transfers' ``seq`` comes from a sequence, and on PostgreSQL two writers can
commit out of order: a check that saw ``seq`` 101 could miss 100, still uncommitted, and never
read it. So the check first takes a fence: on PostgreSQL ``LOCK TABLE … IN SHARE MODE`` for one
statement, which waits for the transactions writing transfers to end and reads ``max(seq)``;
everything up to the fence is committed, and anything inserted later gets a higher ``seq``. The
check's snapshot (``REPEATABLE READ``) is taken after it. Transfers above the fence that the
snapshot sees count towards the accounts' sums now, but the watermark moves only to the fence,
with the sums as of the fence: the next run reads them again. SQLite has one writer at a time
and numbers transfers in commit order, so its fence is ``max(seq)`` in the snapshot itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Connection, Engine, and_, func, select, text

from gongji.ledger.check import (
    CheckReport,
    check_bound,
    check_transfer_shapes,
    check_unmatched_resolutions,
    in_snapshot,
    run_check,
)
from gongji.ledger.types import TransferFlags
from gongji.store.tables import ledger_accounts, ledger_transfers
from gongji.store.tables_access import ledger_check_balances

A = ledger_accounts.c
T = ledger_transfers.c
B = ledger_check_balances.c
_NOT_POSTING: Final = int(TransferFlags.PENDING | TransferFlags.VOID_PENDING)
_IN_BATCH: Final = 500  # account numbers per IN list

Posted = tuple[int, int]
"""An account's posted debits and credits, in fen."""


@dataclass(frozen=True, slots=True)
class Verified:
    """What a passing check vouches for: every transfer up to ``through_seq``, and the posted
    sums of ``posted``'s accounts as of it (for a full check, of every account)."""

    through_seq: int
    posted: Mapping[int, Posted]


def full_check(engine: Engine) -> tuple[CheckReport, Verified]:
    """The full check, and (when it passes) every account's posted sums as of its fence."""
    fence = _fence(engine)

    def work(connection: Connection) -> tuple[CheckReport, Verified]:
        through = fence if fence is not None else _max_seq(connection)
        report = run_check(connection)
        posted = {row.num: (row.debits_posted, row.credits_posted) for row in _accounts(connection)}
        for num, (debits, credits) in _posted_after(connection, through, None).items():
            before = posted.get(num, (0, 0))
            posted[num] = (before[0] - debits, before[1] - credits)
        return report, Verified(through, posted)

    return in_snapshot(engine, work)


def incremental_check(engine: Engine, since: int) -> tuple[CheckReport, Verified]:
    """The transfers after ``since`` and the accounts they touch (module docstring)."""
    fence = _fence(engine)

    def work(connection: Connection) -> tuple[CheckReport, Verified]:
        through = max(since, fence if fence is not None else _max_seq(connection))
        report = CheckReport()
        check_transfer_shapes(connection, report, after_seq=since)
        check_unmatched_resolutions(connection, report, after_seq=since)
        to_fence = _posted_after(connection, since, through)
        beyond = _posted_after(connection, through, None)
        touched = sorted(set(to_fence) | set(beyond))
        verified = _verified(connection, touched)
        now_verified: dict[int, Posted] = {}
        for row in _accounts(connection, touched):
            report.accounts += 1
            earlier = verified.get(row.num, (0, 0))
            new, later = to_fence.get(row.num, (0, 0)), beyond.get(row.num, (0, 0))
            expected = (earlier[0] + new[0] + later[0], earlier[1] + new[1] + later[1])
            for name, have, want in zip(
                ("debits_posted", "credits_posted"),
                (row.debits_posted, row.credits_posted),
                expected,
                strict=True,
            ):
                if have != want:
                    report.add(
                        f"account {row.id}: {name} {have} ≠ {want}, the verified sum and the "
                        "transfers since"
                    )
            check_bound(row, report)
            now_verified[row.num] = (earlier[0] + new[0], earlier[1] + new[1])
        if len(now_verified) != len(touched):
            report.add("new transfers name accounts that do not exist")
        report.debits_posted = sum(amount for amount, _ in to_fence.values())
        report.credits_posted = sum(amount for _, amount in to_fence.values())
        return report, Verified(through, now_verified)

    return in_snapshot(engine, work)


def _fence(engine: Engine) -> int | None:
    """PostgreSQL: the highest ``seq`` below which every transfer is committed (module
    docstring); None on SQLite, whose snapshot is its own fence."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.begin() as connection:
        connection.execute(text("LOCK TABLE ledger_transfers IN SHARE MODE"))
        return _max_seq(connection)


def _max_seq(connection: Connection) -> int:
    return int(connection.execute(select(func.coalesce(func.max(T.seq), 0))).scalar_one())


def _posted_after(connection: Connection, after: int, through: int | None) -> dict[int, Posted]:
    """Posted debits and credits per account of the transfers with ``after < seq ≤ through``.

    Summed here, not by ``GROUP BY``: grouping by account, SQLite walks the account index over
    the whole table rather than the few rows after the watermark."""
    window = [T.seq > after] if through is None else [T.seq > after, T.seq <= through]
    statement = select(T.debit_num, T.credit_num, T.amount, T.flags).where(and_(*window))
    sums: dict[int, list[int]] = {}
    for debit_num, credit_num, amount, flags in connection.execute(statement):
        posted = 0 if flags & _NOT_POSTING else int(amount)
        sums.setdefault(int(debit_num), [0, 0])[0] += posted
        sums.setdefault(int(credit_num), [0, 0])[1] += posted
    return {num: (debits, credits) for num, (debits, credits) in sums.items()}


def _accounts(connection: Connection, nums: Iterable[int] | None = None) -> list[Any]:
    if nums is None:
        return list(connection.execute(select(ledger_accounts).order_by(A.num)))
    found: list[Any] = []
    for batch in _batches(list(nums)):
        statement = select(ledger_accounts).where(A.num.in_(batch)).order_by(A.num)
        found.extend(connection.execute(statement))
    return found


def _verified(connection: Connection, nums: list[int]) -> dict[int, Posted]:
    found: dict[int, Posted] = {}
    for batch in _batches(nums):
        statement = select(B.num, B.debits_posted, B.credits_posted).where(B.num.in_(batch))
        for num, debits, credits in connection.execute(statement):
            found[int(num)] = (int(debits), int(credits))
    return found


def _batches(nums: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(nums), _IN_BATCH):
        yield nums[start : start + _IN_BATCH]
