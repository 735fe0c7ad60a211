"""The injected clock. Every rule and job asks a ``Clock``; nothing reads the system time or the
database's ``now()`` to decide. Times are timezone-aware; business rules convert to
Asia/Shanghai, storage keeps UTC.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...

    def now_us(self) -> int:
        """The current instant in microseconds since the Unix epoch (``to_us(now())``): what
        rows store, asked a dozen times a settlement, without building a ``datetime``."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def now_us(self) -> int:
        return time.time_ns() // 1_000


class ManualClock:
    """A clock tests and the test-clock endpoint set by hand. Thread-safe."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)
        if self._now.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware datetime")
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def now_us(self) -> int:
        return to_us(self.now())

    def set(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware datetime")
        with self._lock:
            self._now = instant

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now = self._now + delta


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_us(instant: datetime) -> int:
    """Microseconds since the Unix epoch, exact (no float on the way)."""
    delta = instant - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(timestamp_us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=timestamp_us)
