"""Clearing as an operator meets it: `gongji clearing run` in every output format, and the
operators' API at /api/v1/clearing (JSON, CSV, SVG, PNG), with its roles and refusals.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from gongji.cli.main import app
from gongji.core.clock import ManualClock
from gongji.kernel import png
from gongji.kernel.context import Context
from gongji.kernel.png import PNG_SIGNATURE
from gongji.settlement.reports.clearing import CSV_COLUMNS
from gongji.store.engine import make_engine
from gongji.store.migrate import upgrade
from gongji.store.tables_clearing import clearing_lines, clearing_runs
from support.api import key, make_client, operator_headers, person_headers
from support.clearing import MOTHER, PROVINCE_NAMES, march_spending
from support.world import TEST_SECRET_KEY, at, build_context

SVG_NS = "{http://www.w3.org/2000/svg}"
MARCH_CSV = [
    ["city", "370100", "济南市", "620100", "兰州市", "30.00", "1"],
    ["city", "620100", "兰州市", "370100", "济南市", "60.00", "1"],
    ["city", "620100", "兰州市", "440100", "广州市", "20.00", "1"],
    ["province", "370000", "山东省", "620000", "甘肃省", "30.00", "1"],
    ["province", "620000", "甘肃省", "370000", "山东省", "60.00", "1"],
    ["province", "620000", "甘肃省", "440000", "广东省", "20.00", "1"],
    ["province_net", "370000", "山东省", "", "", "30.00", ""],
    ["province_net", "440000", "广东省", "", "", "20.00", ""],
    ["province_net", "620000", "甘肃省", "", "", "-50.00", ""],
]


def _counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as connection:
        return tuple(  # type: ignore[return-value]
            connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (clearing_runs, clearing_lines)
        )


def _svg_texts(svg: str) -> list[str]:
    root = ET.fromstring(svg.encode())
    assert root.tag == f"{SVG_NS}svg"
    return [element.text or "" for element in root.iter(f"{SVG_NS}text")]


# --- the command line (the SQLite file of GONGJI_DATA_DIR) ---------------------------------


@pytest.fixture
def cli_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'gongji.db'}")
    upgrade(engine)
    clock = ManualClock(at("2026-03-02 10:00:00"))
    march_spending(build_context(engine, clock), clock)
    engine.dispose()
    key = base64.urlsafe_b64encode(TEST_SECRET_KEY).decode()  # the key the data was sealed with
    yield {"GONGJI_DATA_DIR": str(tmp_path), "GONGJI_SECRET_KEY": key, "COLUMNS": "200"}


def _gongji(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["clearing", "run", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_cli_json_is_the_whole_result_and_a_second_run_changes_nothing(
    cli_env: dict[str, str],
) -> None:
    code, out, _ = _gongji(cli_env, "--month", "2026-03", "--format", "json")
    assert code == 0, out
    first = json.loads(out)
    assert first["stored_earlier"] is False
    assert (first["month"], first["total"], first["draws"]) == ("2026-03", "110.00", 3)
    assert [(p["payer"], p["payee"], p["amount"]) for p in first["province_pairs"]] == [
        ("370000", "620000", "30.00"),
        ("620000", "370000", "60.00"),
        ("620000", "440000", "20.00"),
    ]
    assert [(n["name"], n["net"]) for n in first["province_net"]] == [
        ("山东省", "30.00"),
        ("广东省", "20.00"),
        ("甘肃省", "-50.00"),
    ]
    assert len(first["city_pairs"]) == 3
    code, out, _ = _gongji(cli_env, "--month", "2026-03", "--format", "json")
    again = json.loads(out)
    assert again["stored_earlier"] is True
    assert {k: v for k, v in again.items() if k != "stored_earlier"} == {
        k: v for k, v in first.items() if k != "stored_earlier"
    }
    engine = make_engine(f"sqlite:///{Path(cli_env['GONGJI_DATA_DIR']) / 'gongji.db'}")
    assert _counts(engine) == (1, 3)
    engine.dispose()


def test_cli_csv_has_its_header_and_every_level(cli_env: dict[str, str]) -> None:
    code, out, err = _gongji(cli_env, "--month", "2026-03", "--format", "csv")
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    assert (
        tuple(rows[0])
        == CSV_COLUMNS
        == (
            "level",
            "payer",
            "payer_name",
            "payee",
            "payee_name",
            "amount",
            "draws",
        )
    )
    assert rows[1:] == MARCH_CSV
    assert "清算完成并已保存" in err


def test_cli_table_names_the_provinces_and_the_nets(cli_env: dict[str, str]) -> None:
    code, out, _ = _gongji(cli_env, "--month", "2026-03")
    assert code == 0, out
    assert "2026-03 清算完成并已保存" in out
    assert "合计 110.00 元，3 笔跨城市共济支付" in out
    for title in ("城市间清算", "省际清算", "各省净额"):
        assert title in out
    net_line = next(
        line for line in out.splitlines() if "甘肃省 620000" in line and "-50.00" in line
    )
    assert "30.00" in net_line and "80.00" in net_line  # received 30.00, paid 80.00
    code, out, _ = _gongji(cli_env, "--month", "2026-03")
    assert "已清算过" in out and "本次未做任何改变" in out


def test_cli_writes_the_svg_and_the_png(cli_env: dict[str, str], tmp_path: Path) -> None:
    svg, png = tmp_path / "march.svg", tmp_path / "march.png"
    code, out, err = _gongji(cli_env, "--month", "2026-03", "--svg", str(svg), "--png", str(png))
    assert code == 0, out + err
    texts = _svg_texts(svg.read_text(encoding="utf-8"))
    for name in PROVINCE_NAMES:
        assert name in texts
    assert "2026-03 共济资金跨省清算" in texts
    assert "60.00" in texts and "-50.00" in texts
    assert png.read_bytes().startswith(PNG_SIGNATURE)
    assert len(png.read_bytes()) > 5_000  # a picture, not an empty canvas
    assert f"wrote {png}" in out


def test_cli_refuses_an_open_or_malformed_month_in_one_line(cli_env: dict[str, str]) -> None:
    for month, expected in [
        ("2099-01", "clearing_month_open"),
        ("03-2026", "clearing_month_invalid"),
    ]:
        result = CliRunner().invoke(app, ["clearing", "run", "--month", month], env=cli_env)
        assert result.exit_code == 2
        assert result.output.strip().startswith(f"gongji: {expected}: ")
        assert "Traceback" not in result.output


# --- the API (both databases) -----------------------------------------------------------------


@pytest.fixture
def api(engine: Engine, tmp_path: Path) -> Iterator[tuple[TestClient, Context]]:
    clock = ManualClock(at("2026-03-02 10:00:00"))
    ctx = build_context(engine, clock)
    march_spending(ctx, clock)
    with make_client(ctx, clock, tmp_path) as client:
        yield client, ctx


def test_api_runs_a_month_once_and_serves_it_to_operators(
    api: tuple[TestClient, Context],
) -> None:
    client, ctx = api
    clerk = operator_headers(ctx, "clerk1", "clerk")
    auditor = operator_headers(ctx, "auditor1", "auditor")
    before = client.get("/api/v1/clearing/2026-03", headers=auditor)
    assert before.status_code == 404 and before.json()["code"] == "not_found"

    ran = client.post("/api/v1/clearing/2026-03/run", headers={**clerk, **key()})
    assert ran.status_code == 200, ran.text
    assert ran.json()["stored_earlier"] is False
    again = client.post("/api/v1/clearing/2026-03/run", headers={**clerk, **key()})
    assert again.json()["stored_earlier"] is True
    assert again.json()["digest"] == ran.json()["digest"]
    assert _counts(ctx.engine) == (1, 3)

    read = client.get("/api/v1/clearing/2026-03", headers=auditor)
    assert read.status_code == 200
    assert read.json()["digest"] == ran.json()["digest"]
    assert [(n["province"], n["net"]) for n in read.json()["province_net"]] == [
        ("370000", "30.00"),
        ("440000", "20.00"),
        ("620000", "-50.00"),
    ]
    as_csv = client.get("/api/v1/clearing/2026-03.csv", headers=auditor)
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(as_csv.text)))[1:] == MARCH_CSV
    as_svg = client.get("/api/v1/clearing/2026-03.svg", headers=auditor)
    assert as_svg.headers["content-type"].startswith("image/svg+xml")
    assert set(PROVINCE_NAMES) <= set(_svg_texts(as_svg.text))
    as_png = client.get("/api/v1/clearing/2026-03.png", headers=auditor)
    assert as_png.headers["content-type"] == "image/png"
    assert as_png.content.startswith(PNG_SIGNATURE)


def test_api_refusals(api: tuple[TestClient, Context]) -> None:
    client, ctx = api
    auditor = operator_headers(ctx, "auditor2", "auditor")
    clerk = operator_headers(ctx, "clerk2", "clerk")
    person = person_headers(ctx, MOTHER)
    assert client.get("/api/v1/clearing/2026-03").status_code == 401
    assert client.get("/api/v1/clearing/2026-03", headers=person).status_code == 403
    refused = client.post("/api/v1/clearing/2026-03/run", headers={**auditor, **key()})
    assert refused.status_code == 403
    still_open = client.post("/api/v1/clearing/2026-04/run", headers={**clerk, **key()})
    assert still_open.status_code == 409
    assert still_open.json()["code"] == "clearing_month_open"
    bad = client.post("/api/v1/clearing/2026-13/run", headers={**clerk, **key()})
    assert (bad.status_code, bad.json()["code"]) == (400, "clearing_month_invalid")
    bad_read = client.get("/api/v1/clearing/march.svg", headers=auditor)
    assert (bad_read.status_code, bad_read.json()["code"]) == (400, "clearing_month_invalid")
    assert _counts(ctx.engine) == (0, 0)


def test_cli_without_a_png_converter_still_writes_the_svg(
    cli_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(png, "_cairosvg", lambda: (None, "cairosvg is not installed"))
    monkeypatch.setattr(png.shutil, "which", lambda name: None)
    svg, picture = tmp_path / "m.svg", tmp_path / "m.png"
    code, out, err = _gongji(
        cli_env, "--month", "2026-03", "--svg", str(svg), "--png", str(picture)
    )
    assert code == 0, out + err
    assert svg.exists() and not picture.exists()
    assert "PNG not written: no SVG to PNG converter usable (cairosvg is not installed)" in err


def test_the_clearing_job_from_the_command_line(cli_env: dict[str, str]) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["jobs", "run", "clearing"], env=cli_env)
    assert first.exit_code == 0, first.output
    assert re.fullmatch(r"clearing \d{4}-\d{2}: stored, digest [0-9a-f]{64}\n", first.stdout)
    again = runner.invoke(app, ["jobs", "run", "clearing"], env=cli_env)
    assert again.stdout.replace("already stored, unchanged", "stored") == first.stdout
