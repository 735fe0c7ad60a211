"""The front doors' limits across server processes: on PostgreSQL every ``gongji serve``
worker counts in one table (gongji.kernel.shared_ratelimit), so N workers still allow the limit
once, not N times; SQLite, served by one process, keeps the in-memory limiter.

Two limiters over one database stand for two worker processes (each has its own engine and
connection pool, as a forked worker has).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, event, func, select

from conftest import PostgresSchema
from gongji.bootstrap import limiter_for
from gongji.kernel.ratelimit import RateLimited, RateLimiter
from gongji.kernel.shared_ratelimit import SharedRateLimiter
from gongji.store.tables_access import rate_limit_counts


class FixedTime:
    def __init__(self, at: float) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at


@pytest.fixture
def second_engine(pg_schema: PostgresSchema, pg_engine: Engine) -> Iterator[Engine]:
    """Another process's engine on the same database (pg_engine has migrated it)."""
    engine = pg_schema.engine(pool_size=2)
    yield engine
    engine.dispose()


def test_two_workers_share_one_budget(pg_engine: Engine, second_engine: Engine) -> None:
    now = FixedTime(1_000_040.0)
    first, second = SharedRateLimiter(pg_engine, now), SharedRateLimiter(second_engine, now)
    for _ in range(3):
        first.admit("sign-in address:10.0.0.1", 5)
    second.admit("sign-in address:10.0.0.1", 5)
    first.admit("sign-in address:10.0.0.1", 5)
    with pytest.raises(RateLimited) as refused:
        second.admit("sign-in address:10.0.0.1", 5)
    assert (
        refused.value.detail["retry_after_s"] == 41
    )  # its window (from 1 000 020 s) ends at 1 000 080 s
    with pytest.raises(RateLimited):
        first.admit("sign-in address:10.0.0.1", 5)
    second.admit("sign-in address:10.0.0.2", 5)  # another key has its own budget
    now.at += 60  # 20 s into the next window: ⌈5 × 2/3⌉ = 4 of the last one still count
    second.admit("sign-in address:10.0.0.1", 5)
    with pytest.raises(RateLimited):
        first.admit("sign-in address:10.0.0.1", 5)
    now.at += 100  # a minute and more later: the budget is whole again
    for _ in range(5):
        first.admit("sign-in address:10.0.0.1", 5)


def test_a_burst_across_a_window_boundary_gets_the_limit_once(
    pg_engine: Engine, second_engine: Engine
) -> None:
    now = FixedTime(5_000_000 - 1.0)  # one second before a minute starts
    first, second = SharedRateLimiter(pg_engine, now), SharedRateLimiter(second_engine, now)
    admitted = 0
    for attempt in range(40):
        try:
            (first, second)[attempt % 2].admit("otp address:b", 10)
            admitted += 1
        except RateLimited:
            pass
        now.at += 0.1  # the burst crosses into the next window after ten attempts
    assert admitted == 10


def test_a_refused_request_spends_nothing(pg_engine: Engine, second_engine: Engine) -> None:
    now = FixedTime(2_000_000.0)
    first, second = SharedRateLimiter(pg_engine, now), SharedRateLimiter(second_engine, now)
    first.admit("otp account:1", 1)
    with pytest.raises(RateLimited):  # the second key refused: the first is not counted either
        second.admit_all([("otp address:a", 3), ("otp account:1", 1)])
    first.admit_all([("otp address:a", 3), ("otp account:2", 1)])
    first.admit("otp address:a", 3)
    second.admit("otp address:a", 3)  # the third: the refused attempt did not count
    with pytest.raises(RateLimited):
        second.admit("otp address:a", 3)
    stored = select(rate_limit_counts.c.count).where(rate_limit_counts.c.key == "otp address:a")
    with pg_engine.connect() as connection:
        assert connection.execute(stored).scalar_one() == 3


def test_concurrent_workers_never_exceed_the_limit(
    pg_engine: Engine, second_engine: Engine
) -> None:
    now = FixedTime(3_000_000.0)
    limiters = [SharedRateLimiter(pg_engine, now), SharedRateLimiter(second_engine, now)]

    def attempt(index: int) -> bool:
        try:
            limiters[index % 2].admit("argon2", 7, window_s=1.0)
        except RateLimited:
            return False
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        admitted = sum(pool.map(attempt, range(40)))
    assert admitted == 7


def test_old_windows_are_swept(pg_engine: Engine) -> None:
    now = FixedTime(4_000_000.0)
    limiter = SharedRateLimiter(pg_engine, now)
    limiter.admit("sms address:x", 10)
    now.at += 2 * 3600
    limiter.admit("sms address:y", 10)  # the first admission after SWEEP_EVERY_S sweeps
    with pg_engine.connect() as connection:
        keys = connection.execute(select(rate_limit_counts.c.key)).scalars().all()
        assert keys == ["sms address:y"]
        assert connection.execute(select(func.count()).select_from(rate_limit_counts)).scalar() == 1


def test_postgres_gets_the_shared_limiter_and_sqlite_the_memory_one(
    pg_engine: Engine, sqlite_engine: Engine
) -> None:
    assert isinstance(limiter_for(pg_engine), SharedRateLimiter)
    assert isinstance(limiter_for(sqlite_engine), RateLimiter)


class CountedStatements:
    """How many statements an engine sent, from SQLAlchemy's own hook."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: object) -> None:
        self.count += 1


def test_a_large_allowance_is_leased_not_counted_request_by_request(pg_engine: Engine) -> None:
    now = FixedTime(6_000_000.0)
    limiter = SharedRateLimiter(pg_engine, now)
    statements = CountedStatements(pg_engine)
    for _ in range(300):
        limiter.admit("identify:H001", 300)
    with pytest.raises(RateLimited):
        limiter.admit("identify:H001", 300)
    assert statements.count <= 3 * (300 // 10 + 2)  # a lease of 10, three statements each
    with pg_engine.connect() as connection:
        stored = select(rate_limit_counts.c.count).where(rate_limit_counts.c.key == "identify:H001")
        assert connection.execute(stored).scalar_one() == 300
    now.at += 61  # the next window: the lease of the last one is not carried over
    limiter.admit("identify:H001", 300)


def test_leases_of_several_workers_never_exceed_the_limit(
    pg_engine: Engine, second_engine: Engine
) -> None:
    now = FixedTime(7_000_000.0)
    limiters = [SharedRateLimiter(pg_engine, now), SharedRateLimiter(second_engine, now)]

    def attempt(index: int) -> bool:
        try:
            limiters[index % 2].admit("identify:H002", 95)
        except RateLimited:
            return False
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        admitted = sum(pool.map(attempt, range(200)))
    # a lease of 3; a worker's unused lease is lost to the other until the window turns
    assert 95 - 2 * 3 <= admitted <= 95


def test_a_lease_shrinks_to_what_is_left_near_the_limit(
    pg_engine: Engine, second_engine: Engine
) -> None:
    now = FixedTime(8_000_000.0)
    first, second = SharedRateLimiter(pg_engine, now), SharedRateLimiter(second_engine, now)
    for _ in range(55):
        first.admit("identify:H003", 60)  # leases of 2: 56 counted
    for _ in range(4):
        second.admit("identify:H003", 60)  # the last 4, the final lease cut to what is left
    with pytest.raises(RateLimited):
        second.admit("identify:H003", 60)
    first.admit("identify:H003", 60)  # the first worker's leased unit is still its own
    with pytest.raises(RateLimited):
        first.admit("identify:H003", 60)
