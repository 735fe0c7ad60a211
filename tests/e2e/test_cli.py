"""The `gongji` command as an operator uses it: one verdict line, readable refusals, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gongji.cli.main import app


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"GONGJI_DATA_DIR": str(tmp_path), "COLUMNS": "200"}


def test_policy_show_names_the_source_of_each_value(env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["policy", "show", "371400", "--at", "2025-01-01"], env=env)
    assert result.exit_code == 0, result.output
    line = next(row for row in result.output.splitlines() if "mutual_aid_earlier_years_only" in row)
    assert "True" in line and "371400 from 2025-01-01" in line
    before = CliRunner().invoke(app, ["policy", "show", "371400", "--at", "2024-12-31"], env=env)
    line = next(row for row in before.output.splitlines() if "mutual_aid_earlier_years_only" in row)
    assert "False" in line and "national defaults" in line


def test_refusals_are_one_line_and_exit_two(env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["policy", "show", "99"], env=env)
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "gongji: region_code_invalid: 区划代码 99 无效，应为 6 位数字"
    ]
    assert "Traceback" not in result.output


def test_ledger_check_and_demo_seed(env: dict[str, str]) -> None:
    runner = CliRunner()
    seeded = runner.invoke(app, ["demo", "seed", "--if-empty"], env=env)
    assert seeded.exit_code == 0, seeded.output
    again = runner.invoke(app, ["demo", "seed", "--if-empty"], env=env)
    assert "left as it is" in again.output
    check = runner.invoke(app, ["ledger", "check"], env=env)
    assert check.exit_code == 0
    assert check.output.startswith("ledger check: ok — ")
    expired = runner.invoke(app, ["jobs", "run", "expire-grants"], env=env)
    assert expired.output.strip() == "expire-grants: 0 offers returned"
