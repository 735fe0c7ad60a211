"""`require_institution`: the FastAPI dependency for routes designated institutions call.

It reads the raw body (Starlette keeps it, so the route still parses it), takes the path as
sent (percent-encoding untouched, plus ``?query`` when there is one) and verifies the request's
signature (identity.service.signing, docs/signing.md). The database work runs in the thread pool:
an async dependency must not block the event loop. ``require_institution`` spends the request's
nonce at once; ``verify_institution`` leaves that to the route's own write transaction, and
leaves a way to spend it in ``request.state`` for a request that never reaches the route (its
body fails validation: :func:`spend_unused_nonce`).
"""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from gongji.api.deps import get_context
from gongji.identity.service import signing
from gongji.kernel.context import Actor, Context


def signed_target(request: Request) -> str:
    """The request target the client signed: the raw path, then ``?`` and the raw query."""
    raw_path = request.scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else request.scope["path"]
    path = path.split("?", 1)[0]  # some servers put the query into raw_path as well
    query = request.scope.get("query_string", b"").decode("latin-1")
    return f"{path}?{query}" if query else path


async def verify_institution(
    request: Request, ctx: Annotated[Context, Depends(get_context)]
) -> signing.Verified:
    """The signing institution, its nonce not spent yet: for a route that spends it in its own
    write transaction with ``signing.run_signed_write``."""
    body = await request.body()
    verified = await run_in_threadpool(
        signing.verify, ctx, request.method, signed_target(request), body, request.headers
    )
    request.state.unused_nonce = partial(signing.spend_alone, ctx, verified)
    return verified


async def spend_unused_nonce(request: Request) -> None:
    """Spend the nonce of a verified request that is refused before its route runs; raises
    ``SignatureReplayed`` if it was spent already (the request is a replay)."""
    spend = getattr(request.state, "unused_nonce", None)
    if spend is not None:
        request.state.unused_nonce = None
        await run_in_threadpool(spend)


async def require_institution(
    request: Request, ctx: Annotated[Context, Depends(get_context)]
) -> Actor:
    """The signing institution as an ``Actor(ActorKind.INSTITUTION, code)``, or a refusal."""
    body = await request.body()
    return await run_in_threadpool(
        signing.authenticate, ctx, request.method, signed_target(request), body, request.headers
    )
