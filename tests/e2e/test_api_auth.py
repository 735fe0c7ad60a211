"""Signing in through HTTP, and the conventions every /api/v1 route shares: error shapes in
Chinese or English, 401/403, the Idempotency-Key, body limits, malformed input. Never a 500.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import pyotp
import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine

from gongji import __version__
from gongji.api.deps import require_operator, require_person
from gongji.api.writes import write
from gongji.app.asgi import create_app
from gongji.bootstrap import Container
from gongji.config import Settings
from gongji.core.clock import ManualClock
from gongji.core.enrolment import EnrolmentStatus
from gongji.core.ids import make_resident_id
from gongji.identity.service import identity
from gongji.kernel.context import Actor, Context, Role
from gongji.kernel.sms import LogSmsGateway
from gongji.people.service.persons import PersonInput, register_person
from gongji.people.store import people_repo
from gongji.store.migrate import current_revision, head_revision
from gongji.store.uow import UnitOfWork, run_in_transaction

MOBILE = "13812345678"
PASSWORD = "correct horse battery"


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: Annotated[str, Field(min_length=1, max_length=40)]


def _add_test_routes(app: FastAPI) -> None:
    """A write and an operator-only read, standing in for the real routes' conventions."""

    @app.post("/api/v1/test/notes", status_code=201)
    def add_note(
        body: NoteIn, request: Request, person: Annotated[Actor, Depends(require_person)]
    ) -> JSONResponse:
        def command(ctx: Context, uow: UnitOfWork) -> dict[str, Any]:
            people_repo.record_event(
                uow.connection, person.id, "note", person.label, ctx.now_us(), note=body.note
            )
            return {
                "note": body.note,
                "events": len(people_repo.events_of(uow.connection, person.id, 0, 100)),
            }

        return write(request, person, "test.note", body, command, status_code=201)

    @app.get("/api/v1/test/clerk-only")
    def clerk_only(
        operator: Annotated[Actor, Depends(require_operator(Role.CLERK))],
    ) -> dict[str, str]:
        return {"name": operator.id}


def run(ctx: Context, work: Any) -> Any:
    def committed(uow: UnitOfWork) -> Any:
        result = work(uow)
        uow.commit()
        return result

    return run_in_transaction(ctx.engine, committed)


def register(ctx: Context, psn_no: str = "P1", mobile: str = MOBILE) -> None:
    data = PersonInput(
        psn_no=psn_no,
        id_number=make_resident_id("620100", date(1970, 1, 1), 11),
        name="李四",
        mobile=mobile,
        insutype="390",
        region="620100",
        status=EnrolmentStatus.NORMAL,
        employment="employed",
        start_date=date(2020, 1, 1),
    )
    run(ctx, lambda uow: register_person(ctx, uow, data))


@pytest.fixture
def client(
    ctx: Context, engine: Engine, clock: ManualClock, tmp_path: Path
) -> Iterator[TestClient]:
    settings = Settings.from_env({"GONGJI_DATA_DIR": str(tmp_path), "GONGJI_TEST_CLOCK": "1"})
    container = Container(settings, engine, clock, ctx.ledger, ctx)
    app = create_app(container)
    _add_test_routes(app)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def person_token(ctx: Context, psn_no: str = "P1") -> str:
    issued: identity.IssuedToken = run(
        ctx, lambda uow: identity.issue_person_token(ctx, uow, psn_no)
    )
    return issued.token


def operator_token(ctx: Context, name: str, *roles: str) -> str:
    run(ctx, lambda uow: identity.create_operator(ctx, uow, name, roles, None, None))
    issued: identity.IssuedToken = run(
        ctx, lambda uow: identity.issue_operator_token(ctx, uow, name)
    )
    return issued.token


def test_health_names_the_database_and_its_schema_revision(
    client: TestClient, engine: Engine
) -> None:
    answer = client.get("/api/v1/health")
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "ok",
        "version": __version__,
        "database": engine.dialect.name,
        "schema_revision": head_revision(),
    }
    assert head_revision() == current_revision(engine)  # Alembic's own reading agrees


# --- signing in -----------------------------------------------------------------------------


def test_a_person_signs_in_reads_who_they_are_and_signs_out(
    client: TestClient, ctx: Context
) -> None:
    register(ctx)
    sent = client.post("/api/v1/auth/otp", json={"mobile": MOBILE})
    assert sent.status_code == 202
    assert sent.json()["mobile"] == "138****5678"
    gateway = ctx.sms
    assert isinstance(gateway, LogSmsGateway)
    code = gateway.last_code(MOBILE)
    assert code is not None

    login = client.post("/api/v1/auth/login", json={"mobile": MOBILE, "code": code})
    assert login.status_code == 200, login.text
    body = login.json()
    assert body["psn_no"] == "P1" and body["expires_at"].startswith("2026-03-09")
    token = body["token"]

    me = client.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.json() == {
        "kind": "person",
        "psn_no": "P1",
        "name": "李*",
        "mobile": "138****5678",
        "roles": [],
        "region": None,
    }
    assert MOBILE not in me.text

    assert client.post("/api/v1/auth/logout", headers=bearer(token)).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_an_unknown_number_gets_the_same_answer(client: TestClient, ctx: Context) -> None:
    register(ctx)
    known = client.post("/api/v1/auth/otp", json={"mobile": MOBILE})
    unknown = client.post("/api/v1/auth/otp", json={"mobile": "13900000000"})
    assert (known.status_code, unknown.status_code) == (202, 202)
    assert known.json().keys() == unknown.json().keys()
    assert known.json()["expires_at"] == unknown.json()["expires_at"]


def test_a_wrong_code_counts_and_answers_in_chinese_or_english(
    client: TestClient, ctx: Context
) -> None:
    register(ctx)
    client.post("/api/v1/auth/otp", json={"mobile": MOBILE})
    gateway = ctx.sms
    assert isinstance(gateway, LogSmsGateway)
    code = gateway.last_code(MOBILE)
    wrong = "000000" if code != "000000" else "111111"
    zh = client.post("/api/v1/auth/login", json={"mobile": MOBILE, "code": wrong})
    en = client.post(
        "/api/v1/auth/login",
        json={"mobile": MOBILE, "code": wrong},
        headers={"Accept-Language": "en-US,en;q=0.9"},
    )
    assert zh.status_code == en.status_code == 400
    assert zh.json() == {"code": "otp_invalid", "message": "验证码不正确", "detail": {}}
    assert en.json()["message"] == "The code is not correct"
    for _ in range(3):
        client.post("/api/v1/auth/login", json={"mobile": MOBILE, "code": wrong})
    exceeded = client.post("/api/v1/auth/login", json={"mobile": MOBILE, "code": code})
    assert exceeded.json()["code"] == "otp_attempts_exceeded"


def test_an_operator_signs_in_with_password_and_totp(client: TestClient, ctx: Context) -> None:
    created = run(
        ctx, lambda uow: identity.create_operator(ctx, uow, "alice", ["reviewer"], PASSWORD, None)
    )
    secret = pyotp.parse_uri(created.provisioning_uri).secret
    totp = pyotp.TOTP(secret).at(ctx.now())
    ok = client.post(
        "/api/v1/auth/operator-login", json={"name": "alice", "password": PASSWORD, "totp": totp}
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["roles"] == ["reviewer"]
    me = client.get("/api/v1/me", headers=bearer(ok.json()["token"])).json()
    assert (me["kind"], me["name"], me["roles"], me["psn_no"]) == (
        "operator",
        "alice",
        ["reviewer"],
        None,
    )
    wrong_password = client.post(
        "/api/v1/auth/operator-login", json={"name": "alice", "password": "nope", "totp": totp}
    )
    unknown_name = client.post(
        "/api/v1/auth/operator-login", json={"name": "mallory", "password": PASSWORD, "totp": totp}
    )
    assert wrong_password.json() == unknown_name.json()
    assert wrong_password.json()["code"] == "login_failed"


# --- 401 and 403 ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Bearer " + "x" * 5000},
    ],
)
def test_without_a_live_token_the_answer_is_401(
    client: TestClient, headers: dict[str, str]
) -> None:
    zh = client.get("/api/v1/me", headers=headers)
    en = client.get("/api/v1/me", headers={**headers, "Accept-Language": "en"})
    assert zh.status_code == en.status_code == 401
    assert zh.json() == {
        "code": "unauthorized",
        "message": "未登录或登录已失效，请重新登录",
        "detail": {},
    }
    assert en.json()["message"] == "Not signed in, or the session has expired"


def test_roles_are_checked_and_admin_passes_every_check(client: TestClient, ctx: Context) -> None:
    register(ctx)
    url = "/api/v1/test/clerk-only"
    person = client.get(url, headers=bearer(person_token(ctx)))
    auditor = client.get(url, headers=bearer(operator_token(ctx, "audrey", "auditor")))
    clerk = client.get(url, headers=bearer(operator_token(ctx, "clara", "clerk")))
    admin = client.get(url, headers=bearer(operator_token(ctx, "root", "admin")))
    assert (person.status_code, auditor.status_code) == (403, 403)
    assert person.json() == {"code": "forbidden", "message": "无权办理此业务", "detail": {}}
    assert (clerk.status_code, admin.status_code) == (200, 200)
    operator_as_person = client.post(
        "/api/v1/test/notes",
        json={"note": "x"},
        headers={**bearer(operator_token(ctx, "olga", "admin")), "Idempotency-Key": "k"},
    )
    assert operator_as_person.status_code == 403


# --- writes: the Idempotency-Key ------------------------------------------------------------


def test_a_write_needs_an_idempotency_key_and_replays_its_answer(
    client: TestClient, ctx: Context
) -> None:
    register(ctx)
    token = bearer(person_token(ctx))
    missing = client.post("/api/v1/test/notes", json={"note": "a"}, headers=token)
    assert missing.status_code == 400 and missing.json()["code"] == "idempotency_key_required"
    first = client.post(
        "/api/v1/test/notes", json={"note": "a"}, headers={**token, "Idempotency-Key": "k1"}
    )
    again = client.post(
        "/api/v1/test/notes",
        content=b'{ "note" : "a" }',
        headers={**token, "Idempotency-Key": "k1", "Content-Type": "application/json"},
    )
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json() == {"note": "a", "events": 1}
    assert "Idempotency-Replayed" not in first.headers
    assert again.headers["Idempotency-Replayed"] == "true"
    other = client.post(
        "/api/v1/test/notes", json={"note": "b"}, headers={**token, "Idempotency-Key": "k1"}
    )
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    bad = client.post(
        "/api/v1/test/notes", json={"note": "b"}, headers={**token, "Idempotency-Key": "k" * 129}
    )
    assert bad.status_code == 400 and bad.json()["code"] == "idempotency_key_invalid"


# --- limits and malformed input -------------------------------------------------------------


def test_an_oversized_body_is_refused_with_413(client: TestClient) -> None:
    big = b'{"mobile": "' + b"1" * (1 << 20) + b'"}'
    declared = client.post(
        "/api/v1/auth/otp", content=big, headers={"Content-Type": "application/json"}
    )
    assert declared.status_code == 413
    assert declared.json() == {"code": "request_too_large", "message": "请求体过大", "detail": {}}

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams in
        yield b'{"mobile": "'
        for _ in range(20):
            yield b"1" * 65536
        yield b'"}'

    streamed = client.post(
        "/api/v1/auth/otp",
        content=chunks(),
        headers={"Content-Type": "application/json", "Accept-Language": "en"},
    )
    assert streamed.status_code == 413
    assert streamed.json()["code"] == "request_too_large"
    assert streamed.json()["message"] == "Request body too large"


@pytest.mark.parametrize(
    "content",
    [
        b"{",
        b"[]",
        b'"x"',
        b"null",
        b'{"mobile": 13812345678}',
        b'{"mobile": "13812345678", "x": 1}',
        b'{"mobile": "' + b"1" * 50 + b'"}',
        b"\xff\xfe",
        b"",
    ],
)
def test_malformed_bodies_are_422_request_invalid(client: TestClient, content: bytes) -> None:
    answer = client.post(
        "/api/v1/auth/otp", content=content, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "request_invalid"
    assert answer.json()["message"] == "请求格式不正确"


def test_nothing_odd_gets_a_500(client: TestClient, ctx: Context) -> None:
    register(ctx)
    token = person_token(ctx)
    odd: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/api/v1/auth/otp", {"json": {"mobile": "1" * 11}}),
        ("POST", "/api/v1/auth/otp", {"json": {"mobile": "１３８１２３４５６７８"}}),
        ("POST", "/api/v1/auth/login", {"json": {"mobile": MOBILE, "code": "１２３４５６"}}),
        (
            "POST",
            "/api/v1/auth/login",
            {"json": {"mobile": MOBILE, "code": "123456", "psn_no": "P1"}},
        ),
        (
            "POST",
            "/api/v1/auth/operator-login",
            {"json": {"name": "x" * 64, "password": "p", "totp": "1"}},
        ),
        ("POST", "/api/v1/auth/logout", {"headers": bearer("x" * 100)}),
        ("GET", "/api/v1/me", {"headers": {"Authorization": "Bearer éé".encode()}}),
        (
            "POST",
            "/api/v1/test/notes",
            {"json": {"note": "n"}, "headers": {**bearer(token), "Idempotency-Key": "é".encode()}},
        ),
        (
            "POST",
            "/api/v1/auth/otp",
            {"content": b"x" * 10, "headers": {"Content-Type": "text/plain"}},
        ),
        ("DELETE", "/api/v1/me", {}),
        ("GET", "/api/v1/nowhere", {}),
    ]
    for method, url, options in odd:
        answer = client.request(method, url, **options)
        assert answer.status_code < 500, (method, url, answer.text)
        if answer.status_code >= 400:
            assert set(answer.json()) == {"code", "message", "detail"}, answer.text
