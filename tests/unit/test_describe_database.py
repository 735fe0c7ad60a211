"""The database as logs and error lines name it (``gongji serve``'s first line, ``db upgrade``,
``restore``): where it is, never a password, wherever the URL carries one."""

from __future__ import annotations

import pytest

from gongji.config import Settings


def described(url: str) -> str:
    return Settings.from_env(
        {"GONGJI_DATABASE_URL": url, "GONGJI_DATA_DIR": "/tmp/g"}
    ).describe_database()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql://gongji:s3cret@db.internal:6432/prod",
            "postgresql://gongji:***@db.internal:6432/prod",
        ),
        # libpq reads a password from the query too
        (
            "postgresql://gongji@db.internal/prod?password=s3cret",
            "postgresql://gongji@db.internal/prod?password=***",
        ),
        (
            "postgresql://gongji@/prod?host=/var/run/postgresql",
            "postgresql://gongji@/prod?host=/var/run/postgresql",
        ),
        (
            "postgresql://g:p%40ss@h/db?options=-csearch_path%3Dbureau",
            "postgresql://g:***@h/db?options=-csearch_path=bureau",
        ),
        ("sqlite:////var/lib/gongji/gongji.db", "sqlite:////var/lib/gongji/gongji.db"),
        ("not a url", "an unreadable database URL"),
    ],
)
def test_the_database_is_named_without_its_password(url: str, shown: str) -> None:
    assert described(url) == shown
    assert "s3cret" not in described(url) and "p%40ss" not in described(url)
