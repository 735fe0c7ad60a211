"""A bank test in the style of Jepsen's: concurrent writers move money between bounded accounts
while readers sum every balance. On both databases.

Holds when: every read sums to the funded total; no balance is ever negative (the accounts forbid
debits beyond credits); every acknowledged transfer is present exactly once; a retried id never
moves money twice, and a refused one is never accepted later, however the balances moved in
between (``id_already_failed``); and the ledger checks clean at the end.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

import pytest
from sqlalchemy import Engine, func, select

from gongji.core.clock import SystemClock
from gongji.ledger.book import Ledger
from gongji.ledger.check import check_ledger
from gongji.ledger.types import AccountFlags, CreateTransferResult, NewAccount, Transfer
from gongji.store.tables import ledger_accounts, ledger_transfers
from gongji.store.uow import run_in_transaction
from support.soak import scaled

ACCOUNTS = [f"bank-{i}" for i in range(8)]
WRITERS = 8
READERS = 2
TRANSFERS_PER_WRITER = scaled(60)
FUNDING_FEN = 10_000
R = CreateTransferResult


@dataclass
class Observations:
    acknowledged: dict[str, int] = field(default_factory=dict)
    refused: int = 0
    sums: list[int] = field(default_factory=list)
    minimums: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _fund(ledger: Ledger) -> None:
    bounded = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
    accounts = [NewAccount("bank-source", 1, 1)]
    accounts += [NewAccount(a, 1, 2, flags=bounded) for a in ACCOUNTS]
    assert set(ledger.create_accounts(accounts)) == {"ok"}
    funding = [Transfer(f"fund-{a}", "bank-source", a, FUNDING_FEN, 1, 1) for a in ACCOUNTS]
    assert set(ledger.create_transfers(funding)) == {"ok"}


def _writer(ledger: Ledger, number: int, seen: Observations) -> None:
    rng = random.Random(number)
    for i in range(TRANSFERS_PER_WRITER):
        debit, credit = rng.sample(ACCOUNTS, 2)
        transfer = Transfer(f"w{number}-{i}", debit, credit, rng.randint(1, 6_000), 1, 2)
        try:
            result = ledger.create_transfers([transfer])[0]
            if rng.random() < 0.2:
                # A client retrying after a lost answer must not pay twice, and a refusal that
                # depended on the balances stays a refusal (TigerBeetle since 0.16.4).
                again = ledger.create_transfers([transfer])[0]
                expected = R.EXISTS if result is R.OK else R.ID_ALREADY_FAILED
                if again is not expected:
                    seen.errors.append(f"retry of {transfer.id} answered {again}")
        except Exception as error:
            seen.errors.append(f"{transfer.id}: {error!r}")
            continue
        with seen.lock:
            if result is R.OK:
                seen.acknowledged[transfer.id] = transfer.amount
            elif result is R.EXCEEDS_CREDITS:
                seen.refused += 1
            else:
                seen.errors.append(f"{transfer.id}: unexpected {result}")


def _reader(engine: Engine, stop: threading.Event, seen: Observations) -> None:
    balance = ledger_accounts.c.credits_posted - ledger_accounts.c.debits_posted
    statement = select(func.sum(balance), func.min(balance)).where(
        ledger_accounts.c.id.in_(ACCOUNTS)
    )
    while not stop.is_set():
        total, lowest = run_in_transaction(
            engine, lambda uow: tuple(uow.connection.execute(statement).one()), read_only=True
        )
        with seen.lock:
            seen.sums.append(int(total))
            seen.minimums.append(int(lowest))


@pytest.mark.soak
def test_concurrent_transfers_keep_the_books_whole(engine: Engine) -> None:
    ledger = Ledger(engine, SystemClock())
    _fund(ledger)
    seen = Observations()
    stop = threading.Event()
    readers = [threading.Thread(target=_reader, args=(engine, stop, seen)) for _ in range(READERS)]
    writers = [threading.Thread(target=_writer, args=(ledger, n, seen)) for n in range(WRITERS)]
    for thread in readers + writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    for thread in readers:
        thread.join()

    assert seen.errors == []
    assert seen.sums, "the readers read nothing"
    assert set(seen.sums) == {FUNDING_FEN * len(ACCOUNTS)}
    assert min(seen.minimums) >= 0
    assert seen.refused + len(seen.acknowledged) == WRITERS * TRANSFERS_PER_WRITER
    recorded = ledger.lookup_transfers(seen.acknowledged)
    assert {t.id: t.amount for t in recorded.values()} == seen.acknowledged
    count = run_in_transaction(
        engine,
        lambda uow: uow.connection.execute(
            select(func.count()).select_from(ledger_transfers)
        ).scalar_one(),
        read_only=True,
    )
    assert count == len(ACCOUNTS) + len(seen.acknowledged)
    report = check_ledger(engine)
    assert report.ok, report.verdict()
