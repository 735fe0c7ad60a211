"""What ``GONGJI_ENV=production`` refuses at start-up, each problem in one line of Chinese.

A production deployment that starts with a development convenience left on is worse than one
that does not start: the test clock lets anyone move every time rule, the development SMS
gateway writes one-time codes to the log, the demo operator's password is printed in the
README, a missing key would be silently created next to the database, and without a TLS proxy
in front the session cookies would travel in clear. ``gongji serve`` prints the refusal on one
line and exits 2 (``cli.common.readable_errors``).
"""

from __future__ import annotations

from typing import ClassVar

from gongji.config import Environment, Settings
from gongji.core.errors import GongjiError


class UnsafeSettings(GongjiError):
    code: ClassVar[str] = "unsafe_settings"
    message_zh: ClassVar[str] = "拒绝启动：{problems}"
    message_en: ClassVar[str] = "Refusing to start: {problems}"


def settings_problems(settings: Settings) -> list[str]:
    """Every unsafe setting for the environment; an empty list when it may start."""
    problems = _sms_problems(settings)
    if settings.environment is not Environment.PRODUCTION:
        return problems
    if settings.test_clock:
        problems.append("生产模式不得开启测试时钟（GONGJI_TEST_CLOCK）")
    if not settings.secret_key and not (settings.data_dir / "secret.key").exists():
        problems.append("生产模式缺少密钥（GONGJI_SECRET_KEY 或数据目录中的 secret.key）")
    if not settings.trust_proxy:
        problems.append(
            "生产模式须部署在 TLS 反向代理之后并设置 GONGJI_TRUST_PROXY=1（否则 Cookie 以明文传输）"
        )
    return problems


def _sms_problems(settings: Settings) -> list[str]:
    sms = settings.sms
    if sms.provider == "log":
        if settings.environment is Environment.DEVELOPMENT:
            return []
        return [
            "开发用短信网关会把验证码写入日志，仅限 GONGJI_ENV=development；"
            "请配置 GONGJI_SMS_PROVIDER=http"
        ]
    if sms.provider != "http":
        return [f"未知的短信网关 GONGJI_SMS_PROVIDER={sms.provider[:20]}（可选 log、http）"]
    missing = [
        f"GONGJI_SMS_{name}"
        for name, value in (
            ("URL", sms.url),
            ("APP_KEY", sms.app_key),
            ("APP_SECRET", sms.app_secret),
            ("SIGN_NAME", sms.sign_name),
            ("TEMPLATE_LOGIN", sms.template_login),
        )
        if not value
    ]
    return [f"短信网关缺少设置：{'、'.join(missing)}"] if missing else []


def refuse_unsafe(problems: list[str]) -> None:
    if problems:
        raise UnsafeSettings(problems="；".join(problems))
