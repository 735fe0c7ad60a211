"""The conformance kit's matching rules (gongji.fsi.domain.replay), without a server."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gongji.cli.main import app
from gongji.fsi.domain import replay


def test_a_named_placeholder_binds_once_and_must_then_agree() -> None:
    bound: dict[str, object] = {}
    assert replay.match({"mdtrt_id": "<mdtrt_id>"}, {"mdtrt_id": "M1"}, bound) == []
    assert bound == {"<mdtrt_id>": "M1"}
    assert replay.match({"id": "<mdtrt_id>"}, {"id": "M2"}, bound) == ["id"]
    assert replay.fill({"data": ["<mdtrt_id>", "<other>"]}, bound) == {"data": ["M1", "<other>"]}


def test_any_time_decimals_and_extra_or_missing_fields() -> None:
    expected = {"t": "<time>", "r": "<any>", "amt": Decimal("15.50"), "n": [1, 2]}
    assert (
        replay.match(expected, {"t": "20260302", "r": 7, "amt": Decimal("15.5"), "n": [1, 2]}, {})
        == []
    )
    assert replay.match(expected, {"t": 1, "r": None, "amt": "15.50", "n": [1]}, {}) == [
        "t",
        "amt",
        "n",
    ]
    assert replay.match({"a": 1}, {"a": 1, "b": 2}, {}) == ["b"]
    assert replay.match({"a": 1, "b": 2}, {"a": 1}, {}) == ["b"]
    assert replay.match({"flag": True}, {"flag": 1}, {}) == ["flag"]


def test_a_session_file_must_be_json_lines_of_request_and_answer() -> None:
    good = '{"note": "x", "request": {"infno": "1101"}, "answer": {"infcode": 0}}'
    assert [step.note for step in replay.read_session([good, "", good])] == ["x", "x"]
    for bad in ("not json", '{"request": {}}', '{"request": [], "answer": {}}'):
        with pytest.raises(replay.SessionInvalid):
            replay.read_session([bad])


def test_the_cli_refuses_a_bad_session_file(tmp_path: Path) -> None:
    session = tmp_path / "bad.jsonl"
    session.write_text("not json\n", "utf-8")
    result = CliRunner().invoke(app, ["fsi", "replay", str(session), "--key", "H1=k:s"])
    assert result.exit_code == 2
    assert "line 1: not JSON" in result.output
