"""Group commit on both databases: batches sent while a commit is in flight share the next
transaction, and each keeps the outcome it would have had alone (ledger/group_commit.py).

The first batch's transaction is held in flight (a gate in front of it); the batches sent
meanwhile queue, in a known order, and go as one group when the gate opens. The ``engine``
fixture checks the whole ledger after every test.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from gongji.core.clock import ManualClock
from gongji.ledger.book import Ledger
from gongji.ledger.types import (
    AccountFlags,
    CreateTransferResult,
    NewAccount,
    Transfer,
    TransferFlags,
)
from gongji.store import uow as uow_module
from gongji.store.uow import UnitOfWork
from support.race import wait_until

R = CreateTransferResult
WAIT_S = 20.0
FUNDED = 1_000
SLOT = "slot-"
"""Transfers (source → spare) that keep every group slot but the first held (PostgreSQL has
two: ``Ledger.groups_in_flight``), so that the batches sent next queue."""


class GatedLedger(Ledger):
    """A ledger whose next transactions can be held at a gate, and which records each group's
    batches (by their first transfer's id) before running it; the batches that only keep a
    second group in flight (``SLOT``, PostgreSQL) are held but not recorded."""

    def __init__(self, engine: Engine, clock: ManualClock) -> None:
        super().__init__(engine, clock)
        self.groups: list[list[str]] = []
        self._thread = threading.local()  # two groups may run at once (PostgreSQL)
        self.gate = threading.Event()
        self.holds = 0  # the next this many transactions wait for the gate
        self.held = 0  # transactions waiting at it
        self._counting = threading.Lock()

    def _create_group(
        self, batches: Sequence[Sequence[Transfer]]
    ) -> list[list[CreateTransferResult]]:
        if not batches[0][0].id.startswith(SLOT):
            self.groups.append([batch[0].id for batch in batches])
        with self._counting:
            holding = self.holds > 0
            if holding:
                self.holds -= 1
                self.held += 1
        if holding and not self.gate.wait(WAIT_S):
            raise TimeoutError("the gate never opened")
        self._thread.running = batches
        return super()._create_group(batches)

    @property
    def running(self) -> Sequence[Sequence[Transfer]]:
        """The batches of the group this thread runs."""
        running: Sequence[Sequence[Transfer]] = getattr(self._thread, "running", ())
        return running


def move(id: str, debit: str, credit: str, amount: int, linked: bool = False) -> Transfer:
    flags = TransferFlags.LINKED if linked else TransferFlags.NONE
    return Transfer(id, debit, credit, amount, ledger=1, code=1, flags=flags)


@pytest.fixture
def ledger(engine: Engine, clock: ManualClock) -> GatedLedger:
    """Accounts a, b, c may not spend more than they hold (``FUNDED`` each, from ``source``)."""
    gated = GatedLedger(engine, clock)
    bounded = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
    accounts = [NewAccount("source", 1, 1), NewAccount("spare", 1, 1)]
    accounts += [NewAccount(i, 1, 1, flags=bounded) for i in ("a", "b", "c")]
    gated.create_accounts(accounts)
    funding = [move(f"fund-{i}", "source", i, FUNDED) for i in ("a", "b", "c")]
    assert gated.create_transfers(funding) == [R.OK] * 3
    gated.groups.clear()
    return gated


def hold(ledger: GatedLedger, transactions: int = 1) -> None:
    ledger.gate.clear()
    ledger.held = 0
    ledger.holds = transactions


def in_one_group(ledger: GatedLedger, batches: list[list[Transfer]]) -> list[Any]:
    """A held first batch (and, beside it, as many as keep every other group slot), then
    ``batches`` queued behind them in order; each caller's answer (its results, or the error it
    got), the held batch's first."""
    answers: list[Any] = [None] * (len(batches) + 1)

    def send(index: int, batch: list[Transfer]) -> None:
        try:
            answers[index] = ledger.create_transfers(batch)
        except Exception as error:
            answers[index] = error

    slots = ledger.groups_in_flight
    hold(ledger, slots)
    threads = [threading.Thread(target=send, args=(0, [move("held", "source", "c", 1)]))]
    threads[0].start()
    wait_until(lambda: ledger.held == 1, WAIT_S)
    for number in range(1, slots):
        filler = [move(f"{SLOT}{len(ledger.groups)}-{number}", "source", "spare", 1)]
        threads.append(threading.Thread(target=ledger.create_transfers, args=(filler,)))
        threads[-1].start()
        wait_until(lambda number=number: ledger.held == 1 + number, WAIT_S)  # type: ignore[misc]
    for index, batch in enumerate(batches, start=1):
        threads.append(threading.Thread(target=send, args=(index, batch)))
        threads[-1].start()
        wait_until(lambda index=index: ledger.batches_waiting == index, WAIT_S)  # type: ignore[misc]
    ledger.gate.set()
    for thread in threads:
        thread.join(WAIT_S)
    return answers


def balance(ledger: Ledger, account: str) -> int:
    return ledger.lookup_accounts([account])[account].credit_balance


def test_batches_sent_during_a_commit_share_the_next_one_each_with_its_own_results(
    ledger: GatedLedger,
) -> None:
    batches = [
        [move("t1", "a", "b", 100)],
        [move("overdraft", "a", "b", FUNDED)],  # a holds 900 once t1 is in
        [move("t2", "b", "c", 50, linked=True), move("t3", "c", "a", 20)],
        [move("open1", "c", "a", 5, linked=True), move("open2", "c", "a", 5, linked=True)],
        [move("t4", "a", "c", 1)],
    ]
    answers = in_one_group(ledger, batches)
    assert ledger.groups == [["held"], ["t1", "overdraft", "t2", "open1", "t4"]]
    assert answers == [
        [R.OK],
        [R.OK],
        [R.EXCEEDS_CREDITS],  # refused alone; its neighbours before and after stand
        [R.OK, R.OK],
        [R.LINKED_EVENT_FAILED, R.LINKED_EVENT_CHAIN_OPEN],
        [R.OK],  # the open chain before it did not reach into this batch
    ]
    found = ledger.lookup_transfers(["t1", "t2", "t3", "t4", "overdraft", "open1", "open2"])
    assert sorted(found) == ["t1", "t2", "t3", "t4"]
    assert balance(ledger, "a") == FUNDED - 100 + 20 - 1
    assert balance(ledger, "b") == FUNDED + 100 - 50
    assert balance(ledger, "c") == FUNDED + 1 + 50 - 20 + 1
    # the refusal was remembered with the group's commit, as if the batch had been alone
    assert ledger.create_transfers([move("overdraft", "a", "b", 1)]) == [R.ID_ALREADY_FAILED]


def test_a_retry_inside_a_group_and_across_groups_answers_as_it_would_alone(
    ledger: GatedLedger,
) -> None:
    batches = [
        [move("t1", "a", "b", 10)],
        [move("t1", "a", "b", 10)],  # the same transfer again, in the same group
        [move("t1", "a", "b", 11)],
        [move("too-much", "b", "a", FUNDED * 2)],
        [move("too-much", "b", "a", 1)],  # refused and remembered by the batch before it
    ]
    answers = in_one_group(ledger, batches)
    assert answers[1:] == [
        [R.OK],
        [R.EXISTS],
        [R.EXISTS_WITH_DIFFERENT_AMOUNT],
        [R.EXCEEDS_CREDITS],
        [R.ID_ALREADY_FAILED],
    ]
    assert balance(ledger, "b") == FUNDED + 10
    # and across groups: the next group answers the same
    again = in_one_group(ledger, [[move("t1", "a", "b", 10)], [move("too-much", "b", "a", 1)]])
    assert ledger.groups[-1] == ["t1", "too-much"]
    assert again[1:] == [[R.EXISTS], [R.ID_ALREADY_FAILED]]
    assert balance(ledger, "b") == FUNDED + 10


def fail_commits(monkeypatch: pytest.MonkeyPatch, fails: Callable[[], bool]) -> None:
    """Make a ledger transaction's COMMIT fail (after all its statements ran) when ``fails()``."""
    original = uow_module._commit_after

    def commit_after(connection: Any, work: Callable[[Any], Any], *, sqlite: bool) -> Any:
        def work_then_fail(connection: Any) -> Any:
            result = work(connection)
            if fails():
                raise OperationalError("COMMIT", {}, Exception("disk I/O error"))
            return result

        return original(connection, work_then_fail, sqlite=sqlite)

    monkeypatch.setattr(uow_module, "_commit_after", commit_after)


def test_a_group_whose_commit_fails_posts_nothing_and_each_batch_is_tried_alone(
    ledger: GatedLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_commits(monkeypatch, lambda: len(ledger.running) > 1)
    answers = in_one_group(ledger, [[move("t1", "a", "b", 10)], [move("t2", "b", "c", 20)]])
    assert ledger.groups == [["held"], ["t1", "t2"], ["t1"], ["t2"]]
    assert answers[1:] == [[R.OK], [R.OK]]  # from their own transactions, not the failed one
    assert balance(ledger, "b") == FUNDED + 10 - 20


def test_when_the_commit_keeps_failing_nobody_is_told_posted_and_nothing_is(
    ledger: GatedLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_commits(monkeypatch, lambda: ledger.running[0][0].id.startswith("t"))
    answers = in_one_group(ledger, [[move("t1", "a", "b", 10)], [move("t2", "b", "c", 20)]])
    assert answers[0] == [R.OK]
    assert all(isinstance(answer, OperationalError) for answer in answers[1:])
    assert ledger.lookup_transfers(["t1", "t2"]) == {}
    assert balance(ledger, "b") == FUNDED


def test_a_poisoned_batch_fails_alone_and_its_neighbours_are_posted(
    ledger: GatedLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_commits(monkeypatch, lambda: any(b[0].id == "poison" for b in ledger.running))
    batches = [
        [move("t1", "a", "b", 10)],
        [move("poison", "a", "c", 10)],
        [move("t2", "b", "c", 20)],
    ]
    answers = in_one_group(ledger, batches)
    assert answers[1] == [R.OK] and answers[3] == [R.OK]
    assert isinstance(answers[2], OperationalError)
    assert sorted(ledger.lookup_transfers(["t1", "poison", "t2"])) == ["t1", "t2"]


def test_a_caller_inside_a_unit_of_work_commits_alone_without_waiting(
    ledger: GatedLedger, engine: Engine
) -> None:
    """A group may wait for locks a caller's own transaction holds: such a caller never
    joins one (here it would wait for the held batch, which waits for the gate)."""
    hold(ledger)
    held = threading.Thread(target=ledger.create_transfers, args=([move("held", "a", "b", 1)],))
    held.start()
    wait_until(lambda: ledger.held == 1, WAIT_S)
    try:
        with UnitOfWork(engine, read_only=True):
            assert ledger.create_transfers([move("inside", "b", "c", 1)]) == [R.OK]
        assert ledger.batches_waiting == 0
    finally:
        ledger.gate.set()
        held.join(WAIT_S)
    assert sorted(ledger.lookup_transfers(["held", "inside"])) == ["held", "inside"]


def test_with_group_commit_off_nothing_is_queued(engine: Engine, clock: ManualClock) -> None:
    ledger = Ledger(engine, clock, group_commit=False)
    ledger.create_accounts([NewAccount("x", 1, 1), NewAccount("y", 1, 1)])
    results: list[list[CreateTransferResult]] = []
    threads = [
        threading.Thread(
            target=lambda n=n: results.append(ledger.create_transfers([move(f"t{n}", "x", "y", 1)]))
        )
        for n in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_S)
    assert results == [[R.OK]] * 8
    assert ledger.batches_waiting == 0
