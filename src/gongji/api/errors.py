"""Turning refusals into ``{"code", "message", "detail"}`` answers, in Chinese or English.

Only here does a code become an HTTP status. Anything unexpected becomes a 500 with code
``internal_error`` and no traceback in the body (the traceback goes to the log).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gongji.api.institution_auth import spend_unused_nonce
from gongji.api.json_answer import JsonAnswer
from gongji.core.errors import GongjiError

log = logging.getLogger("gongji.api")

# Codes that are not 400. Everything else a GongjiError says is the caller's input: 400 or 422.
STATUS_BY_CODE: dict[str, int] = {
    "not_found": 404,
    "unauthorized": 401,
    "forbidden": 403,
    "idempotency_key_in_use": 409,
    "idempotency_key_reused": 422,
    "request_too_large": 413,
    "otp_rate_limited": 429,
    "rate_limited": 429,
    "operator_locked": 429,
    "import_refused": 422,
    "signature_missing": 401,
    "signature_expired": 401,
    "signature_key_unknown": 401,
    "signature_invalid": 401,
    "signature_replayed": 401,
    "login_failed": 401,
    "clearing_month_open": 409,
    "premium_already_paid": 409,
    "payment_password_required": 403,
    "payment_password_not_set": 403,
    "payment_password_wrong": 403,
    "payment_password_locked": 429,
    "payment_reset_refused": 403,
    "guardian_not_allowed": 403,
    "guardian_consent_exists": 409,
    "settlement_request_reused": 422,
    "settlement_already_reversed": 409,
    "risk_alert_unknown": 404,
    "risk_case_unknown": 404,
    "risk_alert_in_case": 409,
    "risk_case_step_refused": 409,
}

_HTTP_MESSAGES = {
    # FastAPI's answer to a body it could not parse other than a JSON syntax error (a number of
    # more digits than Python converts, nesting deeper than it recurses): as malformed as one.
    400: ("request_invalid", "请求格式不正确", "The request is malformed"),
    404: ("not_found", "未找到请求的资源", "Not found"),
    405: ("method_not_allowed", "不支持该请求方法", "Method not allowed"),
    413: ("request_too_large", "请求体过大", "Request body too large"),
}


def language_of(request: Request) -> str:
    header = request.headers.get("accept-language", "")
    first = header.split(",", 1)[0].strip().lower()
    return "en" if first.startswith("en") else "zh"


def error_body(code: str, message: str, detail: Any = None) -> dict[str, Any]:
    return {"code": code, "message": message, "detail": detail or {}}


def refusal_response(request: Request, error: GongjiError) -> JsonAnswer:
    status = STATUS_BY_CODE.get(error.code, 400)
    return JsonAnswer(dict(error.as_dict(language_of(request))), status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GongjiError)
    async def _refusal(request: Request, error: GongjiError) -> JsonAnswer:
        return refusal_response(request, error)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JsonAnswer:
        try:  # a signed body that the route never read spends its nonce all the same
            await spend_unused_nonce(request)
        except GongjiError as refusal:  # signature_replayed: a copy came first
            return refusal_response(request, refusal)
        english = language_of(request) == "en"
        message = "The request is malformed" if english else "请求格式不正确"
        fields = [
            {"loc": [str(p) for p in item.get("loc", ())], "type": item.get("type")}
            for item in error.errors()
        ]
        return JsonAnswer(error_body("request_invalid", message, {"fields": fields}), 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JsonAnswer:
        code, zh, en = _HTTP_MESSAGES.get(error.status_code, ("http_error", "请求失败", "Failed"))
        message = en if language_of(request) == "en" else zh
        return JsonAnswer(error_body(code, message), error.status_code)

    app.add_middleware(UnexpectedErrors)


class UnexpectedErrors:
    """Anything unexpected → ``500 internal_error``, the traceback in the log only.

    A plain ASGI middleware rather than an ``Exception`` handler: Starlette re-raises after such
    a handler has answered, and the server then closes the connection, so a client's keep-alive
    connection (and every request pipelined on it) would die with one bad request.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            request = Request(scope)
            log.exception("unexpected error on %s %s", request.method, request.url.path)
            if started:  # half an answer cannot be mended: the server closes the connection
                raise
            english = language_of(request) == "en"
            message = "Internal error; it has been logged" if english else "系统内部错误，已记录"
            response = JsonAnswer(error_body("internal_error", message), 500)
            await response(scope, receive, send)
