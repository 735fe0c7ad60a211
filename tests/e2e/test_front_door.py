"""The front door (api/front_door.py): ``POST /api/v1/settlements`` is served past FastAPI's stack
and router, everything else through them, and a client cannot tell the two ways apart."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from starlette.types import Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from gongji.api.front_door import FrontDoorApp
from gongji.api.limits import BodySizeLimit
from gongji.app.asgi import create_app
from gongji.bootstrap import build
from gongji.config import Settings
from gongji.fsi.http.routes import (
    ALIASES,
    CALL_SERVICE,
    ERROR_CODE_HEADER,
    PREFIX,
    FsiRoute,
    call_service,
)
from gongji.fsi.http.transactions import TRANSACTIONS, path_of
from gongji.identity.service import signing
from support.fsi import FSI_PATH, His, build_his, envelope
from support.till import BASE, Counter, mother_bill, open_counter

JSON = {"Content-Type": "application/json"}
TOO_LARGE = b'{"lines": "' + b"1" * (1 << 20) + b'"}'
MSG = "H62010000001202603021000"  # + 6 characters


@pytest.fixture
def counter(engine: Engine, tmp_path: Path) -> Iterator[Counter]:
    with open_counter(engine, tmp_path) as opened:
        yield opened


@pytest.fixture
def routed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The requests that reached FastAPI's router, by method and path."""
    seen: list[str] = []
    entered = APIRouter.__call__

    async def counting(router: APIRouter, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            seen.append(f"{scope['method']} {scope['path']}")
        await entered(router, scope, receive, send)

    monkeypatch.setattr(APIRouter, "__call__", counting)
    return seen


def front_door(counter: Counter) -> FrontDoorApp:
    app = counter.pharmacy.client.app
    if not isinstance(app, FrontDoorApp):
        raise TypeError("the app has no front door")
    return app


def test_the_settlement_skips_the_router_and_everything_else_takes_it(
    counter: Counter, routed: list[str]
) -> None:
    till = counter.pharmacy
    settled = till.post(BASE, mother_bill("fd-1"))
    assert settled.status_code == 201, settled.text
    assert routed == []
    listed = till.get(f"{BASE}?date=2026-03-02")
    assert listed.status_code == 200, listed.text
    assert [s["request_id"] for s in listed.json()["settlements"]] == ["fd-1"]
    slash = till.client.post(f"{BASE}/", content=b"{}", headers=JSON, follow_redirects=False)
    assert slash.status_code == 307  # the router's redirect, as before
    assert routed == [f"GET {BASE}", f"POST {BASE}/"]


def _answers(counter: Counter, tag: str) -> list[tuple[int, Any]]:
    """The refusals a client can meet on the settlement route, in Chinese and English."""
    till = counter.pharmacy
    english = {**JSON, "Accept-Language": "en-GB,en;q=0.8"}

    def streamed() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(20):
            yield b"1" * 65536

    unreadable = json.dumps({**mother_bill(tag), "lines": "none"}).encode()
    signed = till.headers("POST", BASE, unreadable, nonce=f"front-door-nonce-{tag}")
    answers = [
        till.client.post(BASE, content=b"{nope", headers=JSON),
        till.client.post(BASE, content=b"{}", headers=JSON),
        till.client.post(BASE, content=b"{}", headers=english),
        till.client.post(BASE, content=TOO_LARGE, headers=JSON),
        till.client.post(BASE, content=streamed(), headers=english),
        till.client.post(BASE, content=unreadable, headers=signed),
        till.client.post(BASE, content=unreadable, headers=signed),  # its nonce was spent
        till.post(BASE, mother_bill(tag, med_type="x")),
    ]
    return [(answer.status_code, answer.json()) for answer in answers]


def test_a_client_meets_the_same_refusals_either_way(counter: Counter) -> None:
    direct = _answers(counter, "fd-a")
    assert [status for status, _ in direct] == [422, 401, 401, 413, 413, 422, 401, 422]
    assert direct[1][1]["code"] == direct[2][1]["code"] == "signature_missing"
    assert direct[1][1]["message"] != direct[2][1]["message"]  # Chinese, then English
    assert direct[3][1] == {"code": "request_too_large", "message": "请求体过大", "detail": {}}
    assert direct[4][1]["message"] == "Request body too large"
    assert direct[6][1]["code"] == "signature_replayed"

    front_door(counter).lanes = {}  # from here on FastAPI serves the route
    assert _answers(counter, "fd-b") == direct


def test_a_bug_is_a_logged_500_and_the_next_settlement_is_served(
    counter: Counter, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_: Any) -> Any:
        raise RuntimeError("secret internals")

    till = counter.pharmacy
    with monkeypatch.context() as patched:
        patched.setattr(signing, "verify", broken)
        with caplog.at_level(logging.ERROR, logger="gongji.api"):
            failed = till.post(BASE, mother_bill("fd-bug"))
    assert failed.status_code == 500
    assert failed.json() == {
        "code": "internal_error",
        "message": "系统内部错误，已记录",
        "detail": {},
    }
    assert [r.exc_info is not None for r in caplog.records] == [True]
    assert f"POST {BASE}" in caplog.records[0].getMessage()
    served = till.post(BASE, mother_bill("fd-bug"))
    assert served.status_code == 201, served.text


def test_a_lane_is_the_apps_middleware_without_the_door_guard(tmp_path: Path) -> None:
    """Behind a trusted proxy the lane reads X-Forwarded-* first, as the rest of the app does."""
    env = {"GONGJI_DATA_DIR": str(tmp_path), "GONGJI_TRUST_PROXY": "1"}
    container = build(Settings.from_env(env))
    try:
        app = create_app(container)
        app.build_middleware_stack()
    finally:
        container.close()
    assert isinstance(app, FrontDoorApp)
    national = {CALL_SERVICE, *ALIASES, *(path_of(infno) for infno in TRANSACTIONS)}
    assert set(app.lanes) == {("POST", BASE), *(("POST", PREFIX + path) for path in national)}
    layers = []
    lane: Any = app.lanes["POST", BASE]
    while hasattr(lane, "app"):
        layers.append(type(lane).__name__)
        lane = lane.app
    assert layers == [
        ProxyHeadersMiddleware.__name__,
        BodySizeLimit.__name__,
        "UnexpectedErrors",
        "ExceptionMiddleware",
    ]


def test_the_openapi_document_still_describes_the_settlement(counter: Counter) -> None:
    document = counter.pharmacy.client.get("/openapi.json").json()
    operation = document["paths"][BASE]["post"]
    assert operation["summary"] == "Settle (结算), idempotent per request_id"
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/SettleBody"}
    assert "201" in operation["responses"]


def test_under_a_root_path_the_router_serves_the_settlement(
    counter: Counter, routed: list[str]
) -> None:
    """Starlette matches such a path without its prefix: the front door leaves it to FastAPI."""
    app = front_door(counter)
    client = TestClient(app, root_path="/gongji", raise_server_exceptions=False)  # no lifespan
    unsigned = client.post(BASE, content=b"{}", headers=JSON)
    assert (unsigned.status_code, unsigned.json()["code"]) == (401, "signature_missing")
    assert routed == [f"POST {BASE}"]


def test_settlements_hold_at_most_their_own_few_worker_threads(
    counter: Counter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A burst of settlements runs ``Limits.settlement_threads`` at a time; the rest wait their
    turn and are all served."""
    lock = threading.Lock()
    running, most = [0], [0]
    checked = signing.verify

    def slow_verify(*args: Any, **kwargs: Any) -> Any:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            time.sleep(0.3)
            return checked(*args, **kwargs)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(signing, "verify", slow_verify)
    till = counter.pharmacy
    burst = 3 * counter.ctx.limits.settlement_threads
    with ThreadPoolExecutor(burst) as pool:
        answers = list(pool.map(lambda n: till.post(BASE, mother_bill(f"burst-{n}")), range(burst)))
    assert [a.status_code for a in answers] == [201] * burst, [a.text for a in answers]
    assert most[0] == counter.ctx.limits.settlement_threads


def _national_answers(his: His, tag: str) -> list[tuple[int, str | None, Any, str]]:
    """What a HIS meets at each kind of national-interface path: a transaction refused, one
    answered, a message at a path that is not its own, a path that serves nothing, no
    signature, a body too large."""
    sign_in = {"signIn": {"opter_no": "D0001", "mac": "", "ip": ""}}
    sent = [
        (envelope("2207", {"data": {}}, f"{MSG}{tag}01"), FSI_PATH),
        (envelope("9001", sign_in, f"{MSG}{tag}02"), FSI_PATH),
        (envelope("2207", {"data": {}}, f"{MSG}{tag}03"), "/fsi/api" + path_of("2207")),
        (envelope("2206", {"data": {}}, f"{MSG}{tag}04"), "/fsi/api" + path_of("2207")),
        (envelope("2304", {"data": {}}, f"{MSG}{tag}05"), "/fsi/api/hospSettService/settV2"),
        (envelope("2207", {"data": {}}, f"{MSG}{tag}06"), "/fsi/api/hospSettService/2207"),
    ]
    responses = [his.call(message, path) for message, path in sent]
    responses.append(his.client.post(FSI_PATH, content=b"{}", headers=JSON))
    responses.append(his.client.post(FSI_PATH, content=TOO_LARGE, headers=JSON))
    answers = []
    for response in responses:
        body = response.json()
        answer = body.get("infcode", body.get("code"))
        message = body.get("err_msg", body.get("message"))
        answers.append(
            (response.status_code, response.headers.get(ERROR_CODE_HEADER), answer, message)
        )
    return answers


def test_the_national_interface_is_served_past_the_router_and_answers_alike(
    engine: Engine, tmp_path: Path, routed: list[str]
) -> None:
    his = build_his(engine, tmp_path)
    with his.client:
        direct = _national_answers(his, "a")
        # Only the path that serves no transaction went through FastAPI's router.
        assert routed == ["POST /fsi/api/hospSettService/2207"]
        missing = "fsi_field_missing"
        assert [code for _, code, _, _ in direct] == [
            missing, None, missing, "fsi_path_mismatch", missing, "fsi_path_unknown",
            "signature_missing", None,
        ]  # fmt: skip
        assert direct[1][2] == 0 and direct[-1][:3] == (413, None, "request_too_large")
        app = his.client.app
        assert isinstance(app, FrontDoorApp)
        app.lanes = {}  # from here on FastAPI serves every path
        assert _national_answers(his, "b") == direct


def test_two_lanes_for_one_request_are_refused_when_the_app_is_built(tmp_path: Path) -> None:
    """A second router declaring a national-interface path already served would make one of
    the two unreachable by the router's order alone: the app refuses to build."""
    container = build(Settings.from_env({"GONGJI_DATA_DIR": str(tmp_path)}))
    try:
        app = create_app(container)
        again = APIRouter(prefix=PREFIX, route_class=FsiRoute)
        again.add_api_route(CALL_SERVICE, call_service, methods=["POST"])
        app.include_router(again)
        with pytest.raises(TypeError, match=f"two direct lanes for POST {FSI_PATH}"):
            app.build_middleware_stack()
    finally:
        container.close()


def test_a_national_interface_route_at_a_path_it_does_not_know_is_refused() -> None:
    stray = FsiRoute(PREFIX + "/somewhere/else", call_service, methods=["POST"])
    with pytest.raises(TypeError, match="a national-interface route at an unknown path"):
        stray.direct_lanes()
