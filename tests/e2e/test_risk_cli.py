"""`gongji risk evaluate`, `gongji risk bench` and `gongji jobs run risk` as an operator runs
them (small sizes: the measured runs are in docs/benchmarks.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gongji.cli.main import app
from gongji.risk.domain.alerts import RuleCode


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"GONGJI_DATA_DIR": str(tmp_path), "COLUMNS": "200"}


def test_evaluate_prints_recall_and_precision_of_every_pattern(env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["risk", "evaluate", "--persons", "3000"], env=env)
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split() for line in result.output.splitlines()[3:11]}
    assert set(rows) == {rule.value for rule in RuleCode}
    for rule, row in rows.items():
        assert float(row[3]) >= 0.95, rule  # recall
    assert re.search(r"honest persons alerted: \d+ of \d+ \(\d\.\d\d%\)", result.output)


def test_evaluate_exits_one_below_target(env: dict[str, str]) -> None:
    """Sixty grants a quarter per employee is not honest behaviour the rules can leave alone,
    and a thousand persons give the institution rule too few peers: both targets missed."""
    args = ["risk", "evaluate", "--persons", "1000", "--grants-per-employee", "60"]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 1, result.output
    assert result.output.splitlines()[-1] == "below target: institution, honest persons alerted"
    share = re.search(r"honest persons alerted: \d+ of \d+ \((\d+\.\d\d)%\)", result.output)
    assert share and float(share.group(1)) > 2


def test_bench_times_a_full_and_an_incremental_run(env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["risk", "bench", "--persons", "1500"], env=env)
    assert result.exit_code == 0, result.output
    full = re.search(r"full run: [\d.]+ s \([\d.]+ s CPU\), (\d+) persons judged", result.output)
    inc = re.search(
        r"incremental run after (\d+) persons changed: [\d.]+ s \([\d.]+ s CPU\), (\d+) persons",
        result.output,
    )
    assert full and inc
    assert 0 < int(inc.group(2)) < int(full.group(1)) / 5  # follows the change, not everyone


def test_bench_times_both_fact_engines_on_the_same_database(env: dict[str, str]) -> None:
    args = ["risk", "bench", "--persons", "1500", "--engine", "sql", "--engine", "duckdb"]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    read = re.findall(
        r"^(\w+) facts read alone: [\d.]+ s \([\d.]+ s CPU\), (\d+) facts", result.output, re.M
    )
    runs = re.findall(r"^(\w+) full run: .*, (\d+) alerts \((\d+) new\)$", result.output, re.M)
    assert [engine for engine, _ in read] == ["sql", "duckdb"]
    assert read[0][1] == read[1][1] and int(read[0][1]) > 1_000
    assert [(engine, found) for engine, found, _ in runs] == [
        ("sql", runs[0][1]),
        ("duckdb", runs[0][1]),
    ]
    assert int(runs[0][1]) > 0 and runs[0][2] == runs[0][1] and runs[1][2] == "0"  # stored once


def test_bench_refuses_an_unknown_engine(env: dict[str, str]) -> None:
    result = CliRunner().invoke(
        app, ["risk", "bench", "--persons", "100", "--engine", "spark"], env=env
    )
    assert result.exit_code == 2
    assert "--engine: one of sql, duckdb" in result.output


def test_jobs_run_risk_on_the_demo(env: dict[str, str]) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["demo", "seed", "--if-empty"], env=env).exit_code == 0
    first = runner.invoke(app, ["jobs", "run", "risk"], env=env)
    assert first.exit_code == 0, first.output
    assert first.output.startswith("risk full run 1: ")
    second = runner.invoke(app, ["jobs", "run", "risk"], env=env)
    assert second.output.startswith("risk incremental run 2: 0 persons judged")
