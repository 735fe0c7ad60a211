"""`gongji bench settle` machinery on SQLite, for a fraction of a second per row.

Smoke only: the report has the rows it promises, the bills really settled (some with shared
money), nothing was refused, and the ledger the bench drove checks clean. Rates and latencies
are never asserted (no timed assertions): they belong to the machine.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from conftest import PG_URL, require_postgres
from gongji.cli.bench import bench_app
from gongji.ledger.check import CheckReport
from gongji.sim import settle_bench
from gongji.sim.bench_pg import ensure_database
from gongji.sim.db_trips import TripCounter
from gongji.sim.settle_bench import SettleOptions, SettleReport, run_settle_bench
from gongji.sim.settle_load import percentile_ms
from gongji.sim.settle_store import bench_store

TINY = SettleOptions(
    databases=("sqlite",), layers=("service",), seconds=0.5, warmup_s=0.4, clients=2, pairs=48
)
"""Half a second a row, after almost as much: with a tenth of a second's warm-up the first
bills' cold start (modules imported on first use, the statements prepared, the rows first read),
slowed by the suite's other worker, once ran through the whole window and no bill began in it.
Forty-eight pairs, so that the grants the warm-up's bills spend leave the fixed-rate row some."""


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
    assert result.ledger_check.endswith("(checked after each of 2 writing rows)")
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
        if result.database == "postgres":  # on this machine: its processes' CPU is read
            assert row.db_cpu_ms_per_request is not None and row.db_cpu_ms_per_request >= 0
        else:  # SQLite runs inside the measured process
            assert row.db_cpu_ms_per_request is None
    busiest = result.rows[0]  # /proc counts in 10 ms ticks: the fixed rate's ten may read none
    if result.database == "postgres":
        assert busiest.db_cpu_ms_per_request is not None and busiest.db_cpu_ms_per_request > 0
    fixed = result.rows[1]
    assert fixed.completed == 10  # 20/s due over 0.5 s, each answered once
    assert report.persons == 96


def test_http_rows_settle_through_the_signed_api_beside_health() -> None:
    # The real app in a uvicorn child process, signed POST /api/v1/settlements from httpx.
    # A second per row: a visit is three messages, and a loaded machine may finish none in 0.3 s.
    layers = ("app", "http")
    (result,) = run_settle_bench(replace(TINY, layers=layers, seconds=1.0)).results
    assert result.ledger_ok, result.ledger_check
    app, app_health, app_visit, http, health, visit = result.rows
    assert result.ledger_check.endswith("(checked after each of 4 writing rows)")
    assert (http.layer, health.layer, visit.layer) == ("http", "http health", "http fsi visit")
    assert http.refused == {} and visit.refused == {} and health.refused == {}
    assert http.completed > 0 and visit.completed > 0 and health.completed > 0
    assert http.health_ratio == pytest.approx(http.per_s / health.per_s)
    assert http.target == "≥ 1,000/s" and http.met is (http.per_s >= 1000)
    # The same app called in the bench's process, one request at a time: its own CPU.
    assert (app.layer, app_health.layer) == ("app", "app health")
    assert app.generator == app_health.generator == "in-process (ASGI)"
    assert app.refused == {} and app_health.refused == {}
    assert app.completed > 0 and app_health.completed > 0
    assert 0 < app.shared < app.completed and app_health.shared == 0
    assert app.cpu_ms_per_request is not None and app_health.cpu_ms_per_request is not None
    assert app.cpu_ms_per_request > app_health.cpu_ms_per_request > 0  # a settlement does more
    assert app.db_trips_per_request is not None and app.db_trips_per_request >= 4
    assert app_health.db_trips_per_request == pytest.approx(3.0)  # SQLite: BEGIN, SELECT, end
    assert app.health_ratio is None and app.target is None
    assert app_visit.layer == "app fsi visit" and app_visit.refused == {}
    assert app_visit.completed > 0 and app_visit.cpu_ms_per_request is not None
    assert app_visit.cpu_ms_per_request > 0
    # Three messages a visit: more statements than a settlement. (Not compared by CPU: in a
    # second's window on a machine busy with the rest of the suite, a collection or a first
    # call's set-up counted in the settlements' row once made them cost more than the visits.)
    assert app_visit.db_trips_per_request is not None and app.db_trips_per_request is not None
    assert app_visit.db_trips_per_request > 2 * app.db_trips_per_request


def test_cli_prints_the_report_as_json() -> None:
    # 1.5 s: in 0.3 s a machine busy with the rest of the suite once settled nothing in the
    # window, and a row with no answer has no cost to show.
    args = ["settle", "--db", "sqlite", "--service-only", "--seconds", "1.5", "--pairs", "5"]
    result = CliRunner().invoke(bench_app, [*args, "--clients", "2", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    (database,) = data["results"]
    assert database["ledger_ok"] is True
    assert [row["layer"] for row in database["rows"]] == ["service"]
    assert data["mix"].startswith("70% pharmacy (41), 25% outpatient (11), 5% inpatient (21)")


def test_cli_runs_the_app_rows_alone() -> None:
    args = ["settle", "--db", "sqlite", "--app-only", "--seconds", "0.5", "--pairs", "5"]
    result = CliRunner().invoke(bench_app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    (database,) = json.loads(result.output)["results"]
    assert database["ledger_ok"] is True
    layers = [row["layer"] for row in database["rows"]]
    assert layers == ["app", "app health", "app fsi visit"]
    assert all(row["generator"] == "in-process (ASGI)" for row in database["rows"])


def test_percentiles_are_nearest_rank() -> None:
    latencies = [n / 1000 for n in range(1, 101)]  # 1 … 100 ms
    assert percentile_ms(latencies, 50) == pytest.approx(50.0)
    assert percentile_ms(latencies, 99) == pytest.approx(99.0)
    assert percentile_ms([0.007], 99) == pytest.approx(7.0)
    assert percentile_ms([], 50) is None


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def http_report(request: pytest.FixtureRequest) -> SettleReport:
    """About a second of HTTP load from 2 client processes (PostgreSQL: also 2 server workers)."""
    if request.param == "postgres":
        require_postgres()
    options = replace(
        TINY,
        databases=(request.param,),
        layers=("http",),
        seconds=0.6,
        warmup_s=0.2,
        clients=4,
        client_processes=2,
        workers=(2,),
        rate=20.0,
        pg_url=PG_URL,
    )
    return run_settle_bench(options)


def test_http_rows_carry_server_cpu_round_trips_and_client_cpu(http_report: SettleReport) -> None:
    (result,) = http_report.results
    assert result.ledger_ok, result.ledger_check
    rows = {row.layer: row for row in result.rows if row.mode == "max"}
    for layer in ("http", "http health"):
        row = rows[layer]
        assert row.generator == "processes" and row.server_workers == 1
        assert row.completed > 0 and row.refused == {}
        assert row.cpu_ms_per_request is not None and 0 < row.cpu_ms_per_request < 1_000
        assert row.client_processes == 2
        assert row.client_cpu_s is not None and row.client_cpu_s > 0
        assert row.client_cpu_share is not None and 0 < row.client_cpu_share <= 1.05
        assert row.client_saturated is (row.client_cpu_share >= 0.9) or row.client_saturated
        assert row.machine_busy is not None and 0 < row.machine_busy <= 1
    settle = rows["http"]
    fixed = next(row for row in result.rows if row.mode == "20/s")
    assert (
        fixed.layer == "http" and fixed.refused == {} and fixed.completed == 12
    )  # 20/s due over 0.6 s
    assert fixed.cpu_ms_per_request is not None and fixed.cpu_ms_per_request > 0
    assert settle.db_trips_per_request is not None and settle.db_trips_per_request >= 1
    assert settle.presigned is not None and settle.presigned > settle.completed
    assert settle.signed_late == 0
    assert settle.health_ratio == pytest.approx(settle.per_s / rows["http health"].per_s)


def test_the_workers_row_is_postgres_only_and_reads_every_worker(
    http_report: SettleReport,
) -> None:
    (result,) = http_report.results
    workers = [row for row in result.rows if row.layer == "http workers"]
    if result.database == "sqlite":
        assert workers == []  # SQLite keeps one writer process
        return
    (row,) = workers
    assert row.server_workers == 2 and row.completed > 0
    assert row.cpu_ms_per_request is not None and row.cpu_ms_per_request > 0
    assert row.db_trips_per_request is not None and row.db_trips_per_request >= 1


def test_cli_json_has_the_cost_fields_and_refuses_bad_workers_in_one_line() -> None:
    # 1.5 s: in 0.3 s a machine busy with the rest of the suite once settled nothing in the
    # window, and a row with no answer has no cost to show.
    args = ["settle", "--db", "sqlite", "--service-only", "--seconds", "1.5", "--pairs", "5"]
    result = CliRunner().invoke(bench_app, [*args, "--clients", "2", "--json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)["results"][0]["rows"]
    assert row["cpu_ms_per_request"] > 0 and row["db_trips_per_request"] >= 1
    assert row["client_saturated"] is None  # the clients are threads of the measured process
    bad = CliRunner().invoke(bench_app, [*args, "--workers", "1,two"])
    assert bad.exit_code == 2
    assert bad.output.strip().splitlines() == [
        "gongji: --workers wants whole numbers from 1 to 16 separated by commas, not '1,two'"
    ]


@pytest.mark.postgres
def test_a_bench_url_may_carry_gongjis_own_prepared_statements_option() -> None:
    """The bench's administrative engines connect without gongji's own URL option, which
    psycopg refuses; the store's engine honours it (nothing prepared)."""
    require_postgres()
    url = f"{PG_URL}?prepared_statements=off"
    assert ensure_database(make_url(url))  # the server's version
    store = bench_store("postgres", url, TripCounter())
    with store as (engine, _url, schema, _version), engine.connect() as connection:
        assert connection.execute(text("SELECT current_schema()")).scalar() == schema
        prepared = connection.execute(text("SELECT count(*) FROM pg_prepared_statements"))
        assert prepared.scalar() == 0


def test_a_failed_ledger_check_names_the_row_after_which_it_failed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The second check (after the fixed-rate row) finds a violation; the later ones pass.
    reports = iter([CheckReport(), CheckReport(violations=["account x: debits > credits"])])
    monkeypatch.setattr(settle_bench, "check_ledger", lambda _engine: next(reports, CheckReport()))
    (result,) = run_settle_bench(replace(TINY, rate=20.0)).results
    assert not result.ledger_ok
    assert result.ledger_check == (
        "after the service row: ledger check: FAILED — account x: debits > credits"
    )
