"""Driving requests from concurrent client threads and timing each one (``gongji bench settle``).

Two ways to load a system. *As fast as it goes* (closed loop): ``clients`` threads each send
the next request as soon as the last one is answered; throughput is what ends inside one
measured window shared by all threads (as in sim/workload.py). *At a fixed rate* (open loop):
request ``k`` is due at ``start + k / rate`` and thread ``k mod clients`` sends it then, or as
soon as it is free; its latency counts from when it was *due*, not from when it was sent, so a
server that falls behind shows it in the percentiles instead of slowing the clock (no
coordinated omission).

Times are ``time.monotonic()``: on Linux one clock for every process of the machine, so client
processes started apart (sim/settle_clients.py) share the window the bench sets them.

Threads, not asyncio: the client libraries (sqlite3, psycopg, httpx2's sockets) release the GIL
while they wait, and one shape of driver serves the service layer and HTTP alike.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Final

_EPSILON: Final = 1e-9  # (0.1 + 0.2) × 10 is 3.0000000000000004 in binary floating point


@dataclass(frozen=True, slots=True)
class Outcome:
    """One answered request: ``code`` is None when it succeeded, else the refusal's code."""

    code: str | None = None
    shared: bool = False


Send = Callable[[], Outcome]
SenderFactory = Callable[[int], AbstractContextManager[Send]]
"""Opens worker ``i``'s sender (its connection or HTTP client, its random stream) in its thread."""


@dataclass(slots=True)
class Tally:
    """What ended inside the measured window."""

    latencies_s: list[float] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)
    shared: int = 0
    last_done: float = 0.0  # monotonic() when the last counted request was answered
    in_window: int = 0  # requests answered inside the window, whenever they were due

    def add(self, outcome: Outcome, latency_s: float, done: float) -> None:
        self.last_done = max(self.last_done, done)
        if outcome.code is None:
            self.latencies_s.append(latency_s)
            self.shared += outcome.shared
        else:
            self.refused[outcome.code] += 1

    def merge(self, other: Tally) -> None:
        self.latencies_s += other.latencies_s
        self.refused += other.refused
        self.shared += other.shared
        self.last_done = max(self.last_done, other.last_done)
        self.in_window += other.in_window


def percentile_ms(latencies_s: list[float], p: float) -> float | None:
    """Nearest-rank percentile in milliseconds; None when nothing was measured."""
    if not latencies_s:
        return None
    ordered = sorted(latencies_s)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1] * 1000


def closed_loop(
    factory: SenderFactory,
    clients: int,
    seconds: float,
    warmup_s: float,
    start: float | None = None,
) -> Tally:
    """``start``: when warm-up begins (default: now); the window is the ``seconds`` after it."""
    start = (time.monotonic() if start is None else start) + warmup_s
    end = start + seconds

    def work(send: Send, tally: Tally) -> None:
        while True:
            sent = time.monotonic()
            outcome = send()
            now = time.monotonic()
            if now >= end:
                return
            if now >= start:
                tally.add(outcome, now - sent, now)
                tally.in_window += 1

    return _threads(factory, clients, work)


def fixed_rate(
    factory: SenderFactory,
    clients: int,
    rate: float,
    seconds: float,
    warmup_s: float,
    start: float | None = None,
    offset_s: float = 0.0,
) -> tuple[Tally, float]:
    """Requests due at a steady ``rate``; those due inside the window after warm-up count.

    Returns the tally and the rate achieved: the counted successes over the time from the first
    one's due time to the last answer (below ``rate`` when the system could not keep up).
    ``start``: when warm-up begins (default: just after every thread has opened its sender);
    ``offset_s``: this generator's first request is due that long after it, so that ``P``
    processes at ``rate / P`` each, offset by ``1 / (P × rate)``, interleave into one steady
    stream at ``P × rate``.
    """
    start = (time.monotonic() + 0.05 if start is None else start) + offset_s
    window = (start - offset_s + warmup_s, start - offset_s + warmup_s + seconds)
    due_total = math.ceil((warmup_s + seconds - offset_s) * rate - _EPSILON)
    first_counted = max(0, math.ceil((warmup_s - offset_s) * rate - _EPSILON))

    def work_for(index: int) -> Callable[[Send, Tally], None]:
        def work(send: Send, tally: Tally) -> None:
            for k in range(index, due_total, clients):
                due = start + k / rate
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                outcome = send()
                done = time.monotonic()
                if k >= first_counted:
                    tally.add(outcome, done - due, done)
                tally.in_window += window[0] <= done < window[1]

        return work

    tally = _threads(factory, clients, None, work_for)
    answered = len(tally.latencies_s)
    span_s = max(seconds, tally.last_done - (start + first_counted / rate))
    return tally, answered / span_s


def achieved_rate(tally: Tally, window_start: float, seconds: float) -> float:
    """Counted successes per second from the window's start to the last answer (at least the
    window): the rate several fixed-rate generators achieved together."""
    return len(tally.latencies_s) / max(seconds, tally.last_done - window_start)


def _threads(
    factory: SenderFactory,
    clients: int,
    work: Callable[[Send, Tally], None] | None,
    work_for: Callable[[int], Callable[[Send, Tally], None]] | None = None,
) -> Tally:
    tallies = [Tally() for _ in range(clients)]
    errors: list[BaseException] = []

    def run(index: int) -> None:
        chosen = work_for(index) if work_for is not None else work
        assert chosen is not None
        try:
            with factory(index) as send:
                chosen(send, tallies[index])
        except Exception as error:  # re-raised in the calling thread below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    total = Tally()
    for tally in tallies:
        total.merge(tally)
    return total
