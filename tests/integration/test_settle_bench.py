"""`gongji bench settle` machinery on SQLite, for a fraction of a second per row.

Smoke only: the report has the rows it promises, the bills really settled (some with shared
money), nothing was refused, and the ledger the bench drove checks clean. Rates and latencies
are never asserted (no timed assertions): they belong to the machine.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from typer.testing import CliRunner

from conftest import PG_URL, require_postgres
from gongji.cli.bench import bench_app
from gongji.sim.settle_bench import SettleOptions, SettleReport, run_settle_bench
from gongji.sim.settle_load import percentile_ms

TINY = SettleOptions(
    databases=("sqlite",), layers=("service",), seconds=0.5, warmup_s=0.1, clients=2, pairs=12
)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def report(request: pytest.FixtureRequest) -> SettleReport:
    """One tiny run per database (PostgreSQL: a throw-away schema on the test server)."""
    if request.param == "postgres":
        require_postgres()
    options = replace(TINY, databases=(request.param,), pg_url=PG_URL, rate=20.0)
    return run_settle_bench(options)


def test_service_rows_settle_with_shared_money_and_the_ledger_checks_clean(
    report: SettleReport,
) -> None:
    (result,) = report.results
    assert result.database in ("sqlite", "postgres")
    assert result.ledger_ok, result.ledger_check
    assert [(row.layer, row.mode) for row in result.rows] == [
        ("service", "max"),
        ("service", "20/s"),
    ]
    for row in result.rows:
        assert row.refused == {}
        assert row.completed > 0
        assert 0 < row.shared < row.completed  # a third of the bills are grant recipients'
        assert row.p50_ms is not None and row.p99_ms is not None
        assert 0 < row.p50_ms <= row.p95_ms <= row.p99_ms  # type: ignore[operator]
    fixed = result.rows[1]
    assert fixed.completed == 10  # 20/s due over 0.5 s, each answered once
    assert report.persons == 24


def test_http_rows_settle_through_the_signed_api_beside_health() -> None:
    # The real app in a uvicorn child process, signed POST /api/v1/settlements from httpx.
    # A second per row: a visit is three messages, and a loaded machine may finish none in 0.3 s.
    (result,) = run_settle_bench(replace(TINY, layers=("http",), seconds=1.0)).results
    assert result.ledger_ok, result.ledger_check
    http, visit, health = result.rows
    assert (http.layer, visit.layer, health.layer) == ("http", "http fsi visit", "http health")
    assert http.refused == {} and visit.refused == {} and health.refused == {}
    assert http.completed > 0 and visit.completed > 0 and health.completed > 0
    assert http.health_ratio == pytest.approx(http.per_s / health.per_s)
    assert http.target == "≥ 1,000/s" and http.met is (http.per_s >= 1000)


def test_cli_prints_the_report_as_json() -> None:
    args = ["settle", "--db", "sqlite", "--service-only", "--seconds", "0.3", "--pairs", "5"]
    result = CliRunner().invoke(bench_app, [*args, "--clients", "2", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    (database,) = data["results"]
    assert database["ledger_ok"] is True
    assert [row["layer"] for row in database["rows"]] == ["service"]
    assert data["mix"].startswith("70% pharmacy (41), 25% outpatient (11), 5% inpatient (21)")


def test_percentiles_are_nearest_rank() -> None:
    latencies = [n / 1000 for n in range(1, 101)]  # 1 … 100 ms
    assert percentile_ms(latencies, 50) == pytest.approx(50.0)
    assert percentile_ms(latencies, 99) == pytest.approx(99.0)
    assert percentile_ms([0.007], 99) == pytest.approx(7.0)
    assert percentile_ms([], 50) is None
