"""Security limits through HTTP: booleans are not numbers, bounded cursors and months answer
4xx and keep the connection, the ledger verdict is an operator's stored result, operator
sign-in locks, cookies are Secure where they must be.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from gongji.app import system
from gongji.app.asgi import create_app
from gongji.app.serving import server_config
from gongji.bootstrap import Container
from gongji.config import Settings
from gongji.core.clock import ManualClock
from gongji.identity.service import signing
from gongji.jobs import ledger_check
from gongji.kernel.context import Context
from support.api import key, make_client, operator_headers, person_headers
from support.world import at, build_context, insured

SON, MOTHER = "P620100000001", "P370100000001"
LONG_CURSOR = "9223372036854775808"  # 2**63: one past a signed 64-bit sequence


@pytest.fixture
def ctx_clock(engine: Engine) -> tuple[Context, ManualClock]:
    clock = ManualClock(at("2026-03-02 10:00:00"))
    ctx = build_context(engine, clock)
    insured(ctx, SON, current=180_000, earlier=620_000, name="张建国")
    insured(ctx, MOTHER, region="370100", insutype="390", name="王桂兰")
    return ctx, clock


@pytest.fixture
def client(ctx_clock: tuple[Context, ManualClock], tmp_path: Path) -> Iterator[TestClient]:
    ctx, clock = ctx_clock
    with make_client(ctx, clock, tmp_path) as built:
        yield built


def test_json_true_is_neither_an_amount_nor_a_year(
    client: TestClient, ctx_clock: tuple[Context, ManualClock]
) -> None:
    son = {**person_headers(ctx_clock[0], SON), **key()}
    grant = client.post("/api/v1/grants", json={"recipient": MOTHER, "amount": True}, headers=son)
    assert grant.status_code == 422, grant.text
    assert grant.json()["code"] == "request_invalid"
    assert grant.json()["detail"]["fields"][0]["loc"][-1] == "amount"
    premium = {"psn_no": SON, "year": True, "kind": "resident", "source": "own"}
    paid = client.post("/api/v1/premiums", json=premium, headers={**son, **key()})
    assert paid.status_code == 422
    assert any(f["loc"][-1] == "year" for f in paid.json()["detail"]["fields"])


def test_out_of_range_cursor_and_month_are_refused_with_their_codes(
    client: TestClient, ctx_clock: tuple[Context, ManualClock]
) -> None:
    ctx = ctx_clock[0]
    son = person_headers(ctx, SON)
    for cursor in (LONG_CURSOR, "²", "-1"):
        history = client.get("/api/v1/wallet/history", params={"cursor": cursor}, headers=son)
        assert (history.status_code, history.json()["code"]) == (400, "cursor_invalid")
    assert client.get(f"/api/v1/wallet/history?cursor={2**63 - 1}", headers=son).status_code == 200
    clerk = operator_headers(ctx, "clerk1", "clerk")
    for month in ("9999-12", "0001-01", "1899-12"):
        refused = client.get(f"/api/v1/clearing/{month}", headers=clerk)
        assert (refused.status_code, refused.json()["code"]) == (400, "clearing_month_invalid")


def test_the_ledger_verdict_is_for_operators_and_is_the_stored_one(
    client: TestClient, ctx_clock: tuple[Context, ManualClock], monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = ctx_clock[0]
    assert client.get("/api/v1/ledger/check").status_code == 401
    assert client.get("/api/v1/ledger/check", headers=person_headers(ctx, SON)).status_code == 403
    auditor = operator_headers(ctx, "auditor1", "auditor")
    assert client.get("/api/v1/ledger/check", headers=auditor).json()["code"] == "not_found"
    stored = ledger_check.run_ledger_check(ctx)
    assert stored.report.ok and stored.report.transfers > 0

    def no_full_check(*_: Any) -> Any:
        raise AssertionError("a request must not start a ledger check")

    monkeypatch.setattr(ledger_check, "full_check", no_full_check)
    monkeypatch.setattr(ledger_check, "incremental_check", no_full_check)
    answer = client.get("/api/v1/ledger/check", headers=auditor).json()
    assert answer["ok"] is True
    assert answer["transfers"] == stored.report.transfers
    assert answer["checked_at"] == "2026-03-02T02:00:00+00:00"


def test_operator_sign_in_over_http_locks_with_a_stable_code(
    client: TestClient, ctx_clock: tuple[Context, ManualClock]
) -> None:
    from gongji.identity.service import identity
    from support.world import run

    ctx = ctx_clock[0]
    run(ctx, lambda uow: identity.create_operator(ctx, uow, "alice", ["clerk"], "x" * 12))
    wrong = {"name": "alice", "password": "y" * 12, "totp": "000000"}
    codes = [
        client.post("/api/v1/auth/operator-login", json=wrong).json()["code"] for _ in range(6)
    ]
    assert codes == ["login_failed"] * 5 + ["operator_locked"]
    locked = client.post("/api/v1/auth/operator-login", json=wrong)
    assert locked.status_code == 429
    assert "账户已锁定" in locked.json()["message"]


def _secure_flag(
    ctx: Context, clock: ManualClock, tmp: Path, env: dict[str, str], **headers: str
) -> bool:
    settings = Settings.from_env({"GONGJI_DATA_DIR": str(tmp), **env})
    container = Container(settings, ctx.engine, clock, ctx.ledger, ctx)
    with TestClient(create_app(container), base_url="http://testserver") as client:
        page = client.get("/login", headers=headers)
    cookie = page.headers["set-cookie"]
    assert "httponly" in cookie.lower()
    return "secure" in cookie.lower()


def test_the_secure_flag_follows_the_trusted_proxy_and_production(
    ctx_clock: tuple[Context, ManualClock], tmp_path: Path
) -> None:
    ctx, clock = ctx_clock
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    assert not _secure_flag(ctx, clock, tmp_path, {})
    assert not _secure_flag(ctx, clock, tmp_path, {}, **https)  # anyone can send the header
    assert _secure_flag(ctx, clock, tmp_path, {"GONGJI_TRUST_PROXY": "1"}, **https)
    production = {"GONGJI_ENV": "production", "GONGJI_TRUST_PROXY": "1"}
    assert _secure_flag(ctx, clock, tmp_path, production)  # always, whatever the scheme


# --- a real server: errors never cost the keep-alive connection ----------------------------


@pytest.fixture
def live(sqlite_engine: Engine, tmp_path: Path) -> Iterator[tuple[int, Context]]:
    clock = ManualClock(at("2026-03-02 10:00:00"))
    ctx = build_context(sqlite_engine, clock)
    insured(ctx, SON, current=1_000, name="张建国")
    settings = Settings.from_env({"GONGJI_DATA_DIR": str(tmp_path)})
    app = create_app(Container(settings, ctx.engine, clock, ctx.ledger, ctx))
    server = uvicorn.Server(server_config(app, "127.0.0.1", 0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield port, ctx
    finally:
        server.should_exit = True
        thread.join(20)


def test_refusals_and_bugs_keep_the_keep_alive_connection(
    live: tuple[int, Context], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, ctx = live
    son = person_headers(ctx, SON)
    clerk = operator_headers(ctx, "clerk1", "clerk")

    def broken(*_: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(system, "last_verdict", broken)
    _answered_on_one_connection(
        port,
        [
            ("GET", f"/api/v1/wallet/history?cursor={LONG_CURSOR}", son, 400),
            ("GET", "/api/v1/clearing/9999-12", clerk, 400),
            ("GET", "/api/v1/ledger/check", clerk, 500),
            ("GET", "/api/v1/health", {}, 200),
        ],
    )


def _answered_on_one_connection(
    port: int, asked: list[tuple[str, str, dict[str, str], int]]
) -> None:
    """Each request answered with its status, nothing secret in the body, and the keep-alive
    connection still open: one connection serves them all."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    sockets = set()
    for method, path, headers, status in asked:
        body_sent = b"{}" if method == "POST" else None
        connection.request(method, path, body=body_sent, headers=headers)
        response = connection.getresponse()
        body = json.loads(response.read())
        assert response.status == status, body
        assert "secret" not in json.dumps(body)
        assert response.getheader("connection", "").lower() != "close"
        sockets.add(id(connection.sock))
    assert len(sockets) == 1
    connection.close()


def test_a_bug_on_the_settlement_front_door_keeps_the_keep_alive_connection(
    live: tuple[int, Context], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``POST /api/v1/settlements`` is served past FastAPI's stack (api/front_door.py): its
    500 is answered as the stack's, and the connection serves the next request."""
    port, _ = live

    def broken(*_: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(signing, "verify", broken)
    json_body = {"Content-Type": "application/json"}
    _answered_on_one_connection(
        port,
        [("POST", "/api/v1/settlements", json_body, 500), ("GET", "/api/v1/health", {}, 200)],
    )


def test_slow_request_heads_are_cut_and_complete_ones_served(
    live: tuple[int, Context], monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    from gongji.app import serving

    monkeypatch.setattr(serving, "HEAD_TIMEOUT_S", 0.5)
    port, _ = live
    slow = []
    for _ in range(20):  # each sends half a request head and then nothing
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n")
        slow.append(sock)
    time.sleep(1.5)
    for sock in slow:
        assert sock.recv(1024) == b""  # closed by the server
        sock.close()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", "/api/v1/health")
    first = connection.getresponse()
    assert first.status == 200
    first.read()
    time.sleep(0.8)  # an idle keep-alive connection past the head timeout is not cut by it
    connection.request("GET", "/api/v1/health")
    assert connection.getresponse().status == 200


def test_the_sign_in_pages_lock_and_limit_like_the_api(
    client: TestClient, ctx_clock: tuple[Context, ManualClock]
) -> None:
    import re

    from gongji.identity.service import identity
    from support.world import run

    ctx = ctx_clock[0]
    run(ctx, lambda uow: identity.create_operator(ctx, uow, "alice", ["clerk"], "x" * 12))
    csrf_field = re.compile(r'name="csrf_token" value="([^"]+)"')
    page = client.get("/admin/login")
    csrf = csrf_field.search(page.text)[1]  # type: ignore[index]
    wrong = {"csrf_token": csrf, "name": "alice", "password": "y" * 12, "totp": "000000"}
    statuses = [client.post("/admin/login", data=wrong).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    assert "账户已锁定" in client.post("/admin/login", data=wrong).text
    page = client.get("/login")
    csrf = csrf_field.search(page.text)[1]  # type: ignore[index]
    sent = [
        client.post(
            "/login/code",
            data={"csrf_token": csrf, "mobile": f"1391931{n:04d}"},
            follow_redirects=False,
        ).status_code
        for n in range(11)
    ]
    assert sent == [303] * 10 + [429]
    refused = client.post("/login/code", data={"csrf_token": csrf, "mobile": "13919319999"})
    assert "请求过于频繁" in refused.text


def test_the_door_guard_refuses_a_flood_before_the_application(
    client: TestClient, ctx_clock: tuple[Context, ManualClock], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import func, select

    from gongji.api import doors
    from gongji.core.limits import Limits
    from gongji.store.tables_access import one_time_codes

    ctx = ctx_clock[0]
    monkeypatch.setattr(doors, "REFUSAL_DELAY_S", 0.0)
    object.__setattr__(
        ctx,
        "limits",
        Limits(door_requests_per_address_per_minute=3, door_requests_per_address_per_second=100),
    )
    auditor = operator_headers(ctx, "auditor1", "auditor")
    answers = [
        client.post("/api/v1/auth/otp", json={"mobile": f"1391931{n:04d}"}, headers=key())
        for n in range(4)
    ]
    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    assert answers[-1].json()["code"] == "rate_limited"
    assert int(answers[-1].headers["Retry-After"]) >= 1
    with ctx.engine.connect() as connection:
        count = select(func.count()).select_from(one_time_codes)
        assert connection.execute(count).scalar() == 3  # the fourth never reached the service
    assert client.get("/api/v1/ledger/check").status_code == 429  # anonymous: a door
    object.__setattr__(ctx, "limits", Limits())  # the default: one a second per address
    ctx.limiter.reset()
    ctx.door_limiter.reset()
    first = client.post("/api/v1/auth/otp", json={"mobile": "13919310100"}, headers=key())
    second = client.post("/api/v1/auth/otp", json={"mobile": "13919310101"}, headers=key())
    assert (first.status_code, second.status_code) == (202, 429)
    assert client.get("/api/v1/ledger/check", headers=auditor).json()["code"] == "not_found"


def test_a_page_refused_at_the_door_gets_a_page_not_json(
    client: TestClient, ctx_clock: tuple[Context, ManualClock], monkeypatch: pytest.MonkeyPatch
) -> None:
    from gongji.api import doors
    from gongji.core.limits import Limits

    ctx = ctx_clock[0]
    monkeypatch.setattr(doors, "REFUSAL_DELAY_S", 0.0)
    object.__setattr__(ctx, "limits", Limits())  # the default: one a second per address
    ctx.door_limiter.reset()
    client.post("/login", data={"mobile": "13919310001", "code": "000000"})
    again = client.post("/login", data={"mobile": "13919310001", "code": "000000"})
    assert again.status_code == 429 and again.headers["content-type"].startswith("text/html")
    assert "请求过于频繁" in again.text and 'href="/login"' in again.text
    assert not again.text.lstrip().startswith("{")
