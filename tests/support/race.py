"""Calls released together: copies of one request racing each other, as a client that resends
while its first try is still running would send them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def race(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Run every call in a thread of its own, all released by one barrier; their results in
    the calls' order (the first exception raised is raised here)."""
    barrier = threading.Barrier(len(calls))

    def released(call: Callable[[], T]) -> T:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(released, call) for call in calls]
        return [future.result() for future in futures]


def wait_until(condition: Callable[[], bool], timeout_s: float) -> None:
    """Poll ``condition`` every millisecond until it holds; ``TimeoutError`` after
    ``timeout_s`` (a thread the test waits for never got there)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition never held")
        time.sleep(0.001)
