"""Both clocks tell the time in microseconds as ``to_us`` tells it from their ``now()``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gongji.core.clock import ManualClock, SystemClock, from_us, to_us


def test_the_manual_clock_tells_its_instant_in_microseconds_exactly() -> None:
    clock = ManualClock(datetime(2026, 12, 5, 8, 30, 15, 123_456, tzinfo=UTC))
    assert clock.now_us() == to_us(clock.now())
    assert from_us(clock.now_us()) == clock.now()
    clock.advance(timedelta(microseconds=1))
    assert clock.now_us() == to_us(clock.now())


def test_the_system_clock_tells_the_same_instant_as_its_datetime() -> None:
    clock = SystemClock()
    before = to_us(clock.now())
    now_us = clock.now_us()
    after = to_us(clock.now())
    assert before <= now_us <= after
