"""Settings, read once from the environment.

| variable | default | meaning |
|---|---|---|
| GONGJI_DATA_DIR | ./var | where the embedded SQLite file and other local state live |
| GONGJI_DATABASE_URL | sqlite:///$GONGJI_DATA_DIR/gongji.db | sqlite:///FILE or postgresql://… |
| GONGJI_HOST / GONGJI_PORT | 127.0.0.1 / 8000 | where `gongji serve` listens |
| GONGJI_POLICY_FILE | (none) | a bureau's policy TOML that overrides the shipped defaults |
| GONGJI_TEST_CLOCK | 0 | 1 enables PUT /api/v1/test/clock (never in production) |
| GONGJI_SECRET_KEY | (key file) | 32 bytes, URL-safe base64: encrypts personal data at rest |
| GONGJI_ENV | development | development, test or production (production refuses unsafe settings) |
| GONGJI_TRUST_PROXY | 0 | 1: behind a TLS proxy; client address and scheme from X-Forwarded-* |
| GONGJI_LEDGER_GROUP_COMMIT | 1 | 0: each ledger batch commits alone (ledger/group_commit.py) |
| GONGJI_SQLITE_GROUP_COMMIT | 1 | 0: each signed write on SQLite commits alone (store/writers.py) |
| GONGJI_ONE_CORE | auto | 1: a serving process's threads on one core; auto: on SQLite only |
| GONGJI_SMS_PROVIDER | log | log (development only) or http |
| GONGJI_SMS_URL, _APP_KEY, _APP_SECRET, _SIGN_NAME, _TEMPLATE_LOGIN | | the HTTP SMS provider |
| GONGJI_FSI_LOOKUPS_PER_MINUTE, GONGJI_LOGINS_PER_ADDRESS_PER_MINUTE, … | core/limits.py | limits |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from urllib.parse import unquote_plus

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from gongji.core.limits import SQLITE_SETTLEMENT_THREADS, Limits
from gongji.store.engine import is_sqlite_url


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


@dataclass(frozen=True, slots=True)
class SmsSettings:
    """Where one-time codes go: ``log`` (the development gateway) or ``http`` (a provider)."""

    provider: str = "log"
    url: str | None = None
    app_key: str | None = None
    app_secret: str | None = None
    sign_name: str | None = None
    template_login: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SmsSettings:
        def get(name: str) -> str | None:
            return env.get(f"GONGJI_SMS_{name}") or None

        return cls(
            provider=(get("PROVIDER") or "log").lower(),
            url=get("URL"),
            app_key=get("APP_KEY"),
            app_secret=get("APP_SECRET"),
            sign_name=get("SIGN_NAME"),
            template_login=get("TEMPLATE_LOGIN"),
        )


def _flag(env: Mapping[str, str], name: str, *, default: bool = False) -> bool:
    return env.get(name, "1" if default else "0").strip().lower() in ("1", "true", "yes")


def one_core_for(env: Mapping[str, str], database_url: str) -> bool:
    """Whether a serving process on ``database_url`` keeps its threads on one core
    (app/one_core.py): ``GONGJI_ONE_CORE`` ``1`` or ``0``; ``auto`` (the default) keeps them so
    on SQLite, whose work runs in the process's own threads, and not on PostgreSQL, whose server
    a settlement hands work to at every round trip: with PostgreSQL on the same two cores,
    gongji held on one core made every trip cross cores, and settlements over HTTP did no better
    (docs/benchmarks.md, issue 20, step 15)."""
    text = env.get("GONGJI_ONE_CORE", "auto").strip().lower()
    if text == "auto":
        return is_sqlite_url(database_url)
    if text not in ("1", "0"):
        raise ValueError(f"GONGJI_ONE_CORE must be auto, 1 or 0, not {text[:20]!r}")
    return text == "1"


def _environment(env: Mapping[str, str]) -> Environment:
    text = env.get("GONGJI_ENV", "development").strip().lower()
    try:
        return Environment(text)
    except ValueError:
        raise ValueError(
            f"GONGJI_ENV must be development, test or production, not {text[:20]!r}"
        ) from None


def _limits(env: Mapping[str, str], database_url: str) -> Limits:
    """The defaults of core/limits.py, each overridable by GONGJI_<NAME IN CAPITALS>; on SQLite,
    more settlement threads by default (``SQLITE_SETTLEMENT_THREADS``: they make its shared
    commits larger)."""
    chosen: dict[str, int] = {}
    if is_sqlite_url(database_url):
        chosen["settlement_threads"] = SQLITE_SETTLEMENT_THREADS
    for item in fields(Limits):
        text = env.get(f"GONGJI_{item.name.upper()}")
        if text:
            if not text.strip().isdigit():
                raise ValueError(f"GONGJI_{item.name.upper()} must be a whole number")
            chosen[item.name] = int(text)
    return Limits(**chosen)


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str
    host: str
    port: int
    policy_file: Path | None
    test_clock: bool
    secret_key: str | None = None
    environment: Environment = Environment.DEVELOPMENT
    trust_proxy: bool = False
    sms: SmsSettings = field(default_factory=SmsSettings)
    limits: Limits = field(default_factory=Limits)
    ledger_group_commit: bool = True
    sqlite_group_commit: bool = True
    one_core: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        data_dir = Path(env.get("GONGJI_DATA_DIR", "var")).resolve()
        database_url = env.get("GONGJI_DATABASE_URL") or f"sqlite:///{data_dir / 'gongji.db'}"
        policy_file = env.get("GONGJI_POLICY_FILE")
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            host=env.get("GONGJI_HOST", "127.0.0.1"),
            port=int(env.get("GONGJI_PORT", "8000")),
            policy_file=Path(policy_file) if policy_file else None,
            test_clock=_flag(env, "GONGJI_TEST_CLOCK"),
            secret_key=env.get("GONGJI_SECRET_KEY") or None,
            environment=_environment(env),
            trust_proxy=_flag(env, "GONGJI_TRUST_PROXY"),
            sms=SmsSettings.from_env(env),
            limits=_limits(env, database_url),
            ledger_group_commit=_flag(env, "GONGJI_LEDGER_GROUP_COMMIT", default=True),
            sqlite_group_commit=_flag(env, "GONGJI_SQLITE_GROUP_COMMIT", default=True),
            one_core=one_core_for(env, database_url),
        )

    @property
    def production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    def describe_database(self) -> str:
        """The URL with any password hidden, for logs and error lines: the one in its user part
        and the one libpq also reads from its query (``?password=…``)."""
        try:
            url = make_url(self.database_url)
        except ArgumentError:
            return "an unreadable database URL"
        if "password" in url.query:
            url = url.update_query_dict({"password": "***"})
        return unquote_plus(url.render_as_string(hide_password=True))  # as a person wrote it
