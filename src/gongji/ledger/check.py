"""Verifying every ledger invariant over a whole database (``gongji ledger check``).

Runs in one read-only snapshot, so every query sees the same ledger while writers go on:
SQLite's read transaction is one; PostgreSQL's default (READ COMMITTED) would give each query
its own, so there it runs ``REPEATABLE READ READ ONLY`` (:func:`in_snapshot`). The work is done
by aggregate queries; memory grows with the number of accounts, not transfers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, and_, case, func, literal, select

from gongji.ledger.types import AccountFlags, TransferFlags
from gongji.store.tables import ledger_accounts, ledger_pending_resolutions, ledger_transfers
from gongji.store.uow import run_in_transaction

A = ledger_accounts.c
T = ledger_transfers.c
P = ledger_pending_resolutions.c
VIOLATIONS_KEPT_MAX = 100


@dataclass(slots=True)
class CheckReport:
    accounts: int = 0
    transfers: int = 0
    pending_open: int = 0
    debits_posted: int = 0
    credits_posted: int = 0
    violations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def add(self, violation: str) -> None:
        if len(self.violations) < VIOLATIONS_KEPT_MAX:
            self.violations.append(violation)

    def verdict(self) -> str:
        if self.ok:
            return (
                f"ledger check: ok — {self.accounts} accounts, {self.transfers} transfers, "
                f"{self.pending_open} pending open, "
                f"debits = credits = {self.debits_posted} fen posted"
            )
        more = f" (+{len(self.violations) - 1} more)" if len(self.violations) > 1 else ""
        return f"ledger check: FAILED — {self.violations[0]}{more}"


R = TypeVar("R")


def check_ledger(engine: Engine) -> CheckReport:
    return in_snapshot(engine, run_check)


def in_snapshot(engine: Engine, work: Callable[[Connection], R]) -> R:
    """``work`` in one read-only snapshot: SQLite's read transaction is one; PostgreSQL's needs
    ``REPEATABLE READ`` (its default gives each statement its own), and ``READ ONLY`` so that
    the check can write nothing."""
    if engine.dialect.name != "postgresql":
        return run_in_transaction(engine, lambda uow: work(uow.connection), read_only=True)
    with engine.connect() as connection:
        snapshot = connection.execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        )
        with snapshot.begin():
            return work(snapshot)


def run_check(connection: Connection) -> CheckReport:
    """The full check inside the caller's transaction (gongji.ledger.incremental takes the
    snapshot itself)."""
    report = CheckReport()
    check_transfer_shapes(connection, report)
    _check_resolutions(connection, report)
    _check_balances(connection, report)
    return report


def _unresolved() -> Any:
    return ~select(P.pending_id).where(P.pending_id == T.id).exists()


def check_transfer_shapes(
    connection: Connection, report: CheckReport, *, after_seq: int | None = None
) -> None:
    """Every transfer's (or only those after ``after_seq``): amount, accounts, ledger."""
    debit = ledger_accounts.alias("debit")
    credit = ledger_accounts.alias("credit")
    statement = (
        select(
            T.id,
            T.amount,
            T.debit_num,
            T.credit_num,
            T.ledger,
            debit.c.ledger.label("debit_ledger"),
            credit.c.ledger.label("credit_ledger"),
        )
        .select_from(ledger_transfers)
        .outerjoin(debit, debit.c.num == T.debit_num)
        .outerjoin(credit, credit.c.num == T.credit_num)
    )
    if after_seq is not None:
        statement = statement.where(T.seq > after_seq)
    for row in connection.execute(statement):
        report.transfers += 1
        if row.amount < 0:
            report.add(f"transfer {row.id}: amount {row.amount} is negative")
        if row.debit_num == row.credit_num:
            report.add(f"transfer {row.id}: debits and credits the same account")
        if row.debit_ledger is None or row.credit_ledger is None:
            report.add(f"transfer {row.id}: names an account that does not exist")
        elif not row.debit_ledger == row.credit_ledger == row.ledger:
            report.add(f"transfer {row.id}: crosses ledgers")


def _check_resolutions(connection: Connection, report: CheckReport) -> None:
    """Each resolution names a pending transfer; each post/void has exactly its resolution."""
    pending = ledger_transfers.alias("pending")
    orphans = (
        select(P.pending_id, P.outcome, P.transfer_id, pending.c.flags)
        .select_from(ledger_pending_resolutions)
        .outerjoin(pending, pending.c.id == P.pending_id)
    )
    for row in connection.execute(orphans):
        if row.flags is None or not row.flags & TransferFlags.PENDING:
            report.add(f"resolution of {row.pending_id}: no such pending transfer")
        elif (row.outcome == "expired") != (row.transfer_id is None):
            report.add(f"resolution of {row.pending_id}: outcome and transfer disagree")
    check_unmatched_resolutions(connection, report)


def check_unmatched_resolutions(
    connection: Connection, report: CheckReport, *, after_seq: int | None = None
) -> None:
    """Each post or void (or each after ``after_seq``) has its resolution row."""
    resolving = int(TransferFlags.POST_PENDING | TransferFlags.VOID_PENDING)
    unmatched = (
        select(T.id)
        .select_from(ledger_transfers)
        .outerjoin(
            ledger_pending_resolutions, and_(P.pending_id == T.pending_id, P.transfer_id == T.id)
        )
        .where(T.flags.op("&")(resolving) != 0, P.pending_id.is_(None))
    )
    if after_seq is not None:
        unmatched = unmatched.where(T.seq > after_seq)
    for row in connection.execute(unmatched):
        report.add(f"transfer {row.id}: resolves a pending transfer without its resolution")


def _sums(connection: Connection, side: Any) -> dict[int, tuple[int, int]]:
    """Posted and open pending amounts per account number on one side of the transfers."""
    not_posting = int(TransferFlags.PENDING | TransferFlags.VOID_PENDING)
    is_pending = T.flags.op("&")(int(TransferFlags.PENDING)) != 0
    posted = func.sum(case((T.flags.op("&")(not_posting) == 0, T.amount), else_=literal(0)))
    open_pending = func.sum(case((and_(is_pending, _unresolved()), T.amount), else_=literal(0)))
    statement = select(side, posted, open_pending).group_by(side)
    return {row[0]: (int(row[1] or 0), int(row[2] or 0)) for row in connection.execute(statement)}


def _check_balances(connection: Connection, report: CheckReport) -> None:
    debits = _sums(connection, T.debit_num)
    credits = _sums(connection, T.credit_num)
    totals = [0, 0, 0, 0]
    for row in connection.execute(select(ledger_accounts).order_by(A.id)):
        report.accounts += 1
        expected = (*debits.get(row.num, (0, 0)), *credits.get(row.num, (0, 0)))
        actual = (row.debits_posted, row.debits_pending, row.credits_posted, row.credits_pending)
        names = ("debits_posted", "debits_pending", "credits_posted", "credits_pending")
        for name, have, want in zip(names, actual, expected, strict=True):
            if have != want:
                report.add(f"account {row.id}: {name} {have} ≠ {want}, the sum of its transfers")
        totals = [t + a for t, a in zip(totals, actual, strict=True)]
        check_bound(row, report)
    report.debits_posted, report.credits_posted = totals[0], totals[2]
    report.pending_open = _open_pending_count(connection)
    if totals[0] != totals[2] or totals[1] != totals[3]:
        report.add(
            f"totals: debits posted {totals[0]} / pending {totals[1]} ≠ "
            f"credits posted {totals[2]} / pending {totals[3]}"
        )


def check_bound(row: Any, report: CheckReport) -> None:
    flags = AccountFlags(row.flags)
    if flags & AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS and (
        row.debits_posted + row.debits_pending > row.credits_posted
    ):
        report.add(f"account {row.id}: debits exceed credits against its flag")
    if flags & AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS and (
        row.credits_posted + row.credits_pending > row.debits_posted
    ):
        report.add(f"account {row.id}: credits exceed debits against its flag")


def _open_pending_count(connection: Connection) -> int:
    is_pending = T.flags.op("&")(int(TransferFlags.PENDING)) != 0
    statement = select(func.count()).select_from(ledger_transfers).where(is_pending, _unresolved())
    return int(connection.execute(statement).scalar_one())
