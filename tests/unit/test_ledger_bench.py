"""`gongji bench ledger` machinery, on SQLite, for a fraction of a second per row.

Smoke only: the report has the rows, baselines and targets it promises, and the ledger the bench
drove checks clean. Rates are never asserted (no timed assertions): they belong to the machine.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gongji.cli.bench import bench_app
from gongji.ledger.check import check_ledger
from gongji.sim.baselines import BaselineMissing, SliceRun
from gongji.sim.ledger_bench import BenchOptions, BenchReport, _take_turns, run_ledger_bench
from gongji.sim.workload import TRANSFER_FEN_MAX, pair, transfer_amount
from gongji.store.engine import make_engine

ROWS = ["single, 1 client", "single, 8 clients", "batch 10", "batch 100", "batch 1000"]


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bench")


@pytest.fixture(scope="module")
def report(work_dir: Path) -> BenchReport:
    """One short run shared by the tests: SQLite files kept in ``work_dir`` for inspection."""
    options = BenchOptions(
        databases=("sqlite",), seconds=0.3, warmup_s=0.05, accounts=200, work_dir=work_dir
    )
    return run_ledger_bench(options)


def test_report_has_every_row_with_its_baseline_and_target(report: BenchReport) -> None:
    (result,) = report.results
    assert result.database == "sqlite"
    assert [row.label for row in result.rows] == ROWS
    assert [(row.clients, row.batch_size) for row in result.rows] == [
        (1, 1),
        (8, 1),
        (1, 10),
        (1, 100),
        (1, 1000),
    ]
    assert all(row.baseline_per_s is not None for row in result.rows)
    assert [row.target_ratio for row in result.rows[:2]] == [0.5, 0.5]
    assert sorted(row.target_ratio for row in result.rows[2:] if row.target_ratio) == [5.0]
    assert result.refused == 0
    assert result.ledger_check.startswith("ledger check: ok")


def test_each_ratio_lies_within_its_slices_ratios(report: BenchReport) -> None:
    for row in report.results[0].rows:
        assert row.ratio is not None and row.ratio_low is not None and row.ratio_high is not None
        assert row.ratio_low <= row.ratio <= row.ratio_high


def test_the_sides_take_turns_so_that_a_steady_drift_costs_both_alike() -> None:
    order: list[str] = []

    def side(name: str, rate: float) -> SliceRun:
        def run(index: int, seconds: float) -> float:
            order.append(f"{name}{index}")
            return rate

        return run

    ledger_rates, base_rates, why = _take_turns(side("L", 1.0), side("B", 2.0), 4, 0.1)

    assert order == ["B0", "L0", "L1", "B1", "B2", "L2", "L3", "B3"]
    assert (ledger_rates, base_rates, why) == ([1.0] * 4, [2.0] * 4, "")


def test_a_baseline_that_fails_half_way_leaves_the_row_without_a_ratio() -> None:
    def ledger(index: int, seconds: float) -> float:
        return 1.0

    def baseline(index: int, seconds: float) -> float:
        if index == 2:
            raise BaselineMissing("pgbench failed: server closed the connection")
        return 2.0

    ledger_rates, base_rates, why = _take_turns(ledger, baseline, 4, 0.1)

    assert ledger_rates == [1.0] * 4
    assert base_rates == []
    assert why == "pgbench failed: server closed the connection"


def test_every_ledger_the_bench_drove_checks_clean(report: BenchReport, work_dir: Path) -> None:
    ledgers = sorted(work_dir.glob("ledger-*.db"))
    assert len(ledgers) == len(ROWS)
    for path in ledgers:
        engine = make_engine(f"sqlite:///{path}")
        try:
            report = check_ledger(engine)
        finally:
            engine.dispose()
        assert report.ok, report.verdict()
        assert report.accounts == 201  # the source and the funded accounts


def test_json_carries_the_same_figures(report: BenchReport) -> None:
    data = json.loads(report.to_json())

    (result,) = data["results"]
    assert [row["label"] for row in result["rows"]] == ROWS
    assert set(result["rows"][0]) >= {
        "transfers_per_s",
        "baseline_per_s",
        "ratio",
        "ratio_low",
        "ratio_high",
        "met",
    }
    assert "targets_met" in result
    assert data["environment"]["sqlite"]


def test_cli_refuses_an_unreachable_postgres_in_one_line() -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:9/gongji_bench"

    outcome = CliRunner().invoke(
        bench_app, ["ledger", "--database", "postgres", "--seconds", "0.1", "--pg-url", url]
    )

    assert outcome.exit_code != 0
    assert "PostgreSQL unreachable" in outcome.output
    assert "Traceback" not in outcome.output


def test_the_workload_draws_two_different_accounts_uniformly_and_amounts_in_range() -> None:
    rng = random.Random(7)
    pairs = [pair(rng, 5) for _ in range(20_000)]
    assert all(debit != credit for debit, credit in pairs)
    assert {debit for debit, _ in pairs} == {credit for _, credit in pairs} == set(range(5))
    counts = Counter(pairs)
    assert len(counts) == 20  # every ordered pair of five accounts
    assert max(counts.values()) < 1.2 * min(counts.values())  # about 1 000 each
    amounts = {transfer_amount(rng) for _ in range(20_000)}
    assert amounts == set(range(1, TRANSFER_FEN_MAX + 1))
