"""The guard rails' settings: defaults, overrides from the environment, refusals."""

from __future__ import annotations

import pytest

from gongji.config import Settings
from gongji.core.limits import Limits


def _settings(**variables: str) -> Settings:
    return Settings.from_env({"GONGJI_DATA_DIR": "/nonexistent-gongji", **variables})


def test_settlement_threads_follow_the_store_unless_set() -> None:
    unset = _settings().limits
    assert unset.settlement_threads is None
    assert unset.settlement_threads_on("sqlite") == 1  # its writes take turns in one writer
    assert unset.settlement_threads_on("postgresql") == 4
    assert unset.settlement_threads_on("mysql") == 4  # any other: PostgreSQL's

    chosen = _settings(GONGJI_SETTLEMENT_THREADS="3").limits
    assert [chosen.settlement_threads_on(db) for db in ("sqlite", "postgresql")] == [3, 3]


@pytest.mark.parametrize("text", ["0", "-1", "two", "1.5"])
def test_a_settlement_thread_count_below_one_or_not_whole_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"(?i)settlement_threads"):
        _settings(GONGJI_SETTLEMENT_THREADS=text)


def test_no_other_limit_may_be_left_unset() -> None:
    with pytest.raises(ValueError, match="fsi_lookups_per_minute"):
        Limits(fsi_lookups_per_minute=None)  # type: ignore[arg-type]
