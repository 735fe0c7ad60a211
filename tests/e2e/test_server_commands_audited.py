"""Server commands that hand out access or change data are in the audit trail, as the operators'
actions through the pages and the API are: made, token, login code, signing keys, imports,
clearing, backups. A refused command records nothing; no secret reaches a record; the chain
verifies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from gongji.cli.main import app

PASSWORD = "analyst-secret-7315"
INSTITUTION = "H62010000001"
PERSON = "P620100000001"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = {"GONGJI_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    seeded = CliRunner().invoke(app, ["demo", "seed"], env=environment)
    assert seeded.exit_code == 0, seeded.output
    return environment


def _run(env: dict[str, str], *arguments: str, stdin: str | None = None) -> str:
    result = CliRunner().invoke(app, list(arguments), env=env, input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def _records(env: dict[str, str]) -> list[dict[str, Any]]:
    engine = create_engine(f"sqlite:///{Path(env['GONGJI_DATA_DIR']) / 'gongji.db'}")
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT actor, action, subject, detail FROM audit_log ORDER BY seq")
            ).all()
    finally:
        engine.dispose()
    return [
        {"actor": actor, "action": action, "subject": subject, **json.loads(detail)}
        for actor, action, subject, detail in rows
    ]


def _new(env: dict[str, str], before: int) -> list[dict[str, Any]]:
    return _records(env)[before:]


def test_access_handed_out_on_the_server_is_recorded_without_its_secrets(
    env: dict[str, str],
) -> None:
    before = len(_records(env))
    # A role as typed ("Auditor") is recorded as granted ("auditor").
    uri = _run(env, "operators", "create", "ana1", "--role", "analyst", "--role", "Auditor",
               "--region", "620100", "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
    token = _run(env, "operators", "token", "ana1").strip()
    code = _run(env, "operators", "totp", "ana1").strip()
    person_token = _run(env, "persons", "token", PERSON).strip()
    issued = _run(env, "institutions", "credentials", INSTITUTION)
    key_id = issued.split("key id: ")[1].split()[0]
    secret = issued.split("secret: ")[1].split()[0]
    _run(env, "institutions", "revoke", key_id)
    _run(env, "institutions", "gateway", INSTITUTION, "tif")

    records = _new(env, before)
    assert [(r["action"], r["subject"]) for r in records] == [
        ("operator.create", "ana1"),
        ("operator.token", "ana1"),
        ("operator.totp", "ana1"),
        ("person.token", PERSON),
        ("institution.credentials", INSTITUTION),
        ("institution.revoke", None),
        ("institution.gateway", INSTITUTION),
    ]
    assert {r["actor"] for r in records} == {"system:gongji"}
    assert {r["by"] for r in records} == {"server command"}
    assert records[0]["roles"] == "analyst,auditor" and records[0]["region"] == "620100"
    assert records[4]["key_id"] == key_id == records[5]["key_id"]
    assert records[6]["scheme"] == "tif"
    written = json.dumps(records, ensure_ascii=False)
    for secret_text in (PASSWORD, token, code, person_token, secret, uri.strip()):
        assert secret_text not in written
    assert "ok" in _run(env, "audit", "verify").lower()


def test_a_refused_command_records_nothing(env: dict[str, str]) -> None:
    before = len(_records(env))
    for arguments in (
        ["operators", "token", "nobody"],
        ["operators", "totp", "nobody"],
        ["persons", "token", "P999999999999"],
        ["institutions", "credentials", "H00000000000"],
        ["operators", "create", "x", "--role", "emperor"],
    ):
        refused = CliRunner().invoke(app, arguments, env=env)
        assert refused.exit_code == 2, refused.output
    assert _new(env, before) == []


def test_imports_and_clearing_by_server_command_are_recorded(
    env: dict[str, str], tmp_path: Path
) -> None:
    regions = tmp_path / "regions.csv"
    regions.write_text("code,name,level\n620900,酒泉市,city\n", encoding="utf-8")
    catalogue = tmp_path / "catalogue.csv"
    catalogue.write_text(
        "code,name,item_class,selfpay_prop,price_ceiling,account_payable,category,in_catalogue\n"
        "XT00TEST0001,测试药品,B,0.10,10.00,1,drug,1\n",
        encoding="utf-8",
    )
    before = len(_records(env))
    _run(env, "import", "regions", str(regions))
    _run(env, "catalogue", "import", str(catalogue))
    _run(env, "clearing", "run", "--month", "2020-01")
    _run(env, "clearing", "run", "--month", "2020-01")  # stored already: printed, not recorded

    records = _new(env, before)
    assert [r["action"] for r in records] == [
        "admin.import.regions",
        "admin.import.catalogue",
        "admin.clearing.run",
    ]
    assert (records[0]["source"], records[0]["lines"], records[0]["created"]) == (
        "regions.csv",
        1,
        1,
    )
    assert (records[1]["source"], records[1]["created"], records[1]["updated"]) == (
        "catalogue.csv",
        1,
        0,
    )
    assert records[2]["month"] == "2020-01"


def test_a_backup_is_recorded_once_whole_and_a_refused_one_is_not(
    env: dict[str, str], tmp_path: Path
) -> None:
    """A copy of every record, personal data included, leaves the database: the trail says
    which file and under which key, never the key; an existing file refused records nothing."""
    before = len(_records(env))
    out = tmp_path / "nightly.db"
    printed = _run(env, "backup", str(out), "--include-key")
    records = _new(env, before)
    assert [(r["action"], r["actor"], r["by"]) for r in records] == [
        ("admin.backup", "system:gongji", "server command")
    ]
    fingerprint = printed.split("key fingerprint ")[1].split(")")[0]
    assert (records[0]["file"], records[0]["key"], records[0]["key_written"]) == (
        "nightly.db",
        fingerprint,
        True,
    )
    key_text = (tmp_path / "nightly.db.key").read_text(encoding="ascii").strip()
    assert key_text not in json.dumps(records)
    refused = CliRunner().invoke(app, ["backup", str(out)], env=env)  # the file exists
    assert refused.exit_code != 0
    assert len(_new(env, before)) == 1
    assert "ok" in _run(env, "audit", "verify").lower()
