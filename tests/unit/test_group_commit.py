"""The group-commit queue alone (ledger/group_commit.py), with a fake transaction: who leads,
who shares a group, how big a group gets, what each caller is told when a group fails, and
the setting that turns it off."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import pytest

from gongji.config import Settings
from gongji.ledger.group_commit import GroupCommit
from support.race import wait_until

WAIT_S = 10.0


class FakeTransactions:
    """``run_group`` for a GroupCommit of strings: answers each request with itself in capitals,
    records every group, and can hold the first group in flight or fail chosen groups."""

    def __init__(self, fails: Callable[[Sequence[str]], bool] = lambda _group: False) -> None:
        self.groups: list[list[str]] = []
        self.hold_first = threading.Event()
        self.hold_first.set()
        self.first_started = threading.Event()
        self._fails = fails

    def __call__(self, requests: Sequence[str]) -> list[str]:
        self.groups.append(list(requests))
        if len(self.groups) == 1:
            self.first_started.set()
            if not self.hold_first.wait(WAIT_S):
                raise TimeoutError("the first group was never let go")
        if self._fails(requests):
            raise RuntimeError(f"commit failed for {'+'.join(requests)}")
        return [request.upper() for request in requests]


def submit_in_thread(
    queue: GroupCommit[str, str], request: str, answers: dict[str, object]
) -> threading.Thread:
    def call() -> None:
        try:
            answers[request] = queue.submit(request, len(request))
        except Exception as error:
            answers[request] = error

    thread = threading.Thread(target=call)
    thread.start()
    return thread


def queue_behind_a_held_commit(
    transactions: FakeTransactions, requests: list[str], events_max: int = 100
) -> tuple[GroupCommit[str, str], dict[str, object]]:
    """``lead`` commits first and is held; ``requests`` queue behind it, in order; then all go."""
    queue = GroupCommit(transactions, events_max=events_max)
    answers: dict[str, object] = {}
    transactions.hold_first.clear()
    threads = [submit_in_thread(queue, "lead", answers)]
    transactions.first_started.wait(WAIT_S)
    for number, request in enumerate(requests, start=1):
        threads.append(submit_in_thread(queue, request, answers))
        wait_until(lambda number=number: queue.waiting == number, WAIT_S)  # type: ignore[misc]
    transactions.hold_first.set()
    for thread in threads:
        thread.join(WAIT_S)
    return queue, answers


def test_a_lone_caller_commits_at_once_as_a_group_of_one() -> None:
    transactions = FakeTransactions()
    queue = GroupCommit(transactions, events_max=100)
    assert queue.submit("a", 1) == "A"
    assert queue.submit("b", 1) == "B"
    assert transactions.groups == [["a"], ["b"]]


def test_callers_queued_during_a_commit_share_the_next_one_each_with_its_own_answer() -> None:
    transactions = FakeTransactions()
    queue, answers = queue_behind_a_held_commit(transactions, ["b", "c", "d"])
    assert transactions.groups == [["lead"], ["b", "c", "d"]]
    assert answers == {"lead": "LEAD", "b": "B", "c": "C", "d": "D"}
    assert queue.waiting == 0
    assert queue.submit("e", 1) == "E"  # nobody is left leading
    assert transactions.groups[-1] == ["e"]


def test_a_group_takes_at_most_events_max_events_oldest_first() -> None:
    transactions = FakeTransactions()
    _, answers = queue_behind_a_held_commit(transactions, ["bb", "cc", "dd", "e"], events_max=5)
    assert transactions.groups == [["lead"], ["bb", "cc"], ["dd", "e"]]
    assert answers["e"] == "E"


def test_with_two_leaders_two_groups_are_in_flight_and_later_callers_queue() -> None:
    """As the ledger runs on PostgreSQL: a caller that finds one group in flight leads its own
    at once; with both in flight, the next callers queue and go together as one group."""
    gate = threading.Event()
    started: list[list[str]] = []

    def run_group(requests: Sequence[str]) -> list[str]:
        started.append(list(requests))
        if requests[0] in ("a", "b") and not gate.wait(WAIT_S):
            raise TimeoutError("the gate never opened")
        return [request.upper() for request in requests]

    queue = GroupCommit(run_group, events_max=100, leaders_max=2)
    answers: dict[str, object] = {}
    threads = [submit_in_thread(queue, "a", answers)]
    wait_until(lambda: len(started) == 1, WAIT_S)
    threads.append(submit_in_thread(queue, "b", answers))
    wait_until(lambda: len(started) == 2, WAIT_S)  # b did not wait for a
    for number, request in enumerate(("c", "d"), start=1):
        threads.append(submit_in_thread(queue, request, answers))
        wait_until(lambda number=number: queue.waiting == number, WAIT_S)  # type: ignore[misc]
    gate.set()
    for thread in threads:
        thread.join(WAIT_S)
    assert started == [["a"], ["b"], ["c", "d"]]
    assert answers == {"a": "A", "b": "B", "c": "C", "d": "D"}
    assert queue.submit("e", 1) == "E" and queue.waiting == 0  # both leaders let go


def test_a_failed_group_is_run_again_member_by_member_so_a_poison_fails_alone() -> None:
    transactions = FakeTransactions(fails=lambda group: "poison" in group)
    _, answers = queue_behind_a_held_commit(transactions, ["b", "poison", "d"])
    assert transactions.groups == [["lead"], ["b", "poison", "d"], ["b"], ["poison"], ["d"]]
    assert answers["b"] == "B" and answers["d"] == "D"
    assert isinstance(answers["poison"], RuntimeError)


def test_when_every_commit_fails_every_member_gets_an_error_and_no_answer() -> None:
    transactions = FakeTransactions(fails=lambda group: group != ["lead"])
    _, answers = queue_behind_a_held_commit(transactions, ["b", "c"])
    assert answers["lead"] == "LEAD"
    assert all(isinstance(answers[name], RuntimeError) for name in ("b", "c"))
    assert "C" not in answers.values() and "B" not in answers.values()


def test_an_error_of_a_lone_caller_is_raised_to_it() -> None:
    queue = GroupCommit(FakeTransactions(fails=lambda _group: True), events_max=10)
    with pytest.raises(RuntimeError, match="commit failed for x"):
        queue.submit("x", 1)
    with pytest.raises(RuntimeError):  # and the queue is free again
        queue.submit("y", 1)


def test_group_commit_is_on_unless_the_setting_turns_it_off() -> None:
    assert Settings.from_env({}).ledger_group_commit is True
    assert Settings.from_env({"GONGJI_LEDGER_GROUP_COMMIT": "1"}).ledger_group_commit is True
    assert Settings.from_env({"GONGJI_LEDGER_GROUP_COMMIT": "0"}).ledger_group_commit is False
