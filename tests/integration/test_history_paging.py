"""Paging a history by ``seq`` while writers commit: a reader that follows the cursor misses
nothing and sees nothing twice. On both databases.

On PostgreSQL a ``seq`` is drawn when the row is inserted, not when its transaction commits, so
a row with a smaller ``seq`` may become visible after one with a larger: a reader that had moved
its cursor past the larger would never see the smaller. The writers of one history take turns
from their insert to their commit (SQLite: one writer at a time; PostgreSQL: the account rows'
locks for a ledger account, a lock per person for a person's events). The events' writers hold
the window between insert and commit open to give a reordering every chance: without the lock
per person, a PostgreSQL reader missed 26 of 90 events. The ledger's windows are short, so its
test guards the locking more than it provokes a reordering.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import Engine

from gongji.core.clock import SystemClock
from gongji.ledger import rows as ledger_rows
from gongji.ledger.book import Ledger
from gongji.ledger.types import NewAccount, Transfer
from gongji.people.store import people_repo
from gongji.store.uow import UnitOfWork, run_in_transaction
from support.soak import scaled

WRITERS = 6
WRITES_PER_WRITER = scaled(15)
PAGE = 4
PSN_NO = "P00000000000000000001"


ReadPage = Callable[[UnitOfWork, int], list[int]]
"""The ``seq`` of up to ``PAGE`` rows after a cursor, oldest first."""


def _follow(engine: Engine, read_page: ReadPage, cursor: int) -> list[int]:
    """Every ``seq`` a reader gets by following the cursor, page after page, to the end; the
    cursor moves to the last ``seq`` of each page."""
    seen: list[int] = []
    while page := run_in_transaction(
        engine, lambda uow: read_page(uow, seen[-1] if seen else cursor), read_only=True
    ):
        seen += page
    return seen


def _follow_during(
    engine: Engine, write: Callable[[int, int], None], read_page: ReadPage
) -> list[int]:
    """What a reader following the history saw while ``WRITERS`` threads wrote, then after."""
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            for i in range(WRITES_PER_WRITER):
                write(number, i)
        except BaseException as error:  # reported by the test, not lost in a thread
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    seen: list[int] = []
    while any(thread.is_alive() for thread in threads):
        seen += _follow(engine, read_page, seen[-1] if seen else 0)
    for thread in threads:
        thread.join()
    seen += _follow(engine, read_page, seen[-1] if seen else 0)
    assert not errors, errors
    return seen


@pytest.mark.soak
def test_a_person_s_events_followed_by_cursor_during_writes_miss_nothing(engine: Engine) -> None:
    def write(number: int, i: int) -> None:
        rng = random.Random(f"{number}-{i}")

        def work(uow: UnitOfWork) -> None:
            people_repo.record_event(uow.connection, PSN_NO, "test", f"writer-{number}", 0, n=i)
            time.sleep(rng.random() * 0.004)  # the window between the insert and the commit
            uow.commit()

        run_in_transaction(engine, work)

    def read_page(uow: UnitOfWork, after: int) -> list[int]:
        return [e.seq for e in people_repo.events_of(uow.connection, PSN_NO, after, PAGE)]

    seen = _follow_during(engine, write, read_page)
    every = _follow(engine, read_page, 0)  # after the writers: what following should have given
    assert len(every) == WRITERS * WRITES_PER_WRITER
    assert seen == every  # in order, none missed, none twice


@pytest.mark.soak
def test_an_account_s_history_followed_by_cursor_during_writes_misses_nothing(
    engine: Engine,
) -> None:
    ledger = Ledger(engine, SystemClock())
    accounts = [NewAccount("hub", 1, 1)] + [NewAccount(f"spoke-{n}", 1, 1) for n in range(WRITERS)]
    assert set(ledger.create_accounts(accounts)) == {"ok"}

    def write(number: int, i: int) -> None:
        spoke = f"spoke-{number}"
        debit, credit = ("hub", spoke) if i % 2 else (spoke, "hub")
        result = ledger.create_transfers([Transfer(f"t-{number}-{i}", debit, credit, 1, 1, 1)])
        assert result == ["ok"]

    def read_page(uow: UnitOfWork, after: int) -> list[int]:
        found = ledger_rows.account_transfers(uow.connection, "hub", after, PAGE)
        return [seq for seq, _ in found]

    seen = _follow_during(engine, write, read_page)
    every = _follow(engine, read_page, 0)  # after the writers: what following should have given
    assert len(every) == WRITERS * WRITES_PER_WRITER
    assert seen == every
