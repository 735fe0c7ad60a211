"""Rate limits every process of a PostgreSQL deployment counts together.

``gongji serve --workers N`` runs N processes; an in-memory limiter in each would let a client
make N times the limit. On PostgreSQL the counts live in ``rate_limit_counts``, one row per key
and fixed window, raised by one atomic upsert that refuses (and leaves the count unchanged)
once the budget is spent. Each admission is its own short transaction, committed whatever
becomes of the request: a refused or failing request still counted. It costs two primary-key
statements per key, still before any expensive work.

Counts are kept per fixed window (a minute starting on the minute) and read as a sliding one,
as the in-memory limiter counts: the previous window's count, weighted by how much of it still
lies within the last ``window_s``, is added to the current one's, so a client cannot spend one
window's budget at its end and the next one's at its start. The times are the wall clock
(every process must agree on the window), not the business clock a test deployment moves.
Rows of windows long past are deleted by the process that next notices, at most once per
:data:`SWEEP_EVERY_S`.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from typing import Final

from sqlalchemy import Connection, Engine, text

from gongji.kernel.ratelimit import WINDOW_S, RateLimited

SWEEP_EVERY_S: Final = 60.0
_KEY_LENGTH_MAX: Final = 200

_ADMIT: Final = """
INSERT INTO rate_limit_counts (key, window_start_ms, count)
VALUES (:key, :window_start_ms, 1)
ON CONFLICT (key, window_start_ms) DO UPDATE SET count = rate_limit_counts.count + 1
WHERE rate_limit_counts.count < :allowed
RETURNING count
"""
_PREVIOUS: Final = (
    "SELECT count FROM rate_limit_counts WHERE key = :key AND window_start_ms = :window_start_ms"
)
_SWEEP: Final = "DELETE FROM rate_limit_counts WHERE window_start_ms < :before_ms"
_SWEEP_AGE_MS: Final = 3_600_000  # an hour: longer than any window the limits use


class SharedRateLimiter:
    """The :class:`gongji.kernel.ratelimit.RateLimiter` interface over a PostgreSQL table."""

    def __init__(self, engine: Engine, now: Callable[[], float] = time.time) -> None:
        self._engine = engine
        self._now = now
        self._swept_at = 0.0
        self._lock = threading.Lock()

    def admit(self, key: str, allowed: int, window_s: float = WINDOW_S) -> None:
        self.admit_all([(key, allowed, window_s)])

    def admit_all(self, keys: Sequence[tuple[str, int] | tuple[str, int, float]]) -> None:
        """Every key counted, or none: the first refusal rolls the others back."""
        now = self._now()
        with self._engine.connect() as connection:
            for key, allowed, *window in keys:
                window_s = window[0] if window else WINDOW_S
                if not self._counted(connection, key, allowed, window_s, now):
                    connection.rollback()
                    window_end = (now // window_s + 1) * window_s
                    raise RateLimited(retry_after_s=max(1, int(window_end - now) + 1))
            connection.commit()
            self._sweep(connection, now)

    def _counted(
        self, connection: Connection, key: str, allowed: int, window_s: float, now: float
    ) -> bool:
        key = key[:_KEY_LENGTH_MAX]
        window_start = now // window_s * window_s
        window_start_ms = int(window_start * 1000)
        previous_ms = int((window_start - window_s) * 1000)
        earlier = connection.execute(
            text(_PREVIOUS), {"key": key, "window_start_ms": previous_ms}
        ).scalar_one_or_none()
        still_inside = 1.0 - (now - window_start) / window_s
        budget = allowed - math.ceil((earlier or 0) * still_inside - 1e-9)
        if budget <= 0:
            return False
        row = connection.execute(
            text(_ADMIT), {"key": key, "window_start_ms": window_start_ms, "allowed": budget}
        ).first()
        return row is not None

    def _sweep(self, connection: Connection, now: float) -> None:
        with self._lock:
            if now - self._swept_at < SWEEP_EVERY_S:
                return
            self._swept_at = now
        connection.execute(text(_SWEEP), {"before_ms": int(now * 1000) - _SWEEP_AGE_MS})
        connection.commit()

    def reset(self) -> None:
        """Forget every count (tests; an operator clearing a mistaken block)."""
        with self._engine.begin() as connection:
            connection.execute(text("DELETE FROM rate_limit_counts"))
