"""The route class of a signed institution write that is hot (``POST /api/v1/settlements``):
FastAPI describes it, a lean handler serves it.

The route is declared as usual, ``def endpoint(body: Model, signed: Signed, ctx: Ctx)``, so the
OpenAPI document shows its body and answers as for any other route. Serving it, the handler
does by hand what FastAPI's dependency and validation layers would do, in the same order and
with the same refusals, but without solving the dependencies on every request and with one
hand-off to a worker thread instead of two:

1. the body is read and, when sent as JSON, decoded (``422 request_invalid``, ``json_invalid``,
   before the signature is looked at, as FastAPI does);
2. in one worker thread, of the route's own few (``Limits.settlement_threads``; the other
   requests wait in its queue, holding no thread: api/lane_threads.py): the signature is
   verified, its nonce not spent (``identity.service.signing.verify``: ``401 signature_…``);
   the body is validated against the declared model (``422 request_invalid``, the nonce then
   spent alone, as ``api.errors`` does for a route's own validation); the endpoint runs and
   spends the nonce in its write transaction (``signing.run_signed_write``).

Refusals are raised to the app's one set of handlers (api/errors.py), which answers them as
for any route. The app's front door (api/front_door.py) serves the route by :meth:`direct_app`,
past FastAPI's stack and router.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, Final

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gongji.api.deps import container_of
from gongji.api.institution_auth import signed_target
from gongji.api.lane_threads import LaneThreads
from gongji.identity.service import signing
from gongji.kernel.context import Context

ENDPOINT_PARAMETERS: Final = ("body", "signed", "ctx")
_BODY_LOC: Final = ("body",)
_ABSENT: Final = object()
"""No body at all: refused once the signature is known good, as FastAPI does."""
_MISSING: Final = ({"type": "missing", "loc": _BODY_LOC, "msg": "Field required", "input": None},)


class SignedWriteRoute(APIRoute):
    """A signed write whose endpoint takes exactly ``body``, ``signed`` and ``ctx``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        names = tuple(inspect.signature(self.endpoint).parameters)
        if names != ENDPOINT_PARAMETERS or self.body_field is None:
            raise TypeError(f"a signed write's endpoint takes {ENDPOINT_PARAMETERS}, not {names}")
        endpoint: Callable[..., Response] = self.endpoint
        validate = self.body_field.validate

        def serve(ctx: Context, request: _Sent, received: object) -> Response:
            verified = signing.verify(
                ctx, request.method, request.target, request.raw, request.headers
            )
            if received is _ABSENT:
                body, errors = None, list(_MISSING)
            else:
                body, errors = validate(received, loc=_BODY_LOC)
            if errors:
                signing.spend_alone(ctx, verified)  # signature_replayed: a copy came first
                raise RequestValidationError(errors)
            return endpoint(body=body, signed=verified, ctx=ctx)

        lane: LaneThreads = self.__dict__.setdefault("_gongji_lane", LaneThreads())  # asked twice

        async def handle(request: Request) -> Response:
            raw = await request.body()
            received = _decoded(raw, request.headers.get("content-type"))
            sent = _Sent(request.method, signed_target(request), raw, request.headers)
            ctx = container_of(request).context
            return await lane.run(ctx.limits.settlement_threads, serve, ctx, sent, received)

        return handle

    def direct_lanes(self) -> list[tuple[str, str, ASGIApp]]:
        """The route's method and path, served by :meth:`direct_app` (api/front_door.py)."""
        app = self.direct_app()
        return [(method, self.path, app) for method in self.methods or ()]

    def direct_app(self) -> ASGIApp:
        """The route as a plain ASGI app, for the front door: its handler and the answer, without
        the exit stacks FastAPI opens per request for dependencies with ``yield`` (the handler
        solves no dependency). Exceptions are left to the caller's handlers."""
        handle = self.get_route_handler()

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            response = await handle(Request(scope, receive, send))
            await response(scope, receive, send)

        return app


@dataclass(frozen=True, slots=True)
class _Sent:
    """What the signature covers, read in the event loop and checked in the worker thread."""

    method: str
    target: str
    raw: bytes
    headers: Mapping[str, str]


def _decoded(raw: bytes, content_type: str | None) -> object:
    """The body as FastAPI hands it to validation: absent, decoded JSON, or the bytes of a body
    not sent as JSON (``application/json`` or ``…+json``, which the model refuses); JSON that
    does not decode is refused at once, and so is JSON the decoder will not build: a number of
    more digits than Python converts (``ValueError``), nesting deeper than it recurses."""
    if not raw:
        return _ABSENT
    media = (content_type or "").split(";", 1)[0].strip().lower()
    maintype, _, subtype = media.partition("/")
    if maintype != "application" or not (subtype == "json" or subtype.endswith("+json")):
        return raw
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as error:  # JSONDecodeError is a ValueError
        at, why = (error.pos, error.msg) if isinstance(error, json.JSONDecodeError) else (0, "")
        failure = {
            "type": "json_invalid",
            "loc": ("body", at),
            "msg": "JSON decode error",
            "input": {},
            "ctx": {"error": why or type(error).__name__},
        }
        raise RequestValidationError([failure]) from error
