"""The app's front door: the institutions' signed traffic served past FastAPI's stack and router.

Issue 20 asks for at most 1 ms of server CPU per settlement. Between the server and the route's
handler FastAPI puts about a dozen ASGI layers (its telemetry check, its error, telemetry,
body-limit and exit-stack middleware, DoorGuard, the router's matching over every included
router, the route's own wrappers), most of them wrapping ``send`` once more: skipping them saves
0.08 ms of CPU a settlement, about 5 % (docs/benchmarks.md), none of it work a signed write
needs.
:class:`FrontDoorApp` is FastAPI with an exact ``(method, path)`` look-up in front of it all
that hands each request a :class:`DirectRoute` included in the app serves straight to its lane:
the REST settlement (``POST /api/v1/settlements``, api/signed_write_route.py) and the national
interface's messages at each exact path they answer (fsi/http/routes.py). Everything else (any
other method or path, a trailing slash, a ``root_path``, lifespan, websockets) goes to FastAPI
unchanged. The routes stay declared in FastAPI: the OpenAPI document is the same.

A lane is the app's own middleware (all of it but :data:`NOT_ON_DIRECT_LANES`, in the same
order: ``ProxyHeadersMiddleware`` when configured, ``BodySizeLimit`` with its configured limit,
``UnexpectedErrors``), then Starlette's ``ExceptionMiddleware`` with the app's exception
handlers, as FastAPI builds it, then the route's handler. So a client cannot tell which way it
was served: 413 ``request_too_large``, refusals in Chinese or English, 422 ``request_invalid``
(the nonce spent once, by the route), 500 ``internal_error`` are answered by the same code.
What the lane leaves out cannot answer a signed write (nor a national-interface message, which
answers every refusal in its own envelope): ServerErrorMiddleware's 500
(``UnexpectedErrors`` answers first), FastAPI's body limit (none set: :class:`BodySizeLimit` is
the app's), the exit stacks of dependencies with ``yield`` (the handler solves none), and
FastAPI's native OpenTelemetry (gongji configures none: a settlement would not be traced).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final, Protocol, runtime_checkable

from fastapi import APIRouter, FastAPI
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.types import ASGIApp, ExceptionHandler, Receive, Scope, Send

from gongji.api.doors import DoorGuard

NOT_ON_DIRECT_LANES: Final = (DoorGuard,)
"""Middleware that cannot concern a direct lane: DoorGuard guards the anonymous doors only."""

Lanes = Mapping[tuple[str, str], ASGIApp]


@runtime_checkable
class DirectRoute(Protocol):
    """A route some of whose requests the front door serves straight to an app of its own."""

    def direct_lanes(self) -> Iterable[tuple[str, str, ASGIApp]]:
        """(method, path, app) of each exact request served so; the path as the route's
        router declares it (the prefix it is included under goes in front)."""
        ...


class FrontDoorApp(FastAPI):
    """FastAPI whose included direct routes are served straight from :meth:`__call__`: before
    FastAPI's own, which asks on every request whether OpenTelemetry is configured (environment
    variables and the global providers, about 5 µs)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.direct_routes: list[tuple[str, DirectRoute]] = []
        self.lanes: Lanes = {}
        """Built with FastAPI's stack, on the first request (lifespan's startup under a server)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Under a root_path Starlette matches the path without its prefix: left to the router.
        if scope["type"] == "http" and not scope.get("root_path"):
            lane = self.lanes.get((scope["method"], scope["path"]))
            if lane is not None:
                scope["app"] = self  # as Starlette sets it: the route finds the container there
                await lane(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    def include_router(self, router: APIRouter, *, prefix: str = "", **options: Any) -> None:
        """Include ``router``; its direct routes get their lanes. A lane's method and path are
        its route's own (no route before it takes them, as the router would otherwise serve
        that one): tests/e2e/test_front_door.py compares the answers with and without the
        lanes."""
        super().include_router(router, prefix=prefix, **options)
        self.direct_routes.extend(
            (prefix, route) for route in router.routes if isinstance(route, DirectRoute)
        )

    def build_middleware_stack(self) -> ASGIApp:
        if self.max_body_size is not None:
            raise TypeError("the app's body limit is BodySizeLimit: a direct lane would skip it")
        if not self.root_path:
            lanes: dict[tuple[str, str], ASGIApp] = {}
            for prefix, route in self.direct_routes:
                for method, path, app in route.direct_lanes():
                    if (method, prefix + path) in lanes:
                        raise TypeError(f"two direct lanes for {method} {prefix + path}")
                    lanes[method, prefix + path] = self._lane(app)
            self.lanes = lanes
        return super().build_middleware_stack()

    def _lane(self, app: ASGIApp) -> ASGIApp:
        """A route's direct app behind its own instances of the app's middleware: a middleware
        that counts in itself (as DoorGuard counts requests in flight) would count each lane
        apart."""
        handlers = self._route_handlers()
        lane: ASGIApp = ExceptionMiddleware(app, handlers=handlers, debug=self.debug)
        for cls, args, kwargs in reversed(self.user_middleware):
            if cls not in NOT_ON_DIRECT_LANES:
                lane = cls(lane, *args, **kwargs)
        return lane

    def _route_handlers(self) -> dict[Any, ExceptionHandler]:
        """The handlers FastAPI gives its ExceptionMiddleware (500 and ``Exception`` go to its
        ServerErrorMiddleware; the app registers none)."""
        return {
            key: handler
            for key, handler in self.exception_handlers.items()
            if key not in (500, Exception)
        }
