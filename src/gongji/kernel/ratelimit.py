"""Counting requests per key in a sliding minute, in memory, before any expensive work.

A limiter answers at once and costs a dictionary look-up, so it can stand in front of argon2,
an SMS and a register look-up: a refused caller has spent nothing of the server. Counts live in
the process: right for SQLite, whose deployment is one ``gongji serve`` process. On PostgreSQL,
where ``--workers N`` runs several, bootstrap gives the context the shared limiter instead
(:mod:`gongji.kernel.shared_ratelimit`, same :class:`Limiter` interface), or each process would
allow the whole limit. Times come from a monotonic source, not the business clock: a test
deployment moving its clock must not reset or trip the limits.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import ClassVar, Protocol

from gongji.core.errors import GongjiError

WINDOW_S = 60.0
KEYS_MAX = 100_000
"""Most keys remembered at once; beyond it the oldest are forgotten, so a flood of distinct
addresses cannot grow the table without bound."""


class RateLimited(GongjiError):
    code: ClassVar[str] = "rate_limited"
    message_zh: ClassVar[str] = "请求过于频繁，请 {retry_after_s} 秒后再试"
    message_en: ClassVar[str] = "Too many requests; try again in {retry_after_s} s"


class Limiter(Protocol):
    """What the front doors ask: count one request per key, or refuse with ``rate_limited``."""

    def admit(self, key: str, allowed: int, window_s: float = WINDOW_S) -> None: ...

    def admit_all(self, keys: Sequence[tuple[str, int] | tuple[str, int, float]]) -> None: ...

    def reset(self) -> None: ...


class RateLimiter:
    """``admit(key, allowed)`` counts one request or raises :class:`RateLimited` when ``key``
    already had ``allowed`` requests in the last ``window_s`` seconds (a minute unless told)."""

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def admit(self, key: str, allowed: int, window_s: float = WINDOW_S) -> None:
        with self._lock:
            now = self._now()
            times = self._seen.pop(key, None) or deque()
            while times and times[0] <= now - window_s:
                times.popleft()
            refused = len(times) >= allowed
            if not refused:
                times.append(now)
            self._seen[key] = times  # re-inserted last: the dict's order is recency
            if len(self._seen) > KEYS_MAX:
                del self._seen[next(iter(self._seen))]
        if refused:
            raise RateLimited(retry_after_s=max(1, int(times[0] + window_s - now) + 1))

    def admit_all(self, keys: Sequence[tuple[str, int] | tuple[str, int, float]]) -> None:
        """Every key counted, or none: a refusal on the second must not spend the first.
        Each is ``(key, allowed)`` for a minute or ``(key, allowed, window_s)``."""
        for index, (key, allowed, *window) in enumerate(keys):
            try:
                self.admit(key, allowed, *window)
            except RateLimited:
                self._forget_last(keys[:index])
                raise

    def _forget_last(self, keys: Sequence[tuple[str, int] | tuple[str, int, float]]) -> None:
        with self._lock:
            for key, *_ in keys:
                times = self._seen.get(key)
                if times:
                    times.pop()

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()
