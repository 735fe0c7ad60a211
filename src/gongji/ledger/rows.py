"""The ledger's SQL: reading and writing its three tables. No decisions here."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, insert, or_, select, update
from sqlalchemy.sql.elements import BindParameter

from gongji.ledger.apply import Balances, Resolution
from gongji.ledger.types import (
    Account,
    AccountFlags,
    NewAccount,
    PendingOutcome,
    Transfer,
    TransferFlags,
)
from gongji.store.engine import is_sqlite
from gongji.store.tables import ledger_accounts, ledger_pending_resolutions, ledger_transfers

IN_CLAUSE_CHUNK = 500  # stays under SQLite's bound-parameter limit and keeps plans cheap

A = ledger_accounts.c
T = ledger_transfers.c
P = ledger_pending_resolutions.c


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    ordered = sorted(values)
    for start in range(0, len(ordered), IN_CLAUSE_CHUNK):
        yield ordered[start : start + IN_CLAUSE_CHUNK]


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


# Built once: a statement made afresh per call costs more Python than the query itself takes
# on SQLite (construction, coercion, cache key); "ids" is an expanding IN parameter.
_IDS: BindParameter[Any] = bindparam("ids", expanding=True)
_SELECT_ACCOUNTS = select(ledger_accounts).where(A.id.in_(_IDS)).order_by(A.id)
_SELECT_ACCOUNTS_LOCKED = _SELECT_ACCOUNTS.with_for_update()
_SELECT_TRANSFERS = select(ledger_transfers).where(T.id.in_(_IDS))
_SELECT_RESOLUTIONS = select(P.pending_id, P.outcome).where(P.pending_id.in_(_IDS))


def load_accounts(connection: Connection, ids: Iterable[str], *, lock: bool) -> dict[str, Account]:
    """Accounts by id; with ``lock`` on PostgreSQL, rows are locked in id order (no deadlocks)."""
    return {row.id: account_from_row(row) for row in _account_rows(connection, ids, lock)}


def load_balances(connection: Connection, ids: Iterable[str], *, lock: bool) -> dict[str, Balances]:
    """As :func:`load_accounts`, straight into what a batch applies to (one object per row)."""
    return {row.id: balances_from_row(row) for row in _account_rows(connection, ids, lock)}


def _account_rows(connection: Connection, ids: Iterable[str], lock: bool) -> Iterator[Row[Any]]:
    locked = lock and not is_sqlite_connection(connection)
    statement = _SELECT_ACCOUNTS_LOCKED if locked else _SELECT_ACCOUNTS
    for chunk in _chunks(ids):
        yield from connection.execute(statement, {"ids": chunk})


def is_sqlite_connection(connection: Connection) -> bool:
    return is_sqlite(connection.engine)


def load_transfers(connection: Connection, ids: Iterable[str]) -> dict[str, Transfer]:
    found: dict[str, Transfer] = {}
    for chunk in _chunks(ids):
        for row in connection.execute(_SELECT_TRANSFERS, {"ids": chunk}):
            found[row.id] = transfer_from_row(row)
    return found


def load_resolutions(
    connection: Connection, pending_ids: Iterable[str]
) -> dict[str, PendingOutcome]:
    found: dict[str, PendingOutcome] = {}
    for chunk in _chunks(pending_ids):
        for row in connection.execute(_SELECT_RESOLUTIONS, {"ids": chunk}):
            found[row.pending_id] = PendingOutcome(row.outcome)
    return found


def due_pending(connection: Connection, now_us: int, limit: int) -> list[Transfer]:
    """Unresolved pending transfers whose deadline is at or before ``now_us``, oldest first."""
    unresolved = ~select(P.pending_id).where(P.pending_id == T.id).exists()
    statement = (
        select(ledger_transfers)
        .where(and_(T.expires_at_us.is_not(None), T.expires_at_us <= now_us, unresolved))
        .order_by(T.expires_at_us, T.seq)
        .limit(limit)
    )
    return [transfer_from_row(row) for row in connection.execute(statement)]


def account_transfers(
    connection: Connection, account_id: str, after_seq: int, limit: int
) -> list[tuple[int, Transfer]]:
    involves = or_(T.debit_account_id == account_id, T.credit_account_id == account_id)
    statement = (
        select(ledger_transfers).where(involves, T.seq > after_seq).order_by(T.seq).limit(limit)
    )
    return [(row.seq, transfer_from_row(row)) for row in connection.execute(statement)]


def balances_of(account: Account) -> Balances:
    return Balances(
        ledger=account.ledger,
        flags=account.flags,
        debits_pending=account.debits_pending,
        debits_posted=account.debits_posted,
        credits_pending=account.credits_pending,
        credits_posted=account.credits_posted,
    )


def balances_from_row(row: Row[Any]) -> Balances:
    return Balances(
        ledger=row.ledger,
        flags=AccountFlags(row.flags),
        debits_pending=row.debits_pending,
        debits_posted=row.debits_posted,
        credits_pending=row.credits_pending,
        credits_posted=row.credits_posted,
    )


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


def insert_accounts(connection: Connection, accounts: Sequence[Account]) -> None:
    if not accounts:
        return
    connection.execute(
        insert(ledger_accounts),
        [
            {
                "id": a.id,
                "ledger": a.ledger,
                "code": a.code,
                "region": a.region,
                "flags": int(a.flags),
                "debits_pending": 0,
                "debits_posted": 0,
                "credits_pending": 0,
                "credits_posted": 0,
                "ref": a.ref,
                "timestamp_us": a.timestamp_us,
            }
            for a in accounts
        ],
    )


def insert_transfers(connection: Connection, transfers: Sequence[Transfer]) -> None:
    if not transfers:
        return
    connection.execute(
        insert(ledger_transfers),
        [
            {
                "id": t.id,
                "debit_account_id": t.debit_account_id,
                "credit_account_id": t.credit_account_id,
                "amount": t.amount,
                "pending_id": t.pending_id,
                "ledger": t.ledger,
                "code": t.code,
                "flags": int(t.flags),
                "expires_at_us": t.expires_at_us,
                "ref": t.ref,
                "timestamp_us": t.timestamp_us,
            }
            for t in transfers
        ],
    )


def insert_resolutions(
    connection: Connection, resolutions: Sequence[Resolution], now_us: int
) -> None:
    if not resolutions:
        return
    connection.execute(
        insert(ledger_pending_resolutions),
        [
            {
                "pending_id": r.pending_id,
                "outcome": r.outcome.value,
                "transfer_id": r.transfer_id,
                "timestamp_us": now_us,
            }
            for r in resolutions
        ],
    )


_UPDATE_BALANCES = (
    update(ledger_accounts)
    .where(A.id == bindparam("account_id"))
    .values(
        debits_pending=bindparam("dp"),
        debits_posted=bindparam("dpo"),
        credits_pending=bindparam("cp"),
        credits_posted=bindparam("cpo"),
    )
)


def update_balances(connection: Connection, accounts: Mapping[str, Balances]) -> None:
    if not accounts:
        return
    connection.execute(
        _UPDATE_BALANCES,
        [
            {
                "account_id": account_id,
                "dp": b.debits_pending,
                "dpo": b.debits_posted,
                "cp": b.credits_pending,
                "cpo": b.credits_posted,
            }
            for account_id, b in accounts.items()
        ],
    )


def update_flags(connection: Connection, account_id: str, flags: AccountFlags) -> None:
    connection.execute(update(ledger_accounts).where(A.id == account_id).values(flags=int(flags)))
