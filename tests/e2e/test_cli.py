"""The `gongji` command as an operator uses it: one verdict line, readable refusals, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, select
from typer.testing import CliRunner

from gongji.cli.main import app
from gongji.store.tables_fsi_files import fsi_files


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


def test_fsi_files_deletes_only_files_past_their_period(env: dict[str, str]) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["jobs", "run", "fsi-files"], env=env)  # migrates the database
    assert first.output.strip() == "fsi-files: 0 expired files deleted", first.output
    engine = create_engine(f"sqlite:///{Path(env['GONGJI_DATA_DIR']) / 'gongji.db'}")
    row = {"filename": "a.csv", "sha256": "0" * 64, "size_bytes": 1, "content": b"x",
           "uploaded_at_us": 0, "institution_code": "H62010000001"}  # fmt: skip
    far_future_us = 10**17
    with engine.begin() as connection:
        connection.execute(insert(fsi_files), [
            {**row, "file_qury_no": "Fold", "expires_at_us": 1},
            {**row, "file_qury_no": "Fnew", "expires_at_us": far_future_us},
        ])  # fmt: skip
    deleted = runner.invoke(app, ["jobs", "run", "fsi-files"], env=env)
    assert deleted.output.strip() == "fsi-files: 1 expired files deleted", deleted.output
    with engine.connect() as connection:
        kept = connection.execute(select(fsi_files.c.file_qury_no)).scalars().all()
    engine.dispose()
    assert kept == ["Fnew"]


@pytest.mark.parametrize(
    "command", [["demo", "seed"], ["keys", "rotate"], ["db", "upgrade"], ["serve"]]
)
def test_a_bad_setting_is_one_line_before_anything_is_made(
    env: dict[str, str], command: list[str]
) -> None:
    result = CliRunner().invoke(app, command, env={**env, "GONGJI_ENV": "bogus"})
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.exception is not None
    assert "GONGJI_ENV must be development, test or production, not 'bogus'" in result.output
    assert not (Path(env["GONGJI_DATA_DIR"]) / "gongji.db").exists()
