"""The signed settlement's own worker threads: a queue the event loop puts work on, a few
threads that take it, and the answer handed back to the loop.

Why not anyio's ``to_thread.run_sync`` with a limiter, as FastAPI's routes use: it opens a
cancel scope, takes the limiter's token and hands the result back through anyio's own queue;
nor the standard library's executor under ``loop.run_in_executor``: a future of its own, a work
item, a lock, and a second future chained to the loop's. At several hundred settlements a
second each costs: anyio about 5 % of the server's CPU a signed settlement, the executor's
chaining about 4 % more than this (docs/benchmarks.md, issue 20, step 11). Here a settlement
costs a closure, a put on a ``SimpleQueue`` and one ``call_soon_threadsafe``.

Like anyio, the work runs in a copy of the caller's context variables, and a settlement whose
client went away still runs to its end (its answer is then dropped). The threads start with
the first settlement, in the process that serves it (uvicorn's workers each build their own
app), and stop when their :class:`LaneThreads` is collected with its app.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import weakref
from collections.abc import Callable
from queue import SimpleQueue
from typing import TypeVar

T = TypeVar("T")

_Job = Callable[[], None] | None
"""A job for a thread; ``None`` tells it to stop."""


class LaneThreads:
    """``threads`` worker threads of one route, apart from the pool every other route draws on:
    a burst queues for them without holding a thread, and slow pages cannot take them."""

    __slots__ = ("__weakref__", "_jobs", "_threads")

    def __init__(self) -> None:
        self._jobs: SimpleQueue[_Job] | None = None
        self._threads = 0

    def run(self, threads: int, work: Callable[..., T], *args: object) -> asyncio.Future[T]:
        """``work(*args)`` in one of ``threads`` threads, for the running event loop to await."""
        jobs = self._jobs
        if jobs is None or self._threads != threads:
            jobs = self._start(threads)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        context = contextvars.copy_context()

        def job() -> None:
            try:
                result = context.run(work, *args)
            except BaseException as error:  # handed to the awaiting request, as anyio does
                loop.call_soon_threadsafe(_fail, future, error)
            else:
                loop.call_soon_threadsafe(_answer, future, result)

        jobs.put(job)
        return future

    def _start(self, threads: int) -> SimpleQueue[_Job]:
        """A queue and its threads (those of an earlier count are told to stop)."""
        if self._jobs is not None:
            _stop(self._jobs, self._threads)
        jobs: SimpleQueue[_Job] = SimpleQueue()
        for number in range(threads):
            name = f"gongji-settlement-{number}"
            threading.Thread(target=_serve, args=(jobs,), name=name, daemon=True).start()
        weakref.finalize(self, _stop, jobs, threads)
        self._jobs, self._threads = jobs, threads
        return jobs


def _serve(jobs: SimpleQueue[_Job]) -> None:
    """A worker thread: jobs in turn until told to stop. It holds the queue, not the lane, so
    that the lane can be collected."""
    while (job := jobs.get()) is not None:
        job()


def _stop(jobs: SimpleQueue[_Job], threads: int) -> None:
    for _ in range(threads):
        jobs.put(None)


def _answer(future: asyncio.Future[T], result: T) -> None:
    if not future.cancelled():
        future.set_result(result)


def _fail(future: asyncio.Future[T], error: BaseException) -> None:
    if not future.cancelled():
        future.set_exception(error)
