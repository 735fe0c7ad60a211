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

A large allowance is taken in leases. Counting one request costs a connection and three
statements, which a limit of hundreds a minute met on every settlement (the institutions'
identifications) would pay hundreds of times. So where the allowance is at least
:data:`LEASE_EVERY` requests, a process counts a lease of ``allowed // LEASE_EVERY`` requests
(at most :data:`LEASE_MAX`) in one upsert and admits them from memory until the lease or its
window ends. A lease is counted as spent when it is taken, so the limit still holds across
processes; the price is that units a process leased and did not use are lost to the others
until the window turns, which can refuse a little early (at most one lease per process). Near
the limit a lease shrinks to what is left. Small allowances (sign-in, codes, argon2) are
counted one by one, as before.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import Connection, Engine, text

from gongji.kernel.ratelimit import WINDOW_S, RateLimited

SWEEP_EVERY_S: Final = 60.0
LEASE_EVERY: Final = 30
"""An allowance of ``allowed`` is leased ``allowed // LEASE_EVERY`` at a time (1: no lease)."""
LEASE_MAX: Final = 100
_KEY_LENGTH_MAX: Final = 200

_ADMIT: Final = """
INSERT INTO rate_limit_counts (key, window_start_ms, count)
VALUES (:key, :window_start_ms, :taken)
ON CONFLICT (key, window_start_ms) DO UPDATE SET count = rate_limit_counts.count + :taken
WHERE rate_limit_counts.count + :taken <= :allowed
RETURNING count
"""
_COUNT_OF_WINDOW: Final = (
    "SELECT count FROM rate_limit_counts WHERE key = :key AND window_start_ms = :window_start_ms"
)
_LEASED_KEYS_MAX: Final = 10_000
"""Most keys with a lease remembered; past it the leases are forgotten (their units are lost
to the window, which only ever refuses early)."""
_SWEEP: Final = "DELETE FROM rate_limit_counts WHERE window_start_ms < :before_ms"
_SWEEP_AGE_MS: Final = 3_600_000  # an hour: longer than any window the limits use


@dataclass
class _Lease:
    """Requests of one key this process counted ahead, for the window that began then."""

    window_start_ms: int
    left: int


class SharedRateLimiter:
    """The :class:`gongji.kernel.ratelimit.RateLimiter` interface over a PostgreSQL table."""

    def __init__(self, engine: Engine, now: Callable[[], float] = time.time) -> None:
        self._engine = engine
        self._now = now
        self._swept_at = 0.0
        self._lock = threading.Lock()
        self._leases: dict[str, _Lease] = {}
        self._leases_lock = threading.Lock()

    def admit(self, key: str, allowed: int, window_s: float = WINDOW_S) -> None:
        lease_size = min(LEASE_MAX, allowed // LEASE_EVERY)
        if lease_size <= 1:
            self.admit_all([(key, allowed, window_s)])
            return
        now = self._now()
        window_start_ms = int(now // window_s * window_s * 1000)
        with self._leases_lock:
            lease = self._leases.get(key)
            if lease is not None and lease.window_start_ms == window_start_ms and lease.left:
                lease.left -= 1
                return
        with self._engine.connect() as connection:
            taken = self._counted(connection, key, allowed, window_s, now, lease_size)
            if not taken:
                connection.rollback()
                raise self._refusal(now, window_s)
            connection.commit()
            self._sweep(connection, now)
        with self._leases_lock:
            lease = self._leases.get(key)
            if lease is not None and lease.window_start_ms == window_start_ms:
                lease.left += taken - 1  # another thread of this process leased meanwhile
                return
            if len(self._leases) >= _LEASED_KEYS_MAX:
                self._leases.clear()
            self._leases[key] = _Lease(window_start_ms, taken - 1)

    def admit_all(self, keys: Sequence[tuple[str, int] | tuple[str, int, float]]) -> None:
        """Every key counted, or none: the first refusal rolls the others back."""
        now = self._now()
        with self._engine.connect() as connection:
            for key, allowed, *window in keys:
                window_s = window[0] if window else WINDOW_S
                if not self._counted(connection, key, allowed, window_s, now):
                    connection.rollback()
                    raise self._refusal(now, window_s)
            connection.commit()
            self._sweep(connection, now)

    @staticmethod
    def _refusal(now: float, window_s: float) -> RateLimited:
        window_end = (now // window_s + 1) * window_s
        return RateLimited(retry_after_s=max(1, int(window_end - now) + 1))

    def _counted(
        self,
        connection: Connection,
        key: str,
        allowed: int,
        window_s: float,
        now: float,
        wanted: int = 1,
    ) -> int:
        """How many of ``wanted`` requests were counted: ``wanted``, or what was left of the
        budget when less was, or 0 when none was."""
        key = key[:_KEY_LENGTH_MAX]
        window_start = now // window_s * window_s
        window_start_ms = int(window_start * 1000)
        previous_ms = int((window_start - window_s) * 1000)
        earlier = connection.execute(
            text(_COUNT_OF_WINDOW), {"key": key, "window_start_ms": previous_ms}
        ).scalar_one_or_none()
        still_inside = 1.0 - (now - window_start) / window_s
        budget = allowed - math.ceil((earlier or 0) * still_inside - 1e-9)
        if budget <= 0:
            return 0
        taken = min(wanted, budget)
        while True:
            row = connection.execute(
                text(_ADMIT),
                {
                    "key": key,
                    "window_start_ms": window_start_ms,
                    "taken": taken,
                    "allowed": budget,
                },
            ).first()
            if row is not None:
                return taken
            if taken == 1:
                return 0
            # the lease did not fit: take what the row says is left, or nothing
            count = connection.execute(
                text(_COUNT_OF_WINDOW), {"key": key, "window_start_ms": window_start_ms}
            ).scalar_one_or_none()
            taken = min(taken - 1, budget - (count or 0))
            if taken <= 0:
                return 0

    def _sweep(self, connection: Connection, now: float) -> None:
        with self._lock:
            if now - self._swept_at < SWEEP_EVERY_S:
                return
            self._swept_at = now
        connection.execute(text(_SWEEP), {"before_ms": int(now * 1000) - _SWEEP_AGE_MS})
        connection.commit()

    def reset(self) -> None:
        """Forget every count (tests; an operator clearing a mistaken block)."""
        with self._leases_lock:
            self._leases.clear()
        with self._engine.begin() as connection:
            connection.execute(text("DELETE FROM rate_limit_counts"))
