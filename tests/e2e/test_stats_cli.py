"""`gongji stats` and `gongji jobs run stats` on the SQLite file of GONGJI_DATA_DIR, over the
clearing tests' March of shared spending."""

from __future__ import annotations

import base64
import csv
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gongji.cli.main import app
from gongji.core.clock import ManualClock
from gongji.store.engine import make_engine
from gongji.store.migrate import upgrade
from support.clearing import march_spending
from support.world import TEST_SECRET_KEY, at, build_context

MARCH = ["--from", "2026-03-01", "--to", "2026-03-31"]


@pytest.fixture
def cli_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'gongji.db'}")
    upgrade(engine)
    clock = ManualClock(at("2026-03-02 10:00:00"))
    march_spending(build_context(engine, clock), clock)
    engine.dispose()
    key = base64.urlsafe_b64encode(TEST_SECRET_KEY).decode()  # the key the data was sealed with
    yield {"GONGJI_DATA_DIR": str(tmp_path), "GONGJI_SECRET_KEY": key, "COLUMNS": "200"}


def test_stats_refreshes_and_prints_csv_json_and_a_table(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    runner = CliRunner()
    workbook = tmp_path / "march.xlsx"
    as_csv = runner.invoke(
        app, ["stats", *MARCH, "--format", "csv", "--xlsx", str(workbook)], env=cli_env
    )
    assert as_csv.exit_code == 0, as_csv.stdout
    rows = {(r["section"], r["key"]): r for r in csv.DictReader(io.StringIO(as_csv.stdout))}
    assert rows[("overview", "grants_accepted")]["amount"] == "600.00"
    assert rows[("overview", "spent")]["amount"] == "110.00"
    assert rows[("province_pair", "620000>370000")]["amount"] == "60.00"
    assert "xl/workbook.xml" in zipfile.ZipFile(workbook).namelist()
    as_json = runner.invoke(app, ["stats", *MARCH, "--format", "json"], env=cli_env)
    spent = [r for r in json.loads(as_json.stdout) if r["key"] == "spent"]
    assert [(r["section"], r["name"], r["count"], r["amount"]) for r in spent] == [
        ("overview", "共济资金使用", 3, "110.00")
    ]
    table = runner.invoke(app, ["stats", *MARCH], env=cli_env)
    assert "跨省流向" in table.stdout and "甘肃省→山东省" in table.stdout
    again = runner.invoke(app, ["jobs", "run", "stats"], env=cli_env)
    assert again.exit_code == 0 and again.stdout.startswith("stats: ")


def test_stats_refuses_a_period_in_one_line(cli_env: dict[str, str]) -> None:
    refused = CliRunner().invoke(
        app, ["stats", "--from", "2026-04-01", "--to", "2026-03-01"], env=cli_env
    )
    assert refused.exit_code != 0
    assert "after" in refused.output
