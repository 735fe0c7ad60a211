"""``gongji serve --workers N`` on SQLite: refused in one line, exit 2, before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gongji.cli.main import app


def test_more_than_one_worker_is_refused_on_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GONGJI_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("GONGJI_DATABASE_URL", raising=False)
    result = CliRunner().invoke(app, ["serve", "--workers", "2"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "gongji: --workers 2 needs PostgreSQL: SQLite keeps one writer process (use 1)"
    ]
    assert not (tmp_path / "gongji.db").exists()  # refused before migrating anything


def test_the_help_says_why() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"], env={"COLUMNS": "200"})
    assert "SQLite keeps one writer process" in result.output
