"""`gongji bench stats` at a small size: the report's shape, and a summary that answers for the
grants it generated (no timed assertion: benches measure, tests check)."""

from __future__ import annotations

from gongji.sim.stats_bench import run_stats_bench


def test_the_stats_bench_reports_every_answer() -> None:
    report = run_stats_bench(2_000, repeats=2)
    assert (report.grants, report.spent) == (2_000, 200)
    assert report.stats_rows > 365  # at least a day-total row for every day of the year
    for median, most in (report.month_ms, report.year_ms, report.series_ms):
        assert 0 < median <= most
