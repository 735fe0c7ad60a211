"""A limit on request bodies (1 MiB unless configured): ``413 request_too_large``.

Checked twice: a declared ``Content-Length`` over the limit is refused before the application
runs, and the bytes actually received are counted, for chunked bodies and for clients that
declare less than they send. A plain ASGI middleware (not ``BaseHTTPMiddleware``) so that the
body is streamed through, never buffered here.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gongji.api.errors import error_body, language_of

REQUEST_BODY_MAX_BYTES = 1 << 20
_TOO_LARGE = 413


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = REQUEST_BODY_MAX_BYTES) -> None:
        if max_bytes < 0:
            raise ValueError("the request body limit cannot be negative")
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Re-raised by FastAPI's body reader, answered by the app's handlers.
                    raise HTTPException(_TOO_LARGE)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except HTTPException as error:
            # Raised outside any route (nothing handled it): answer here if still possible.
            if error.status_code != _TOO_LARGE or started:
                raise
            await _refuse(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


async def _refuse(scope: Scope, receive: Receive, send: Send) -> None:
    english = language_of(Request(scope)) == "en"
    message = "Request body too large" if english else "请求体过大"
    response = JSONResponse(error_body("request_too_large", message), status_code=_TOO_LARGE)
    await response(scope, receive, send)
