"""/api/v1/auth and /api/v1/me: signing in and out, and who the token stands for.

These writes take no Idempotency-Key: their answers carry bearer tokens, which must never be
stored in clear (an idempotency record would keep the answer), and each is safe to repeat by
itself (a code request is rate-limited, a code is single-use, a logout of a revoked token
changes nothing). Mobile numbers only ever leave masked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from gongji.api.deps import bearer_token, client_address, current_actor, get_context
from gongji.api.reads import read
from gongji.api.schemas import PsnNo
from gongji.api.schemas import Request as RequestBody
from gongji.core.clock import from_us
from gongji.identity.service import identity
from gongji.kernel.context import Actor, ActorKind, Context
from gongji.store.uow import UnitOfWork, run_in_transaction

router = APIRouter(prefix="/api/v1", tags=["auth"])
Ctx = Annotated[Context, Depends(get_context)]
SignedIn = Annotated[Actor, Depends(current_actor)]

Mobile = Annotated[str, Field(min_length=1, max_length=20, examples=["13812345678"])]
OneTimeCode = Annotated[str, Field(min_length=1, max_length=12)]
Issue = Callable[[UnitOfWork], identity.IssuedToken]


class OtpIn(RequestBody):
    mobile: Mobile


class OtpOut(BaseModel):
    mobile: str
    expires_at: str


class LoginIn(RequestBody):
    mobile: Mobile
    code: OneTimeCode
    psn_no: PsnNo | None = None


class TokenOut(BaseModel):
    token: str
    expires_at: str
    psn_no: str


class OperatorLoginIn(RequestBody):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=256)]
    totp: OneTimeCode


class OperatorTokenOut(BaseModel):
    token: str
    expires_at: str
    name: str
    roles: list[str]


class MeOut(BaseModel):
    """A person: psn_no, masked name and number. An operator: name, roles, region."""

    kind: str
    psn_no: str | None
    name: str
    mobile: str | None
    roles: list[str]
    region: str | None


def _committed(ctx: Context, work: Issue) -> identity.IssuedToken:
    def run(uow: UnitOfWork) -> identity.IssuedToken:
        issued = work(uow)
        uow.commit()
        return issued

    return run_in_transaction(ctx.engine, run)


@router.post("/auth/otp", response_model=OtpOut, status_code=202, summary="Send a sign-in code")
def request_otp(body: OtpIn, ctx: Ctx, request: Request) -> OtpOut:
    """The same answer whether or not the number is registered; the code goes by SMS."""
    client = client_address(request)

    def work(uow: UnitOfWork) -> identity.CodeRequested:
        requested = identity.request_code(ctx, uow, body.mobile, client=client)
        uow.commit()
        return requested

    requested = run_in_transaction(ctx.engine, work)
    return OtpOut(
        mobile=requested.mobile_masked, expires_at=from_us(requested.expires_at_us).isoformat()
    )


@router.post("/auth/login", response_model=TokenOut, summary="Sign in with the code")
def login(body: LoginIn, ctx: Ctx, request: Request) -> TokenOut:
    client = client_address(request)

    def verify(uow: UnitOfWork) -> identity.IssuedToken:
        try:
            return identity.verify_code(
                ctx, uow, body.mobile, body.code, body.psn_no, client=client
            )
        except identity.CountedRefusal:
            uow.commit()  # the failed attempt must count, though the answer is a refusal
            raise

    issued = _committed(ctx, verify)
    return TokenOut(
        token=issued.token, expires_at=issued.expires_at.isoformat(), psn_no=issued.subject
    )


@router.post("/auth/operator-login", response_model=OperatorTokenOut, summary="Operator sign-in")
def operator_login(body: OperatorLoginIn, ctx: Ctx, request: Request) -> OperatorTokenOut:
    client = client_address(request)
    issued = identity.sign_in_operator(ctx, body.name, body.password, body.totp, client=client)
    return OperatorTokenOut(
        token=issued.token,
        expires_at=issued.expires_at.isoformat(),
        name=issued.subject,
        roles=sorted(role.value for role in issued.roles),
    )


@router.post("/auth/logout", status_code=204, summary="Revoke the token of this request")
def logout(token: Annotated[str, Depends(bearer_token)], _: SignedIn, ctx: Ctx) -> Response:
    def work(uow: UnitOfWork) -> None:
        identity.revoke_token(ctx, uow, token)
        uow.commit()

    run_in_transaction(ctx.engine, work)
    return Response(status_code=204)


@router.get("/me", response_model=MeOut, summary="Who this token stands for")
def me(actor: SignedIn, ctx: Ctx) -> MeOut:
    found = read(ctx, lambda uow: identity.who_am_i(ctx, uow, actor))
    is_person = found.kind is ActorKind.PERSON
    return MeOut(
        kind=found.kind.value,
        psn_no=found.id if is_person else None,
        name=found.name_masked if is_person and found.name_masked else found.id,
        mobile=found.mobile_masked,
        roles=sorted(role.value for role in found.roles),
        region=found.region,
    )
