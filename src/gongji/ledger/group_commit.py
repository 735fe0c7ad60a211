"""Group commit: callers who arrive while a commit is in flight share the next one.

A durable commit waits for the disk (SQLite's fsync) or for the server's log flush
(PostgreSQL): hundreds of microseconds in which the caller of a single transfer does nothing,
and on SQLite the next writer cannot even begin. So a caller that finds a commit in flight
queues its request and sleeps. When that commit has returned, the first caller in the queue
leads the next group: it takes every request queued (up to ``events_max`` events), runs them
together through ``run_group`` (one transaction, one commit), hands each member its own answer
and wakes it. A caller that finds nobody committing leads at once, a group of one: no timer,
no waiting for company, so a lone caller's latency is what it was.

``leaders_max`` groups may commit at once (the ledger allows two on PostgreSQL, one on SQLite:
``ledger.book``): a caller that finds fewer groups in flight leads at once too, and a leader
that finishes hands the queue to the next group's leader as before. The database keeps groups
in flight apart (PostgreSQL's row locks); the queue keeps each group's members in order.

Leader and followers, no thread of its own: the group's transaction runs in the thread of the
caller that leads it. Nobody is answered before the commit that carries its request returned.
When a group of several fails (``run_group`` raises), each member is run again alone
(``run_group`` with one request), so a request that fails the database fails by itself and its
neighbours get their own outcomes; nothing of the failed group was committed.

What a request means, how requests in one group keep apart and what a group's transaction is
belong to the caller (the ledger: ``Ledger.create_transfers``); this module only queues,
groups and hands answers back.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Q = TypeVar("Q")  # a request
A = TypeVar("A")  # its answer


class _Member(Generic[Q, A]):
    """One caller's request, its answer or error, and, once it queues, the lock it sleeps on:
    held from then, released once to wake it (a bare lock is the cheapest wake-up there is; a
    caller that leads at once never makes one)."""

    __slots__ = ("_wake", "answer", "done", "error", "group", "request", "size")

    def __init__(self, request: Q, size: int) -> None:
        self.request = request
        self.size = size
        self.answer: A | None = None
        self.error: BaseException | None = None
        self.done = False
        self.group: list[_Member[Q, A]] | None = None  # set when it is to lead this group
        self._wake: threading.Lock | None = None

    def queue(self) -> None:
        self._wake = threading.Lock()
        self._wake.acquire()

    def sleep(self) -> None:
        self._waiting().acquire()

    def wake(self) -> None:
        self._waiting().release()

    def _waiting(self) -> threading.Lock:
        if self._wake is None:
            raise RuntimeError("only a queued request sleeps and is woken")
        return self._wake

    def outcome(self) -> A:
        if self.error is not None:
            raise self.error
        return self.answer  # type: ignore[return-value]  # done without error: answered


class GroupCommit(Generic[Q, A]):
    """Queue, group and answer concurrent requests; see the module docstring."""

    def __init__(
        self,
        run_group: Callable[[Sequence[Q]], Sequence[A]],
        *,
        events_max: int,
        leaders_max: int = 1,
    ) -> None:
        self._run_group = run_group
        self._events_max = events_max
        self._leaders_max = leaders_max
        self._lock = threading.Lock()
        self._queue: deque[_Member[Q, A]] = deque()
        self._leading = 0  # groups being committed, or handed to their leaders

    @property
    def waiting(self) -> int:
        """Requests queued for the next group (for tests and diagnostics)."""
        return len(self._queue)

    def submit(self, request: Q, size: int) -> A:
        """``request`` (of ``size`` events) committed, alone or in a group; its own answer, or
        the error its own run raised."""
        member: _Member[Q, A] = _Member(request, size)
        with self._lock:
            if self._leading >= self._leaders_max:
                member.queue()
                self._queue.append(member)
                group = None
            else:
                self._leading += 1
                group = [member]
        if group is None:
            group = self._wait(member)
            if group is None:
                return member.outcome()
        self._lead(group)
        return member.outcome()

    def _wait(self, member: _Member[Q, A]) -> list[_Member[Q, A]] | None:
        """Sleep until answered (None) or handed a group to lead. Interrupted (a signal in the
        main thread), the request leaves the queue if it is still there; a group handed over
        meanwhile is led before the interruption goes on, so the others are not stranded."""
        try:
            member.sleep()
        except BaseException:
            with self._lock:
                group = member.group
                if group is None and member in self._queue:
                    self._queue.remove(member)
            if group is not None:
                self._lead(group)
            raise
        return member.group if not member.done else None

    def _lead(self, group: list[_Member[Q, A]]) -> None:
        """Commit ``group``, hand the queue to its next leader, then wake the members."""
        try:
            self._commit(group)
        finally:
            with self._lock:
                following = self._next_group()
            if following:
                following[0].wake()
            for member in group[1:]:
                member.wake()

    def _commit(self, group: list[_Member[Q, A]]) -> None:
        try:
            answers = self._run_group([member.request for member in group])
        except Exception as error:
            if len(group) == 1:
                _settle(group[0], None, error)
                return
            for member in group:  # the group's transaction rolled back: each again, alone
                self._commit_alone(member)
            return
        except BaseException as error:
            for member in group:
                _settle(member, None, error)
            raise
        for member, answer in zip(group, answers, strict=True):
            _settle(member, answer, None)

    def _commit_alone(self, member: _Member[Q, A]) -> None:
        try:
            (answer,) = self._run_group([member.request])
        except Exception as error:
            _settle(member, None, error)
        else:
            _settle(member, answer, None)

    def _next_group(self) -> list[_Member[Q, A]]:
        """Under the lock: the queued requests the next group takes, oldest first, at most
        ``events_max`` events (always at least one request), handed to the first of them to
        lead; none: nobody leads."""
        if not self._queue:
            self._leading -= 1
            return []
        group = [self._queue.popleft()]
        events = group[0].size
        while self._queue and events + self._queue[0].size <= self._events_max:
            member = self._queue.popleft()
            events += member.size
            group.append(member)
        group[0].group = group
        return group


def _settle(member: _Member[Q, A], answer: A | None, error: BaseException | None) -> None:
    member.answer, member.error, member.done = answer, error, True
