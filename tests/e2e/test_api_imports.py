"""Operators' imports through HTTP: all or nothing, per-line errors, idempotent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import Engine, func, select

from gongji.core.clock import ManualClock
from gongji.kernel.context import Context
from gongji.store.tables_people import persons
from support.api import key, make_client, operator_headers
from support.world import at, build_context

DATA = Path(__file__).parents[1] / "data"


@pytest.fixture
def desk(engine: Engine, tmp_path: Path) -> Iterator[tuple[TestClient, Context]]:
    ctx = build_context(engine, ManualClock(at("2026-03-02 10:00:00")))
    with make_client(ctx, ctx.clock, tmp_path) as client:  # type: ignore[arg-type]
        yield client, ctx


def _persons(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(persons)).scalar_one())


def _upload(client: TestClient, headers: dict[str, str], kind: str, name: str) -> Response:
    body = (DATA / name).read_bytes()
    return client.post(
        f"/api/v1/admin/imports/{kind}",
        content=body,
        headers={**headers, **key(), "Content-Type": "text/csv"},
    )


def test_a_bad_file_imports_nothing_and_names_its_lines(desk: tuple[TestClient, Context]) -> None:
    client, ctx = desk
    clerk = operator_headers(ctx, "clerk1", "clerk")
    refused = _upload(client, clerk, "persons", "persons_bad.csv")
    assert refused.status_code == 422
    body = refused.json()
    assert body["code"] == "import_refused"
    assert body["detail"]["errors"] and all(e["line"] >= 2 for e in body["detail"]["errors"])
    assert _persons(ctx.engine) == 0


def test_a_good_file_imports_once(desk: tuple[TestClient, Context]) -> None:
    client, ctx = desk
    clerk = operator_headers(ctx, "clerk1", "clerk")
    first = _upload(client, clerk, "persons", "persons.csv")
    assert first.status_code == 200, first.text
    created = first.json()["created"]
    again = _upload(client, clerk, "persons", "persons.csv")
    assert again.json()["created"] == 0 and again.json()["unchanged"] == created
    assert _persons(ctx.engine) == created


def test_only_clerks_import_and_kinds_are_known(desk: tuple[TestClient, Context]) -> None:
    client, ctx = desk
    reviewer = operator_headers(ctx, "rev1", "reviewer")
    assert _upload(client, reviewer, "persons", "persons.csv").status_code == 403
    clerk = operator_headers(ctx, "clerk1", "clerk")
    unknown = _upload(client, clerk, "salaries", "persons.csv")
    assert unknown.json()["code"] == "import_kind_unknown"
