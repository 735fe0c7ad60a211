"""代缴保费 on a page (docs/rules.md §9, §16): pay a relative's premium for a year — or one's own
from the quotas received — with the payment password, and see the receipt.

The same service as ``POST /api/v1/premiums`` with the same refusals: the amount is never typed
(it is the policy's for the insured person's region and year); the payment is tried first in a
transaction that is rolled back, so a payment that would be refused asks no password; then the
password is checked (refused beside its field, nothing written); then the payment is made once
per confirmation key, so a double tap pays once and shows the same receipt (a key already used
is replayed without trying or asking again: nothing new can be paid under it). The page is a
plain form: it works without a script.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Final

from fastapi import APIRouter, Request
from starlette.responses import Response

from gongji.core.errors import GongjiError
from gongji.identity.service import payment_password
from gongji.kernel import idempotency
from gongji.kernel.context import Context
from gongji.kernel.errors import NotFound
from gongji.mutual_aid.domain.premiums import PremiumKind, PremiumSource
from gongji.mutual_aid.pages.family_pages import RelativeRow, active_relatives
from gongji.mutual_aid.pages.payment_pages import confirm_payment
from gongji.mutual_aid.service import notices, premiums
from gongji.mutual_aid.store.premiums_repo import PremiumRow
from gongji.store.uow import UnitOfWork
from gongji.web import i18n
from gongji.web.forms import FieldError, FieldRequired, commit, dry_run, errors_for, read, required
from gongji.web.render import render, see_other
from gongji.web.routing import WebRoute
from gongji.web.session import PersonPage, PersonPost, Posted, Session, context_of

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PREMIUMS_PATH: Final = "/wallet/premiums"
_FIELDS: Final = {
    "premium_already_paid": "psn_no",
    "premium_insured_not_active": "psn_no",
    "premium_not_applicable": "kind",
    "premium_year_invalid": "year",
    "premium_own_account_for_self": "source",
    "premium_quota_insufficient": "source",
    "insufficient_balance": "source",
    "relationship_not_active": "psn_no",
    "relationship_not_verified": "psn_no",
    "not_found": "psn_no",
}


@dataclass(frozen=True, slots=True)
class PaidRow:
    """A premium I paid or that was paid for me, with the insured person's masked name."""

    row: PremiumRow
    insured_name: str

    @property
    def href(self) -> str:
        return receipt_href(self.row.psn_no, self.row.year, self.row.kind)


def receipt_href(psn_no: str, year: int, kind: str) -> str:
    return f"{PREMIUMS_PATH}/{psn_no}/{year}/{kind}"


def _page(
    request: Request,
    session: Session,
    *,
    status: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    ctx, me = context_of(request), session.actor.id

    def work(
        uow: UnitOfWork,
    ) -> tuple[list[RelativeRow], list[PaidRow], payment_password.PinStatus]:
        paid = [PaidRow(row, notices.who(uow, row.psn_no)) for row in premiums.premiums_of(uow, me)]
        return active_relatives(uow, me), paid, payment_password.status(ctx, uow, me)

    choices, paid, pin = read(ctx, work)
    this_year = ctx.today().year
    return render(
        request,
        "wallet/premiums.html",
        status=status,
        session=session,
        choices=choices,
        paid=paid,
        pin=pin,
        years=[str(this_year), str(this_year + 1)],
        kinds=list(PremiumKind),
        sources=list(PremiumSource),
        key=(values or {}).get("key") or secrets.token_urlsafe(18),
        values=values,
        errors=errors,
    )


@router.get(PREMIUMS_PATH)
def premiums_page(request: Request, session: PersonPage) -> Response:
    return _page(request, session)


def _read_order(posted: Posted) -> premiums.PremiumOrder:
    form = posted.form
    psn_no = required(form, "psn_no", "为谁缴费", "whose premium")
    year_text = required(form, "year", "缴费年度", "the year")
    kind_text = required(form, "kind", "险种", "the premium")
    source_text = required(form, "source", "支付方式", "how to pay")
    if not year_text.isdigit():
        raise FieldError("year", FieldRequired(what_zh="缴费年度", what_en="the year"))
    if kind_text not in {k.value for k in PremiumKind}:
        raise FieldError("kind", FieldRequired(what_zh="险种", what_en="the premium"))
    if source_text not in {s.value for s in PremiumSource}:
        raise FieldError("source", FieldRequired(what_zh="支付方式", what_en="how to pay"))
    return premiums.PremiumOrder(
        psn_no, int(year_text), PremiumKind(kind_text), PremiumSource(source_text)
    )


@router.post(PREMIUMS_PATH)
def pay(request: Request, posted: PersonPost) -> Response:
    """Try, ask the password, pay once per key; then the receipt."""
    ctx, actor = context_of(request), posted.actor
    lang = i18n.language(request)
    try:
        order = _read_order(posted)
        key = required(posted.form, "key", "确认编号", "the confirmation key")
        scope = idempotency.scope_for(f"web:{actor.label}")
        if read(ctx, lambda uow: idempotency.stored_response(uow, scope, key)) is None:
            dry_run(ctx, lambda uow: premiums.pay(ctx, uow, actor, order))
            refused = confirm_payment(request, posted)
            if refused is not None:
                return _page(
                    request, posted.session, status=400, values=posted.form.kept(), errors=refused
                )
        # else a double tap: the payment under this key is made; its answer is replayed below
        # (or refused if the form changed), and nothing new is paid.
        fingerprint = idempotency.request_hash(
            "web.premiums.pay",
            {"psn_no": order.psn_no, "year": order.year, "kind": order.kind.value,
             "source": order.source.value},
        )  # fmt: skip

        def work(uow: UnitOfWork) -> tuple[int, dict[str, object], bool]:
            return idempotency.run_idempotent(
                ctx, uow, scope, key, fingerprint, 201, lambda: _paid(ctx, uow, posted, order)
            )

        _, body, _ = commit(ctx, work)
    except FieldError as problem:
        errors = {problem.name: problem.error.message(lang)}
    except GongjiError as error:
        errors = errors_for(error, lang, _FIELDS)
    else:
        return see_other(request, str(body["receipt"]) + "?done=premium_paid")
    return _page(request, posted.session, status=400, values=posted.form.kept(), errors=errors)


def _paid(
    ctx: Context, uow: UnitOfWork, posted: Posted, order: premiums.PremiumOrder
) -> dict[str, object]:
    row = premiums.pay(ctx, uow, posted.actor, order).row
    return {"receipt": receipt_href(row.psn_no, row.year, row.kind)}


@router.get(PREMIUMS_PATH + "/{psn_no}/{year}/{kind}")
def receipt_page(request: Request, session: PersonPage) -> Response:
    """缴费凭证: one payment, for its payer or the insured person; anyone else gets not_found."""
    ctx, params = context_of(request), request.path_params
    year_text, kind_text = params["year"], params["kind"]
    if not year_text.isdigit() or kind_text not in {k.value for k in PremiumKind}:
        raise NotFound(what="缴费记录")
    me = session.actor.id

    def work(uow: UnitOfWork) -> tuple[PremiumRow, str, str]:
        row = premiums.receipt(uow, me, params["psn_no"], int(year_text), PremiumKind(kind_text))
        return row, notices.who(uow, row.psn_no), notices.who(uow, row.payer)

    row, insured_name, payer_name = read(ctx, work)
    return render(
        request,
        "wallet/premium_receipt.html",
        session=session,
        row=row,
        kind=PremiumKind(row.kind),
        insured_name=insured_name,
        payer_name=payer_name,
    )
