"""Settings, read once from the environment.

| variable | default | meaning |
|---|---|---|
| GONGJI_DATA_DIR | ./var | where the embedded SQLite file and other local state live |
| GONGJI_DATABASE_URL | sqlite:///$GONGJI_DATA_DIR/gongji.db | sqlite:///FILE or postgresql://… |
| GONGJI_HOST / GONGJI_PORT | 127.0.0.1 / 8000 | where `gongji serve` listens |
| GONGJI_POLICY_FILE | (none) | a bureau's policy TOML that overrides the shipped defaults |
| GONGJI_TEST_CLOCK | 0 | 1 enables PUT /api/v1/test/clock (never in production) |
| GONGJI_SECRET_KEY | (key file) | 32 bytes, URL-safe base64: encrypts personal data at rest |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str
    host: str
    port: int
    policy_file: Path | None
    test_clock: bool
    secret_key: str | None = None

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
            test_clock=env.get("GONGJI_TEST_CLOCK", "0") in ("1", "true", "yes"),
            secret_key=env.get("GONGJI_SECRET_KEY") or None,
        )

    def describe_database(self) -> str:
        """The URL with any password hidden, for logs and error lines."""
        if "@" not in self.database_url:
            return self.database_url
        scheme, rest = self.database_url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in credentials else self.database_url
