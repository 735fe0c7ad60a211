"""/api/v1/premiums for insured persons: pay a relative's premium (代缴, docs/rules.md §9), and list
the premiums I paid or that were paid for me.

A payment is a write like every other (Idempotency-Key, one transaction, the stored answer);
paying the same person, year and kind again under a new key is ``premium_already_paid`` (409).
The amount is not sent: it is the policy's for the insured person's region and year. The payer's
payment password is checked first (docs/rules.md §16).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from gongji.api.deps import get_context, require_person
from gongji.api.reads import read
from gongji.api.schemas import PsnNo, WholeNumber, iso
from gongji.api.schemas import Request as Body
from gongji.api.writes import write
from gongji.core.money import format_yuan
from gongji.identity.service import payment_password
from gongji.kernel.context import Actor, Context
from gongji.mutual_aid.domain.premiums import PremiumKind, PremiumSource
from gongji.mutual_aid.http.schemas import PaymentPasswordIn, without_secrets
from gongji.mutual_aid.service import premiums
from gongji.mutual_aid.store.premiums_repo import PremiumRow
from gongji.store.uow import UnitOfWork

router = APIRouter(prefix="/api/v1/premiums", tags=["premiums"])
Person = Annotated[Actor, Depends(require_person)]
Ctx = Annotated[Context, Depends(get_context)]


class PayPremiumIn(Body):
    psn_no: PsnNo  # whose premium: a verified relative, or myself when paying from grants
    year: Annotated[WholeNumber, Field(ge=2000, le=2100)]
    kind: PremiumKind
    source: PremiumSource
    payment_password: PaymentPasswordIn = None


class PremiumDrawOut(BaseModel):
    kind: str
    source_id: str
    amount: str


class PremiumOut(BaseModel):
    psn_no: str
    year: int
    kind: str
    payer: str
    source: str
    region: str
    amount: str
    paid_at: str | None
    draws: list[PremiumDrawOut] | None = None

    @classmethod
    def of(cls, row: PremiumRow, draws: list[PremiumDrawOut] | None = None) -> PremiumOut:
        return cls(
            psn_no=row.psn_no,
            year=row.year,
            kind=row.kind,
            payer=row.payer,
            source=row.source,
            region=row.region,
            amount=format_yuan(row.amount_fen),
            paid_at=iso(row.paid_at_us),
            draws=draws,
        )


@router.post(
    "", response_model=PremiumOut, status_code=201, summary="Pay a premium for a year (代缴)"
)
def pay_premium(body: PayPremiumIn, request: Request, person: Person, ctx: Ctx) -> JSONResponse:
    payment_password.confirm_payment(ctx, person, body.payment_password)
    order = premiums.PremiumOrder(body.psn_no, body.year, body.kind, body.source)

    def command(ctx: Context, uow: UnitOfWork) -> PremiumOut:
        paid = premiums.pay(ctx, uow, person, order)
        draws = [
            PremiumDrawOut(kind=d.kind, source_id=d.source_id, amount=format_yuan(d.amount_fen))
            for d in paid.draws
        ]
        return PremiumOut.of(paid.row, draws)

    return write(request, person, "premiums.pay", without_secrets(body), command, status_code=201)


@router.get("", response_model=list[PremiumOut], summary="Premiums I paid or that were paid for me")
def list_premiums(person: Person, ctx: Ctx) -> list[PremiumOut]:
    return [
        PremiumOut.of(row) for row in read(ctx, lambda uow: premiums.premiums_of(uow, person.id))
    ]
