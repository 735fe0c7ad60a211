"""The ledger's SQL: reading and writing its three tables. No decisions here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Row, Select, and_, or_, select, update

from gongji.ledger import driver
from gongji.ledger.apply import Balances, Resolution
from gongji.ledger.types import (
    Account,
    AccountFlags,
    CreateTransferResult,
    NewAccount,
    PendingOutcome,
    Transfer,
    TransferFlags,
)
from gongji.store import raw
from gongji.store.raw import Executor
from gongji.store.tables import ledger_accounts, ledger_pending_resolutions, ledger_transfers

A = ledger_accounts.c
T = ledger_transfers.c
P = ledger_pending_resolutions.c


def account_from_row(row: Row[Any]) -> Account:
    return Account(
        id=row.id,
        ledger=row.ledger,
        code=row.code,
        region=row.region,
        flags=AccountFlags(row.flags),
        debits_pending=row.debits_pending,
        debits_posted=row.debits_posted,
        credits_pending=row.credits_pending,
        credits_posted=row.credits_posted,
        ref=row.ref,
        timestamp_us=row.timestamp_us,
    )


def transfer_from_row(row: Row[Any]) -> Transfer:
    return Transfer(
        id=row.id,
        debit_account_id=row.debit_account_id,
        credit_account_id=row.credit_account_id,
        amount=row.amount,
        ledger=row.ledger,
        code=row.code,
        flags=TransferFlags(row.flags),
        pending_id=row.pending_id,
        expires_at_us=row.expires_at_us,
        ref=row.ref,
        timestamp_us=row.timestamp_us,
    )


def load_accounts(connection: Executor, ids: Iterable[str], *, lock: bool) -> dict[str, Account]:
    """Accounts by id; with ``lock`` on PostgreSQL, rows are locked in id order (no deadlocks)."""
    return {
        row[0]: account_from_values(row)
        for row in driver.select_accounts(connection, ids, lock=lock)
    }


def load_balances(connection: Executor, ids: Iterable[str], *, lock: bool) -> dict[str, Balances]:
    """As :func:`load_accounts`, straight into what a batch applies to (one object per row)."""
    return {
        id_: Balances(ledger, flags, dp, dpo, cp, cpo, num)
        for id_, ledger, flags, dp, dpo, cp, cpo, num in driver.select_accounts(
            connection, ids, lock=lock, balances_only=True
        )
    }


Known = tuple[dict[str, Transfer], dict[str, CreateTransferResult]]
"""What the ledger knows of a batch's ids: recorded transfers, and ids refused and remembered."""


def load_balances_counting_failures(
    connection: Executor, account_ids: Iterable[str], transfer_ids: Iterable[str]
) -> tuple[dict[str, Balances], int]:
    """Locked :func:`load_balances`, and how many of ``transfer_ids`` were refused before."""
    balance_rows, failures = driver.lock_balances_counting_failures(
        connection, account_ids, transfer_ids
    )
    balances = {
        id_: Balances(ledger, flags, dp, dpo, cp, cpo, num)
        for id_, ledger, flags, dp, dpo, cp, cpo, num in balance_rows
    }
    return balances, failures


def load_transfers_and_balances(
    connection: Executor, transfer_ids: Iterable[str], account_ids: Iterable[str]
) -> tuple[Known, dict[str, Balances]]:
    """:func:`load_known` and locked :func:`load_balances` at once (one round trip on
    PostgreSQL), for a batch whose accounts do not depend on the transfers read."""
    known_rows, balance_rows = driver.select_transfers_and_lock_balances(
        connection, transfer_ids, account_ids
    )
    return (
        _known_from_rows(known_rows),
        {
            id_: Balances(ledger, flags, dp, dpo, cp, cpo, num)
            for id_, ledger, flags, dp, dpo, cp, cpo, num in balance_rows
        },
    )


def load_known(connection: Executor, ids: Iterable[str]) -> Known:
    """Recorded transfers and remembered refusals among ``ids``, in one read."""
    return _known_from_rows(driver.select_known_ids(connection, ids))


def _known_from_rows(known_rows: Iterable[Sequence[Any]]) -> Known:
    transfers: dict[str, Transfer] = {}
    failed: dict[str, CreateTransferResult] = {}
    for failure, *values in known_rows:
        if failure:
            failed[values[0]] = CreateTransferResult(values[9])
        else:
            transfers[values[0]] = transfer_from_values(values)
    return transfers, failed


def is_sqlite_connection(connection: Executor) -> bool:
    return driver.is_sqlite_connection(connection)


def load_transfers(connection: Executor, ids: Iterable[str]) -> dict[str, Transfer]:
    return {row[0]: transfer_from_values(row) for row in driver.select_transfers(connection, ids)}


def load_resolutions(connection: Executor, pending_ids: Iterable[str]) -> dict[str, PendingOutcome]:
    return {
        pending_id: PendingOutcome(outcome)
        for pending_id, outcome in driver.select_resolutions(connection, pending_ids)
    }


def account_from_values(row: Sequence[Any]) -> Account:
    """From a row in ``driver.ACCOUNT_COLUMNS`` order."""
    (id_, ledger, code, region, flags, dp, dpo, cp, cpo, ref, timestamp_us) = row
    return Account(
        id_, ledger, code, region, AccountFlags(flags), dp, dpo, cp, cpo, ref, timestamp_us
    )


def transfer_from_values(row: Sequence[Any]) -> Transfer:
    """From a row in ``driver.TRANSFER_COLUMNS`` order."""
    (id_, debit, credit, amount, pending_id, ledger, code, flags, expires, ref, timestamp_us) = row
    return Transfer(
        id=id_,
        debit_account_id=debit,
        credit_account_id=credit,
        amount=amount,
        ledger=ledger,
        code=code,
        flags=TransferFlags(flags),
        pending_id=pending_id,
        expires_at_us=expires,
        ref=ref,
        timestamp_us=timestamp_us,
    )


_DEBIT = ledger_accounts.alias("d")
_CREDIT = ledger_accounts.alias("c")


def _select_transfers() -> Select[Any]:
    """Transfers with their accounts' ids (a transfer row holds their numbers), and ``seq``."""
    return select(
        T.seq,
        T.id,
        _DEBIT.c.id.label("debit_account_id"),
        _CREDIT.c.id.label("credit_account_id"),
        T.amount,
        T.pending_id,
        T.ledger,
        T.code,
        T.flags,
        T.expires_at_us,
        T.ref,
        T.timestamp_us,
    ).select_from(
        ledger_transfers.join(_DEBIT, _DEBIT.c.num == T.debit_num).join(
            _CREDIT, _CREDIT.c.num == T.credit_num
        )
    )


def due_pending(connection: Connection, now_us: int, limit: int) -> list[Transfer]:
    """Unresolved pending transfers whose deadline is at or before ``now_us``, oldest first."""
    unresolved = ~select(P.pending_id).where(P.pending_id == T.id).exists()
    statement = (
        _select_transfers()
        .where(and_(T.expires_at_us.is_not(None), T.expires_at_us <= now_us, unresolved))
        .order_by(T.expires_at_us, T.seq)
        .limit(limit)
    )
    return [transfer_from_row(row) for row in connection.execute(statement)]


def account_transfers(
    connection: Connection, account_id: str, after_seq: int, limit: int
) -> list[tuple[int, Transfer]]:
    """Up to ``limit`` transfers touching the account after ``after_seq``, with their ``seq``.

    A cursor on ``seq`` misses nothing that commits later: every transfer is inserted while its
    accounts' rows are locked (``FOR UPDATE`` on PostgreSQL, the one writer on SQLite) until
    its commit, so the transfers of one account draw their ``seq`` in commit order
    (tests/integration/test_history_paging.py).
    """
    num = connection.execute(select(A.num).where(A.id == account_id)).scalar_one_or_none()
    if num is None:
        return []
    involves = or_(T.debit_num == num, T.credit_num == num)
    statement = _select_transfers().where(involves, T.seq > after_seq).order_by(T.seq).limit(limit)
    return [(row.seq, transfer_from_row(row)) for row in connection.execute(statement)]


def new_account(new: NewAccount, now_us: int) -> Account:
    return Account(
        id=new.id,
        ledger=new.ledger,
        code=new.code,
        region=new.region,
        flags=new.flags,
        debits_pending=0,
        debits_posted=0,
        credits_pending=0,
        credits_posted=0,
        ref=new.ref,
        timestamp_us=now_us,
    )


_INSERT_ACCOUNT = raw.insert_statement("ledger_accounts", raw.field_names(Account))


def insert_accounts(connection: Executor, accounts: Sequence[Account]) -> None:
    """New accounts (:func:`new_account`), by text, so that on PostgreSQL the insert waits with a
    transaction's deferred writes (``uow.defer_writes``)."""
    rows = [{**raw.record_params(a), "flags": int(a.flags)} for a in accounts]
    raw.execute_many(connection, _INSERT_ACCOUNT, rows)


def write_batch(
    connection: Executor,
    transfers: Sequence[Transfer],
    resolutions: Sequence[Resolution],
    now_us: int,
    accounts: Mapping[str, Balances],
    touched: Iterable[str],
    failures: Sequence[tuple[str, CreateTransferResult]] = (),
) -> None:
    """New transfers (in order, recorded at ``now_us``), new resolutions, the final balances
    of the ``touched`` accounts and the ids newly refused for good. ``accounts`` holds every
    account the transfers name (for their numbers)."""
    if failures:
        driver.insert_failures(
            connection, [(event_id, result.value, now_us) for event_id, result in failures]
        )
    driver.write_batch(
        connection,
        [
            (
                t.id,
                accounts[t.debit_account_id].num,
                accounts[t.credit_account_id].num,
                t.amount,
                t.pending_id,
                t.ledger,
                t.code,
                int(t.flags),
                t.expires_at_us,
                t.ref,
                now_us,
            )
            for t in transfers
        ],
        [(r.pending_id, r.outcome.value, r.transfer_id, now_us) for r in resolutions],
        [
            (b.num, b.debits_pending, b.debits_posted, b.credits_pending, b.credits_posted)
            for b in (accounts[account_id] for account_id in touched)
        ],
    )


def update_flags(connection: Connection, account_id: str, flags: AccountFlags) -> None:
    connection.execute(update(ledger_accounts).where(A.id == account_id).values(flags=int(flags)))
