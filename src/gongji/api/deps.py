"""FastAPI dependencies: the container, the context, and who is asking.

Dependencies that do no IO are ``async``: FastAPI runs a plain ``def`` one in the thread pool, a
hand-off dearer than the function. Those that read the database stay ``def``.

Routes name the actor they need (``require_person``, ``require_permission(Permission.…)`` for
operators, by the matrix of ``kernel/permissions.py``); the services still check ownership of
every object they touch. ``admin`` passes every role check.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from gongji.identity.service import identity
from gongji.kernel.context import Actor, ActorKind, Context, Role
from gongji.kernel.errors import Forbidden
from gongji.kernel.permissions import Permission, operator_may

if TYPE_CHECKING:  # built above every area; FastAPI never sees it in a signature
    from gongji.bootstrap import Container

_BEARER = HTTPBearer(
    auto_error=False,
    description="A token from POST /api/v1/auth/login or /api/v1/auth/operator-login",
)


def container_of(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


def client_address(request: Request) -> str | None:
    """The peer's address: the proxy's own unless GONGJI_TRUST_PROXY put the client's there
    (the app then reads ``X-Forwarded-For``, see ``app.asgi``)."""
    return request.client.host if request.client is not None else None


async def get_context(request: Request) -> Context:
    return container_of(request).context


async def bearer_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
) -> str:
    """The token of an ``Authorization: Bearer …`` header, or ``unauthorized``."""
    if credentials is None or not credentials.credentials:
        raise identity.Unauthorized()
    return credentials.credentials


def current_actor(
    ctx: Annotated[Context, Depends(get_context)],
    token: Annotated[str, Depends(bearer_token)],
) -> Actor:
    """The actor behind a live bearer token (read in a transaction of its own)."""
    return identity.resolve_token(ctx, ctx.engine, token)


async def require_person(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
    if actor.kind is not ActorKind.PERSON:
        raise Forbidden()
    return actor


def require_operator(*roles: Role) -> Callable[[Actor], Awaitable[Actor]]:
    """An operator holding any of ``roles`` (or ``admin``); none given means any operator."""
    wanted = frozenset(roles)

    async def dependency(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
        if actor.kind is not ActorKind.OPERATOR:
            raise Forbidden()
        if Role.ADMIN in actor.roles or not wanted or actor.roles & wanted:
            return actor
        raise Forbidden()

    return dependency


def require_permission(permission: Permission) -> Callable[[Actor], Awaitable[Actor]]:
    """An operator whose roles grant ``permission`` in the matrix (docs/backoffice.md)."""

    async def dependency(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
        if not operator_may(actor, permission):
            raise Forbidden()
        return actor

    return dependency
