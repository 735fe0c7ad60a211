"""Measuring durable commits from concurrent clients, and the random workload they send.

Shared by the ledger bench and its baselines so that both are timed the same way and draw the
same kind of transfers: two different accounts chosen uniformly, a small random amount.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager

FUNDING_FEN = 1_000_000  # 10 000 yuan each: random small transfers never exhaust an account
TRANSFER_FEN_MAX = 100

Step = Callable[[], int]
"""Commits some transfers durably and returns how many."""
StepFactory = Callable[[int], AbstractContextManager[Step]]
"""Opens worker ``i``'s step (its connection, its random stream) inside that worker's thread."""


def measure(factory: StepFactory, clients: int, seconds: float, warmup_s: float) -> int:
    """Run ``clients`` threads; count the transfers whose commit ends inside one shared window.

    A window common to all threads is an unbiased estimate even when a thread is starved for a
    while (SQLite's busy handler is not fair) or a batch straddles an edge; summing each thread's
    own rate would not be.
    """
    start = time.perf_counter() + warmup_s
    counts: list[int] = []
    errors: list[BaseException] = []
    args = (factory, (start, start + seconds), counts, errors)
    threads = [threading.Thread(target=_worker, args=(i, *args)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return sum(counts)


def _worker(
    index: int,
    factory: StepFactory,
    window: tuple[float, float],
    counts: list[int],
    errors: list[BaseException],
) -> None:
    start, end = window
    count = 0
    try:
        with factory(index) as step:
            while True:
                committed = step()
                now = time.perf_counter()
                if now >= end:
                    break
                if now >= start:
                    count += committed
        counts.append(count)
    except Exception as error:  # re-raised in the calling thread by measure()
        errors.append(error)


def pair(rng: random.Random, count: int) -> tuple[int, int]:
    """Two different accounts, uniformly: no artificial hot spot between concurrent clients."""
    debit, credit = below(rng, count), below(rng, count - 1)
    return debit, credit + (credit >= debit)


def transfer_amount(rng: random.Random) -> int:
    """A transfer's amount in fen, 1 … ``TRANSFER_FEN_MAX``."""
    return 1 + below(rng, TRANSFER_FEN_MAX)


def below(rng: random.Random, count: int) -> int:
    """A uniform integer in ``[0, count)``. ``random()`` scaled costs a quarter of ``randrange``;
    the load generator's own time is inside every measured row, and a batch of 1 000 drew three
    thousand of these (a sixth of the batch's time)."""
    return int(rng.random() * count)
