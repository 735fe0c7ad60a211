"""An HTTP client on the real app, over the test database and the test clock."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from gongji.app.asgi import create_app
from gongji.bootstrap import Container
from gongji.config import Settings
from gongji.core.clock import ManualClock
from gongji.identity.service import identity
from gongji.kernel.context import Context
from support.world import run

_keys = itertools.count(1)


def make_client(ctx: Context, clock: ManualClock, data_dir: Path) -> TestClient:
    settings = Settings.from_env({"GONGJI_DATA_DIR": str(data_dir), "GONGJI_TEST_CLOCK": "1"})
    container = Container(settings, ctx.engine, clock, ctx.ledger, ctx)
    return TestClient(create_app(container), raise_server_exceptions=False)


def person_headers(ctx: Context, psn_no: str, **extra: str) -> dict[str, str]:
    issued = run(ctx, lambda uow: identity.issue_person_token(ctx, uow, psn_no))
    return {"Authorization": f"Bearer {issued.token}", **extra}


def operator_headers(ctx: Context, name: str, *roles: str) -> dict[str, str]:
    run(ctx, lambda uow: identity.create_operator(ctx, uow, name, roles, None, None))
    issued = run(ctx, lambda uow: identity.issue_operator_token(ctx, uow, name))
    return {"Authorization": f"Bearer {issued.token}"}


def key() -> dict[str, str]:
    """A fresh Idempotency-Key header."""
    return {"Idempotency-Key": f"test-{next(_keys)}"}


def post(client: TestClient, path: str, headers: dict[str, str], body: Any = None) -> Any:
    return client.post(path, json=body if body is not None else {}, headers={**headers, **key()})
