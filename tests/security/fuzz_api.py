"""`make security`: every operation of ``/openapi.json`` fed generated input by schemathesis,
with real credentials, failing on any 5xx and on any answer outside the schema.

Not part of ``make test`` (the file name does not match ``test_*.py``; the target names it).
The app runs in-process (ASGI) on a seeded SQLite database: persons' routes get a person's
bearer token, operators' routes an operator's with every role, and institutions' routes are
signed (docs/signing.md) by a wrapper around the app that signs the exact bytes the server
receives, as an institution's HIS would. Bounded: ``GONGJI_FUZZ_EXAMPLES`` examples per
operation (default 25) and pytest-timeout per operation.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any, Final

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from gongji.app.asgi import create_app
from gongji.bootstrap import build
from gongji.config import Settings
from gongji.identity.service import identity
from gongji.identity.service.signing import sign_request
from gongji.institutions.service.institutions import issue_credentials
from gongji.sim.demo import seed
from support.world import run

EXAMPLES: Final = int(os.environ.get("GONGJI_FUZZ_EXAMPLES", "25"))
SIGNED_PREFIXES: Final = ("/fsi/", "/api/v1/settlements", "/api/v1/reconciliation")
OPERATOR_PREFIXES: Final = ("/api/v1/admin/", "/api/v1/clearing/")
ALL_ROLES: Final = ("admin", "clerk", "reviewer", "risk_officer", "auditor")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class SigningApp:
    """Signs requests to institutions' routes with a live key, then hands them to the app."""

    def __init__(self, app: Any, key_id: str, secret: str) -> None:
        self.app, self.key_id, self.secret = app, key_id, secret

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith(SIGNED_PREFIXES):
            await self.app(scope, receive, send)
            return
        body = await _whole_body(receive)
        target = scope.get("raw_path", scope["path"].encode()).decode("latin-1")
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        headers = sign_request(
            self.key_id, self.secret, scope["method"], target, body, int(time.time()),
            uuid.uuid4().hex,
        )  # fmt: skip
        signed = [(k.encode().lower(), v.encode()) for k, v in headers.items()]
        scope = {**scope, "headers": [*scope["headers"], *signed]}
        sent = False

        async def replay() -> MutableMapping[str, Any]:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _whole_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _world() -> tuple[Any, dict[str, str]]:
    data_dir = Path(tempfile.mkdtemp(prefix="gongji-fuzz-"))
    container = build(Settings.from_env({"GONGJI_DATA_DIR": str(data_dir)}))
    atexit.register(shutil.rmtree, data_dir, ignore_errors=True)
    atexit.register(container.close)  # runs first: the database is closed before it is removed
    ctx = container.context
    seed(ctx)
    person = run(ctx, lambda uow: identity.issue_person_token(ctx, uow, "P620100000001")).token
    run(ctx, lambda uow: identity.create_operator(ctx, uow, "fuzz", ALL_ROLES, None, None))
    operator = run(ctx, lambda uow: identity.issue_operator_token(ctx, uow, "fuzz")).token
    issued = run(ctx, lambda uow: issue_credentials(ctx, uow, "H62010000001"))
    app = SigningApp(create_app(container), issued.key_id, issued.secret)
    return app, {"person": person, "operator": operator}


APP, TOKENS = _world()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


def _headers(path: str) -> dict[str, str]:
    if path.startswith(SIGNED_PREFIXES):
        return {}
    token = TOKENS["operator" if path.startswith(OPERATOR_PREFIXES) else "person"]
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.timeout(300)
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_error_and_every_answer_in_the_schema(case: schemathesis.Case) -> None:
    case.headers = {**(case.headers or {}), **_headers(case.path)}  # over generated ones
    case.call_and_validate(
        checks=[
            checks.not_a_server_error,
            checks.status_code_conformance,
            checks.content_type_conformance,
            checks.response_schema_conformance,
        ],
    )
