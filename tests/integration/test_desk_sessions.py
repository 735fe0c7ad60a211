"""Desk sessions (identity.service.desk_sessions), on both databases: the institution's own key
opens the desk, nothing else does, and revoking the key or signing out ends the session. A desk
token is never an API bearer token.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from gongji.core.clock import ManualClock
from gongji.core.errors import GongjiError
from gongji.identity.service import desk_sessions, identity
from gongji.institutions.service import institutions
from gongji.kernel.context import Actor, ActorKind, Context
from gongji.store.uow import run_in_transaction
from support.desk import HOSPITAL, PHARMACY, open_desks
from support.world import run


def _refused(ctx: Context, key_id: str, secret: str) -> str:
    with pytest.raises(GongjiError) as refused:
        run(ctx, lambda uow: desk_sessions.desk_login(ctx, uow, key_id, secret))
    return refused.value.code


def _resolve(ctx: Context, token: str) -> Actor:
    return run_in_transaction(
        ctx.engine, lambda uow: desk_sessions.resolve_desk_token(ctx, uow, token), read_only=True
    )


def test_the_key_opens_the_desk_and_only_it(ctx: Context, clock: ManualClock) -> None:
    open_desks(ctx)
    pharmacy = run(ctx, lambda uow: institutions.issue_credentials(ctx, uow, PHARMACY))
    hospital = run(ctx, lambda uow: institutions.issue_credentials(ctx, uow, HOSPITAL))

    assert _refused(ctx, pharmacy.key_id, hospital.secret) == "desk_login_failed"
    assert _refused(ctx, pharmacy.key_id, "") == "desk_login_failed"
    assert _refused(ctx, f"{PHARMACY}.0000000000000000", pharmacy.secret) == "desk_login_failed"
    assert _refused(ctx, "x" * 65, pharmacy.secret) == "desk_login_failed"

    issued = run(
        ctx, lambda uow: desk_sessions.desk_login(ctx, uow, pharmacy.key_id, pharmacy.secret)
    )
    assert issued.subject == PHARMACY and issued.kind is ActorKind.INSTITUTION
    assert _resolve(ctx, issued.token) == Actor(ActorKind.INSTITUTION, PHARMACY)
    with pytest.raises(identity.Unauthorized):  # not an API bearer token
        identity.resolve_token(ctx, ctx.engine, issued.token)

    name = _operator(ctx)
    staff = run(ctx, lambda uow: identity.issue_operator_token(ctx, uow, name))
    with pytest.raises(identity.Unauthorized):  # and no other token opens the desk
        _resolve(ctx, staff.token)

    clock.advance(timedelta(microseconds=desk_sessions.DESK_TOKEN_TTL_US + 1))
    with pytest.raises(identity.Unauthorized):
        _resolve(ctx, issued.token)


def test_revoking_the_key_or_signing_out_ends_the_session(ctx: Context) -> None:
    open_desks(ctx)
    key = run(ctx, lambda uow: institutions.issue_credentials(ctx, uow, PHARMACY))

    def sign_in() -> str:
        return run(
            ctx, lambda uow: desk_sessions.desk_login(ctx, uow, key.key_id, key.secret)
        ).token

    first, second = sign_in(), sign_in()
    assert run(ctx, lambda uow: desk_sessions.desk_logout(ctx, uow, first)) is True
    assert run(ctx, lambda uow: desk_sessions.desk_logout(ctx, uow, first)) is False
    with pytest.raises(identity.Unauthorized):
        _resolve(ctx, first)
    assert _resolve(ctx, second).id == PHARMACY

    run(ctx, lambda uow: institutions.revoke_credentials(ctx, uow, key.key_id))
    with pytest.raises(identity.Unauthorized):
        _resolve(ctx, second)
    assert _refused(ctx, key.key_id, key.secret) == "desk_login_failed"


def _operator(ctx: Context) -> str:
    run(ctx, lambda uow: identity.create_operator(ctx, uow, "op-desk", ["clerk"], None, None))
    return "op-desk"
