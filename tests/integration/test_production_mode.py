"""GONGJI_ENV=production refuses every unsafe setting at start-up: one line, exit code 2."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gongji.bootstrap import build
from gongji.cli.main import app
from gongji.config import Settings
from gongji.identity.service.identity_operators import DEMO_OPERATOR, DEMO_OPERATOR_PASSWORD
from gongji.production import UnsafeSettings, settings_problems
from gongji.sim.demo import seed
from gongji.store.engine import make_engine

KEY = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
HTTP_SMS = {
    "GONGJI_SMS_PROVIDER": "http",
    "GONGJI_SMS_URL": "http://127.0.0.1:9/sms",
    "GONGJI_SMS_APP_KEY": "app",
    "GONGJI_SMS_APP_SECRET": "secret",
    "GONGJI_SMS_SIGN_NAME": "医保钱包",
    "GONGJI_SMS_TEMPLATE_LOGIN": "SMS_0001",
}


def safe(tmp_path: Path) -> dict[str, str]:
    return {
        "GONGJI_DATA_DIR": str(tmp_path),
        "GONGJI_ENV": "production",
        "GONGJI_SECRET_KEY": KEY,
        "GONGJI_TRUST_PROXY": "1",
        **HTTP_SMS,
    }


def test_safe_production_settings_have_no_problem(tmp_path: Path) -> None:
    assert settings_problems(Settings.from_env(safe(tmp_path))) == []


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"GONGJI_TEST_CLOCK": "1"}, "测试时钟"),
        ({"GONGJI_SMS_PROVIDER": "log"}, "开发用短信网关"),
        ({"GONGJI_SMS_APP_SECRET": ""}, "GONGJI_SMS_APP_SECRET"),
        ({"GONGJI_SECRET_KEY": ""}, "缺少密钥"),
        ({"GONGJI_TRUST_PROXY": "0"}, "GONGJI_TRUST_PROXY"),
    ],
)
def test_each_unsafe_setting_is_refused_on_one_line_with_exit_code_2(
    tmp_path: Path, change: dict[str, str], named: str
) -> None:
    env = {**safe(tmp_path), **change}
    problems = settings_problems(Settings.from_env(env))
    assert len(problems) == 1 and named in problems[0]
    result = CliRunner().invoke(app, ["ledger", "check"], env=env)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gongji: unsafe_settings: 拒绝启动：")
    assert named in lines[0]


def test_the_development_sms_gateway_is_for_development_only(tmp_path: Path) -> None:
    base = {"GONGJI_DATA_DIR": str(tmp_path)}
    assert settings_problems(Settings.from_env(base)) == []
    test_mode = settings_problems(Settings.from_env({**base, "GONGJI_ENV": "test"}))
    assert len(test_mode) == 1 and "开发用短信网关" in test_mode[0]


def test_the_demo_operator_with_its_published_password_is_refused(tmp_path: Path) -> None:
    development = build(Settings.from_env({"GONGJI_DATA_DIR": str(tmp_path)}))
    try:
        seed(development.context)
    finally:
        development.close()
    env = {**safe(tmp_path), "GONGJI_SECRET_KEY": ""}  # the key file the demo created
    with pytest.raises(UnsafeSettings) as refused:
        build(Settings.from_env(env))
    assert "演示操作员 demo" in refused.value.message("zh")
    assert DEMO_OPERATOR == "demo" and len(DEMO_OPERATOR_PASSWORD) >= 12
    engine = make_engine(Settings.from_env(env).database_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE operators SET disabled = 1 WHERE name = 'demo'")
    engine.dispose()
    build(Settings.from_env(env)).close()  # a disabled demo operator no longer stops it


def _seeded_for_production(tmp_path: Path) -> dict[str, str]:
    """A demo database (seeded in development), then the production settings over it."""
    development = build(Settings.from_env({"GONGJI_DATA_DIR": str(tmp_path)}))
    try:
        seed(development.context)
    finally:
        development.close()
    return {**safe(tmp_path), "GONGJI_SECRET_KEY": ""}  # the key file the demo created


def _audited(env: dict[str, str], action: str) -> list[str]:
    built = build(Settings.from_env(env))
    try:
        with built.engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT subject FROM audit_log WHERE action = ?", (action,)
            ).all()
    finally:
        built.close()
    return [row[0] for row in rows]


NEW_PASSWORD = "a-new-secret-9384\n"


@pytest.mark.parametrize(
    ("command", "stdin", "action"),
    [
        (["operators", "disable", "demo"], None, "operator.disable"),
        (["operators", "password", "demo", "--password-stdin"], NEW_PASSWORD, "operator.password"),
    ],
)
def test_the_refused_demo_operator_is_ended_by_a_server_command_in_production(
    tmp_path: Path, command: list[str], stdin: str | None, action: str
) -> None:
    env = _seeded_for_production(tmp_path)
    refused = CliRunner().invoke(app, ["ledger", "check"], env=env)
    assert refused.exit_code == 2 and "gongji operators disable demo" in refused.output
    ended = CliRunner().invoke(app, command, env=env, input=stdin)
    assert ended.exit_code == 0, ended.output
    assert "a-new-secret" not in ended.output
    assert _audited(env, action) == ["demo"]  # production now starts, and it was recorded


def test_the_published_password_cannot_be_set_again(tmp_path: Path) -> None:
    env = _seeded_for_production(tmp_path)
    again = CliRunner().invoke(
        app,
        ["operators", "password", "demo", "--password-stdin"],
        env=env,
        input=DEMO_OPERATOR_PASSWORD + "\n",
    )
    assert again.exit_code == 2 and "password_published" in again.output
    assert CliRunner().invoke(app, ["ledger", "check"], env=env).exit_code == 2  # still refused


def test_demo_data_is_refused_in_production(tmp_path: Path) -> None:
    env = {**safe(tmp_path)}
    result = CliRunner().invoke(app, ["demo", "seed"], env=env)
    assert result.exit_code == 2 and "demo_refused_in_production" in result.output
    assert not (tmp_path / "gongji.db").exists()  # nothing was written, not even a database
