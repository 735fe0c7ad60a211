"""`gongji bench stats`: how fast the back office's statistics answer over a million grants.

A throw-away SQLite database gets ``grants`` grants over a year in 40 regions (every state, a
tenth of them spent at an institution in the region or across a province border), written
straight into the tables; the statistics are refreshed once (the first build, timed), then the
figures of a month and of the year and the year's daily series are read ``repeats`` times each.
The answer times are what the issue's target (< 200 ms) is about; the refresh is a job's time.
"""

from __future__ import annotations

import random
import statistics as stats
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert

from gongji.backoffice.service import statistics
from gongji.bootstrap import build
from gongji.config import Settings
from gongji.core.clock import ManualClock
from gongji.kernel.context import BUSINESS_TZ, Context
from gongji.store.tables_people import grants
from gongji.store.tables_settlements import AMOUNT_COLUMNS, settlement_draws, settlements
from gongji.store.uow import run_in_transaction

FIRST_DAY = date(2026, 1, 1)
DAYS = 365
BATCH = 20_000
REGIONS = tuple(f"{p}0100" for p in (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36))
REGIONS += tuple(f"{p}0200" for p in (37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62))
REGIONS += tuple(f"{p}0300" for p in (63, 64, 65, 13, 32, 33, 37, 41, 44, 51, 62, 21))
STATES = ("active",) * 6 + ("closed",) * 2 + ("expired", "rejected", "offered")


@dataclass(frozen=True, slots=True)
class StatsReport:
    grants: int
    spent: int
    load_s: float
    refresh_s: float
    month_ms: tuple[float, float]  # median, max
    year_ms: tuple[float, float]
    series_ms: tuple[float, float]
    stats_rows: int


def _us(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, 10, tzinfo=BUSINESS_TZ).timestamp() * 1e6)


def _grant_rows(count: int, seed: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    for n in range(count):
        day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        state = rng.choice(STATES)
        amount = rng.randrange(100, 200_000)
        yield {
            "id": f"G{n:09d}", "relationship_id": "R", "contributor": f"P{n:09d}",
            "recipient": f"Q{n:09d}", "contributor_region": rng.choice(REGIONS),
            "amount_fen": amount, "from_current_fen": amount, "from_earlier_fen": 0,
            "state": state, "business_date": day.isoformat(), "offered_at_us": _us(day),
            "expires_at_us": _us(day) + 72_000_000_000,
            "accepted_at_us": _us(day) + 1 if state in ("active", "closed") else None,
            "closed_at_us": None, "close_reason": None,
        }  # fmt: skip


def _spent_rows(count: int, seed: int) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    rng = random.Random(seed + 1)
    for n in range(count):
        day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        home, there = rng.choice(REGIONS), rng.choice(REGIONS)
        setl = {
            "setl_id": f"S{n:09d}", "institution_code": rng.choice("HP") + there + "00001",
            "request_id": f"r{n}", "request_hash": "h", "kind": "settlement", "reverses": None,
            "psn_no": f"Q{n:09d}", "insutype": "310", "insured_region": home,
            "treatment_region": there, "med_type": rng.choice(("11", "14", "41")),
            "benefit_pool": "outpatient", "business_date": day.isoformat(), "year": day.year,
            "created_at_us": _us(day), **dict.fromkeys(AMOUNT_COLUMNS, 0),
        }  # fmt: skip
        draw = {
            "setl_id": f"S{n:09d}", "seq": 0, "kind": "grant", "source_id": f"G{n:09d}",
            "account_id": f"em:G{n:09d}", "contributor": f"P{n:09d}", "contributor_region": home,
            "amount_fen": rng.randrange(100, 50_000), "business_date": day.isoformat(),
            "treatment_region": there,
        }  # fmt: skip
        yield setl, draw


def _load(engine: Engine, count: int, spent: int) -> None:
    rows = _grant_rows(count, 17)
    while batch := [row for _, row in zip(range(BATCH), rows, strict=False)]:
        with engine.begin() as connection:
            connection.execute(insert(grants), batch)
    pairs = _spent_rows(spent, 17)
    while batch2 := [pair for _, pair in zip(range(BATCH), pairs, strict=False)]:
        with engine.begin() as connection:
            connection.execute(insert(settlements), [s for s, _ in batch2])
            connection.execute(insert(settlement_draws), [d for _, d in batch2])


def _timed(ctx: Context, work: Callable[[Any], object], repeats: int) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run_in_transaction(ctx.engine, work, read_only=True)
        times.append((time.perf_counter() - started) * 1000)
    return stats.median(times), max(times)


def run_stats_bench(grant_count: int, repeats: int = 20) -> StatsReport:
    with tempfile.TemporaryDirectory(prefix="gongji-stats-bench-") as folder:
        settings = Settings.from_env({"GONGJI_DATA_DIR": str(Path(folder))})
        clock = ManualClock(datetime(2027, 1, 2, 10, tzinfo=BUSINESS_TZ))
        container = build(settings, clock=clock)
        try:
            return _measure(container.context, grant_count, repeats)
        finally:
            container.close()


def _measure(ctx: Context, grant_count: int, repeats: int) -> StatsReport:
    spent = grant_count // 10
    started = time.perf_counter()
    _load(ctx.engine, grant_count, spent)
    loaded = time.perf_counter()
    statistics.refresh(ctx)
    refreshed = time.perf_counter()
    march = (date(2026, 3, 1), date(2026, 3, 31))
    year = (FIRST_DAY, FIRST_DAY + timedelta(days=DAYS - 1))
    rows = run_in_transaction(ctx.engine, statistics.summary_rows, read_only=True)
    return StatsReport(
        grants=grant_count,
        spent=spent,
        load_s=loaded - started,
        refresh_s=refreshed - loaded,
        month_ms=_timed(ctx, lambda uow: statistics.figures(uow, *march), repeats),
        year_ms=_timed(ctx, lambda uow: statistics.figures(uow, *year), repeats),
        series_ms=_timed(ctx, lambda uow: statistics.series(uow, *year), repeats),
        stats_rows=rows,
    )
