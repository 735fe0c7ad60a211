"""The signed settlement's worker threads: answers, refusals, context, a bound, and an end."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import threading
import time

import pytest

from gongji.api.lane_threads import LaneThreads

_ASKED_BY: contextvars.ContextVar[str] = contextvars.ContextVar("asked_by", default="nobody")


def _lane_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("gongji-settlement-")}


def test_work_answers_in_a_lane_thread_with_the_callers_context() -> None:
    lane = LaneThreads()

    def work(a: int, b: int) -> tuple[int, str, str]:
        return a + b, threading.current_thread().name, _ASKED_BY.get()

    async def ask() -> tuple[int, str, str]:
        _ASKED_BY.set("the request")
        return await lane.run(2, work, 40, 2)

    total, thread, asked_by = asyncio.run(ask())
    assert (total, asked_by) == (42, "the request")
    assert thread.startswith("gongji-settlement-")


def test_a_refusal_raised_in_the_thread_reaches_the_awaiting_request() -> None:
    lane = LaneThreads()

    def work() -> None:
        raise LookupError("refused")

    async def ask() -> None:
        await lane.run(1, work)

    with pytest.raises(LookupError, match="refused"):
        asyncio.run(ask())


def test_no_more_than_the_lanes_threads_work_at_once_and_the_rest_wait() -> None:
    lane, busy, most = LaneThreads(), [0], [0]
    guard = threading.Lock()

    def work() -> None:
        with guard:
            busy[0] += 1
            most[0] = max(most[0], busy[0])
        time.sleep(0.02)
        with guard:
            busy[0] -= 1

    async def burst() -> None:
        await asyncio.gather(*(lane.run(3, work) for _ in range(12)))

    asyncio.run(burst())
    assert most[0] == 3


async def _one(lane: LaneThreads) -> int:
    return await lane.run(2, lambda: 1)


def test_the_threads_stop_when_their_lane_is_collected() -> None:
    before = _lane_threads()
    lane = LaneThreads()
    assert asyncio.run(_one(lane)) == 1
    started = _lane_threads() - before
    assert len(started) == 2
    del lane
    gc.collect()
    for thread in started:
        thread.join(timeout=5)
    assert not any(thread.is_alive() for thread in started)
