"""/api/v1 for the payment password (支付密码, docs/rules.md §16) and guardian mode (亲情账户,
§17), for the person behind the bearer token.

Setting, changing and resetting the password run their own transactions (argon2 must not run
inside one), not :func:`gongji.api.writes.write`: the request would otherwise be hashed into an
idempotency fingerprint with the password in it. They are idempotent by their result — the same
password set twice is the same password. Consents are ordinary writes (Idempotency-Key).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from gongji.api.deps import get_context, require_person
from gongji.api.reads import read
from gongji.api.schemas import iso
from gongji.api.writes import write
from gongji.identity.service import payment_password
from gongji.kernel.context import Actor, Context
from gongji.mutual_aid.http.schemas import (
    ConsentIn,
    ConsentOut,
    GuardiansOut,
    PinResetIn,
    PinSetIn,
    PinStatusOut,
    ResetCodeOut,
    VoucherOut,
    WalletViewOut,
)
from gongji.mutual_aid.service import guardians
from gongji.people.service.credentials_lookup import EC_TOKEN_VALID_S
from gongji.store.uow import UnitOfWork, run_in_transaction

router = APIRouter(prefix="/api/v1", tags=["wallet"])
Person = Annotated[Actor, Depends(require_person)]
Ctx = Annotated[Context, Depends(get_context)]


def _status(ctx: Context, person: Actor) -> PinStatusOut:
    found = read(ctx, lambda uow: payment_password.status(ctx, uow, person.id))
    return PinStatusOut(
        is_set=found.is_set,
        required=found.required,
        locked_until=iso(found.locked_until_us),
        set_at=iso(found.set_at_us),
    )


@router.get("/payment-password", response_model=PinStatusOut, summary="My payment password's state")
def get_payment_password(person: Person, ctx: Ctx) -> PinStatusOut:
    return _status(ctx, person)


@router.put(
    "/payment-password",
    response_model=PinStatusOut,
    summary="Set my payment password, or change it with the current one",
)
def set_payment_password(body: PinSetIn, person: Person, ctx: Ctx) -> PinStatusOut:
    payment_password.set_pin(
        ctx,
        person,
        body.new_payment_password,
        body.repeat_payment_password,
        body.current_payment_password,
    )
    return _status(ctx, person)


@router.post(
    "/payment-password/reset-code",
    response_model=ResetCodeOut,
    summary="Send a code to reset my payment password to my registered mobile",
)
def reset_code(person: Person, ctx: Ctx) -> ResetCodeOut:
    sent = payment_password.run_request_reset(ctx, person)
    return ResetCodeOut(mobile_masked=sent.mobile_masked, expires_at=iso(sent.expires_at_us))


@router.post(
    "/payment-password/reset",
    response_model=PinStatusOut,
    summary="Reset my payment password with the SMS code and my ID number",
)
def reset_payment_password(body: PinResetIn, person: Person, ctx: Ctx) -> PinStatusOut:
    payment_password.reset_pin(
        ctx,
        person,
        body.code,
        body.id_number,
        body.new_payment_password,
        body.repeat_payment_password,
    )
    return _status(ctx, person)


def _consent_out(consent: guardians.Consent) -> ConsentOut:
    return ConsentOut(
        id=consent.id,
        relationship_id=consent.relationship_id,
        holder=consent.holder,
        guardian=consent.guardian,
        other_name=consent.other_name,
        granted_at=iso(consent.granted_at_us),
        ended_at=iso(consent.ended_at_us),
        end_reason=consent.end_reason,
    )


@router.get("/guardians", response_model=GuardiansOut, summary="Family access: given and held")
def list_guardians(person: Person, ctx: Ctx) -> GuardiansOut:
    def work(uow: UnitOfWork) -> GuardiansOut:
        return GuardiansOut(
            given=[_consent_out(c) for c in guardians.given_by(uow, person.id)],
            held=[_consent_out(c) for c in guardians.held_by(uow, person.id)],
        )

    return read(ctx, work)


@router.post(
    "/guardians",
    response_model=ConsentOut,
    status_code=201,
    summary="Let the relative of this relationship show my e-voucher and see my wallet",
)
def grant_guardian(body: ConsentIn, request: Request, person: Person) -> JSONResponse:
    return write(
        request,
        person,
        "guardians.grant",
        body,
        lambda ctx, uow: _consent_out(guardians.grant(ctx, uow, person, body.relationship_id)),
        status_code=201,
    )


@router.post(
    "/guardians/{consent_id}/revoke", response_model=ConsentOut, summary="End a family access"
)
def revoke_guardian(consent_id: str, request: Request, person: Person) -> JSONResponse:
    return write(
        request,
        person,
        "guardians.revoke",
        {"id": consent_id},
        lambda ctx, uow: _consent_out(guardians.revoke(ctx, uow, person, consent_id)),
    )


@router.get(
    "/guardians/held/{holder}/wallet",
    response_model=WalletViewOut,
    summary="The wallet of a relative who lets me see it (read-only)",
)
def holder_wallet(holder: str, person: Person, ctx: Ctx) -> WalletViewOut:
    return WalletViewOut.of(read(ctx, lambda uow: guardians.wallet_of(ctx, uow, person, holder)))


@router.post(
    "/guardians/held/{holder}/voucher",
    response_model=VoucherOut,
    summary="A fresh e-voucher of a relative who lets me show it (代出示); recorded in theirs",
)
def holder_voucher(holder: str, person: Person, ctx: Ctx) -> VoucherOut:
    def work(uow: UnitOfWork) -> str:
        token = guardians.show_voucher(ctx, uow, person, holder)
        uow.commit()
        return token

    token = run_in_transaction(ctx.engine, work)
    return VoucherOut(holder=holder, token=token, valid_s=EC_TOKEN_VALID_S)
