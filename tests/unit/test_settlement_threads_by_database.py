"""How many signed settlements one server process works on at once: more on SQLite, whose
concurrent settlements share commits (core/limits.py, ``SQLITE_SETTLEMENT_THREADS``)."""

from __future__ import annotations

import pytest

from gongji.config import Settings
from gongji.core.limits import SQLITE_SETTLEMENT_THREADS, Limits

SQLITE = "sqlite:////tmp/gongji-threads.db"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1/test"


def test_sqlite_works_on_more_settlements_at_once_than_postgresql() -> None:
    sqlite = Settings.from_env({"GONGJI_DATABASE_URL": SQLITE}).limits
    postgres = Settings.from_env({"GONGJI_DATABASE_URL": POSTGRES}).limits
    assert sqlite.settlement_threads == SQLITE_SETTLEMENT_THREADS == 8
    assert postgres.settlement_threads == Limits().settlement_threads == 4


def test_the_embedded_default_store_is_sqlite_and_takes_its_default() -> None:
    assert Settings.from_env({}).limits.settlement_threads == SQLITE_SETTLEMENT_THREADS


@pytest.mark.parametrize("database", [SQLITE, POSTGRES])
def test_the_setting_chooses_for_either_database(database: str) -> None:
    env = {"GONGJI_DATABASE_URL": database, "GONGJI_SETTLEMENT_THREADS": "2"}
    assert Settings.from_env(env).limits.settlement_threads == 2


def test_the_other_limits_do_not_depend_on_the_database() -> None:
    sqlite = Settings.from_env({"GONGJI_DATABASE_URL": SQLITE}).limits
    postgres = Settings.from_env({"GONGJI_DATABASE_URL": POSTGRES}).limits
    differ = [
        name
        for name in Limits.__dataclass_fields__
        if getattr(sqlite, name) != getattr(postgres, name)
    ]
    assert differ == ["settlement_threads"]
