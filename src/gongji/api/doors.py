"""The anonymous doors' guard, in front of the application: a flood of sign-in attempts, code
requests or unauthenticated ledger checks is refused in the event loop, before routing, body
parsing or a worker thread, so it cannot take the threads the institutions' settlements need.

Two limits, both answered at once with ``429 rate_limited``:

- per client address, ``Limits.door_requests_per_address_per_second`` and ``…_per_minute``
  requests to the anonymous doors (the services count attempts per address and account again,
  behind it). These counts are the process's own (``Context.door_limiter``, in memory): the
  guard runs in the event loop, which must not wait on a database round trip. With
  ``--workers N`` a client may pass N times this pre-filter, but the services' counts behind
  it, and the argon2 budget, are shared by every worker on PostgreSQL (kernel/shared_ratelimit);
- at most ``Limits.door_requests_in_flight`` such requests being worked on at
  once, whoever sends them: the rest of the server keeps its worker threads.

A refusal is answered after :data:`REFUSAL_DELAY_S` (a timer in the event loop, no thread):
a client looping a door on a connection is slowed to one request a second per connection,
instead of being answered as fast as it can ask, which alone kept the server busy.

A page's form (``/login``, ``/desk/login`` …) is answered with a small page in Chinese and a
link back, not with the API's JSON: a person who pressed 登录 twice must not meet raw JSON.

A plain ASGI middleware (not ``BaseHTTPMiddleware``): nothing is buffered, and a request that
is not at a door costs one set look-up.
"""

from __future__ import annotations

import asyncio
from html import escape
from typing import Final

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gongji.api.errors import error_body, language_of
from gongji.kernel.context import Context
from gongji.kernel.ratelimit import RateLimited

DOORS: Final = frozenset(
    {
        ("POST", "/api/v1/auth/otp"),
        ("POST", "/api/v1/auth/login"),
        ("POST", "/api/v1/auth/operator-login"),
        ("POST", "/login/code"),
        ("POST", "/login"),
        ("POST", "/admin/login"),
        ("POST", "/desk/login"),
    }
)
REFUSAL_DELAY_S: Final = 1.0
UNSIGNED_DOORS: Final = frozenset({("GET", "/api/v1/ledger/check")})
"""Doors only when no token is presented (an operator's poll passes)."""


class DoorGuard:
    def __init__(self, app: ASGIApp, ctx: Context) -> None:
        self.app = app
        self.ctx = ctx
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _at_a_door(scope):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else "unknown"
        limits = self.ctx.limits
        try:
            self.ctx.door_limiter.admit_all(
                [
                    (f"door second:{address}", limits.door_requests_per_address_per_second, 1.0),
                    (f"door minute:{address}", limits.door_requests_per_address_per_minute, 60.0),
                ]
            )
        except RateLimited as refused:
            await _refuse(scope, receive, send, refused)
            return
        if self.in_flight >= limits.door_requests_in_flight:
            await _refuse(scope, receive, send, RateLimited(retry_after_s=1))
            return
        self.in_flight += 1  # one event loop: no lock needed between the check and the count
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


def _at_a_door(scope: Scope) -> bool:
    key = (scope.get("method", ""), scope.get("path", ""))
    if key in DOORS:
        return True
    if key in UNSIGNED_DOORS:
        return not any(name == b"authorization" for name, _ in scope.get("headers", ()))
    return False


async def _refuse(scope: Scope, receive: Receive, send: Send, refused: RateLimited) -> None:
    await asyncio.sleep(REFUSAL_DELAY_S)
    language = language_of(Request(scope))
    headers = {"Retry-After": str(refused.detail.get("retry_after_s", 1))}
    path = str(scope.get("path", ""))
    answer: Response
    if path.startswith("/api/"):
        body = error_body(refused.code, refused.message(language), refused.detail)
        answer = JSONResponse(body, status_code=429, headers=headers)
    else:
        answer = HTMLResponse(_page(refused.message("zh"), path), status_code=429, headers=headers)
    await answer(scope, receive, send)


def _page(message: str, back: str) -> str:
    """The refusal as a page: the form's own path (a door, from the fixed set above) to go back."""
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>请稍后再试</title></head><body>"
        f'<p role="alert">{escape(message)}</p><p><a href="{escape(back)}">返回重试</a></p>'
        "</body></html>"
    )
