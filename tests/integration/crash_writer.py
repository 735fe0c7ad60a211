"""Child process of the crash test: writes batches forever, printing each id once it is durable.

A line ``ack <id> <id> …`` is printed (and flushed) only after ``create_transfers`` returned, i.e.
after COMMIT, so every id the parent reads was acknowledged to a client before the SIGKILL.
Several threads write at once, half of their batches single transfers: half of the threads
through the ledger's group commit (on by default), the other half in units of work that join
SQLite's commit group (``grouped=True``, as the signed settlements do): the kill falls on
groups of several callers' batches and of several callers' transactions, and on the moments
one kind commits the other's open group.
"""

from __future__ import annotations

import os
import random
import sys
import threading
import traceback

from gongji.core.clock import SystemClock
from gongji.ledger.book import Ledger
from gongji.ledger.types import (
    AccountFlags,
    CreateTransferResult,
    NewAccount,
    Transfer,
    TransferFlags,
)
from gongji.store.engine import make_engine
from gongji.store.migrate import upgrade
from gongji.store.uow import UnitOfWork, run_in_transaction

ACCOUNTS = [f"crash-{i}" for i in range(6)]
WRITERS = 4


def _batch(rng: random.Random, run: int, number: str) -> list[Transfer]:
    """A single transfer or 1–40; every third starts a linked pair, the last is never left
    linked."""
    size = 1 if rng.random() < 0.5 else rng.randint(1, 40)
    batch = []
    for i in range(size):
        debit, credit = rng.sample(ACCOUNTS, 2)
        linked = i % 3 == 0 and i < size - 1
        flags = TransferFlags.LINKED if linked else TransferFlags.NONE
        amount = rng.randint(1, 999)
        batch.append(Transfer(f"r{run}-b{number}-{i}", debit, credit, amount, 1, 2, flags))
    return batch


def main(url: str, run: int) -> None:
    engine = make_engine(url)
    upgrade(engine)
    ledger = Ledger(engine, SystemClock(), group_commit=True)
    bounded = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
    accounts = [NewAccount(a, 1, 2, flags=bounded) for a in ACCOUNTS]
    ledger.create_accounts([NewAccount("crash-source", 1, 1), *accounts])
    seed = [Transfer(f"seed-{a}", "crash-source", a, 10**9, 1, 1) for a in ACCOUNTS]
    ledger.create_transfers(seed)
    printing = threading.Lock()

    def write(writer: int) -> None:
        try:
            write_forever(writer)
        except BaseException:  # a writer that fails ends the child: the parent sees the error
            traceback.print_exc()
            os._exit(1)

    def in_group(batch: list[Transfer]) -> list[CreateTransferResult]:
        def work(uow: UnitOfWork) -> list[CreateTransferResult]:
            results = ledger.create_transfers_in(uow, batch)
            uow.commit()
            return results

        return run_in_transaction(engine, work, grouped=True)

    def write_forever(writer: int) -> None:
        rng = random.Random(f"{run}-{writer}")
        number = 0
        create = ledger.create_transfers if writer % 2 == 0 else in_group
        while True:
            batch = _batch(rng, run, f"{writer}.{number}")
            results = create(batch)
            acknowledged = [t.id for t, r in zip(batch, results, strict=True) if r == "ok"]
            with printing:
                print("ack " + " ".join(acknowledged), flush=True)
            number += 1

    writers = [threading.Thread(target=write, args=(n,), daemon=True) for n in range(WRITERS)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
