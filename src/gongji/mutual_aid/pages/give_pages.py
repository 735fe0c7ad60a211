"""共济给亲属: pick a relative, type an amount, see today's limits, confirm.

The page states the limits in words and a small script checks the amount against them as it is
typed, in the very words the server would use (the messages come from the refusals themselves).
"Next" then runs the real offer in a transaction that is rolled back: the confirmation page
appears only when the offer would be made, and a refusal is the one the offer itself gives.
"Confirm" asks for the payment password (refused beside its field, the page kept), then makes
the offer once per idempotency key, so a double tap gives one grant.
"""

from __future__ import annotations

import secrets
from typing import Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from gongji.core.errors import GongjiError
from gongji.core.money import format_yuan
from gongji.identity.service import payment_password
from gongji.kernel import idempotency
from gongji.kernel.context import Context
from gongji.mutual_aid.domain import grant_errors
from gongji.mutual_aid.domain.grants import offer_expires_at
from gongji.mutual_aid.pages.family_pages import RelativeRow, active_relatives
from gongji.mutual_aid.pages.payment_pages import confirm_payment
from gongji.mutual_aid.service import grants, wallet_view
from gongji.store.uow import UnitOfWork
from gongji.web import i18n
from gongji.web.forms import (
    AMOUNT_CODES,
    FieldError,
    commit,
    dry_run,
    errors_for,
    read,
    read_amount,
    required,
)
from gongji.web.render import render, see_other
from gongji.web.routing import WebRoute
from gongji.web.session import PersonPage, PersonPost, Posted, Session, context_of

router = APIRouter(route_class=WebRoute, include_in_schema=False)
_FIELDS: Final = {
    **{code: "amount" for code in AMOUNT_CODES},
    **{
        code: "recipient"
        for code in (
            "relationship_not_active",
            "relationship_not_verified",
            "recipient_wallet_not_open",
            "recipient_wallet_frozen",
            "recipient_not_insured",
            "grant_to_self",
            "open_offer_exists",
            "not_found",
        )
    },
}


def _checks(ctx: Context, view: wallet_view.WalletView, lang: i18n.Lang) -> dict[str, Any]:
    """What the amount check in the page needs: the limits and the server's own words."""
    today = view.today
    if today is None or view.region is None:
        return {}
    policy = ctx.policy(view.region)
    made = policy.grants_per_day_max - today.grants_left
    start, end = today.quiet_hours.split("–")
    return {
        "max_fen": policy.grant_amount_max_fen,
        "largest_fen": today.largest_amount_fen,
        "grants_left": today.grants_left,
        "quiet_now": today.quiet_hours_now,
        "msg_limit": grant_errors.GrantAmountExceedsLimit(
            limit=format_yuan(policy.grant_amount_max_fen)
        ).message(lang),
        "msg_balance": grant_errors.InsufficientBalance(
            available=format_yuan(today.largest_amount_fen)
        ).message(lang),
        "msg_count": grant_errors.GrantsPerDayExceeded(
            count=made, limit=policy.grants_per_day_max
        ).message(lang),
        "msg_quiet": grant_errors.QuietHours(start=start, end=end).message(lang),
    }


def _give(
    request: Request,
    session: Session,
    *,
    status: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    ctx = context_of(request)
    me = session.actor.id

    def work(uow: UnitOfWork) -> tuple[wallet_view.WalletView, list[RelativeRow]]:
        return wallet_view.wallet_view(ctx, uow, me), active_relatives(uow, me)

    view, choices = read(ctx, work)
    asked = {k: request.query_params.get(k, "") for k in ("recipient", "amount")}
    return render(
        request,
        "wallet/give.html",
        status=status,
        session=session,
        view=view,
        choices=choices,
        checks=_checks(ctx, view, i18n.language(request)),
        values={**asked, **(values or {})},
        errors=errors,
    )


@router.get("/wallet/give")
def give(request: Request, session: PersonPage) -> Response:
    return _give(request, session)


def _read_offer(posted: Posted) -> tuple[str, int]:
    recipient = required(posted.form, "recipient", "要共济的亲属", "a relative")
    return recipient, read_amount(posted.form)


def _refused(request: Request, posted: Posted, problem: FieldError | GongjiError) -> Response:
    lang = i18n.language(request)
    if isinstance(problem, FieldError):
        errors = {problem.name: problem.error.message(lang)}
    else:
        errors = errors_for(problem, lang, _FIELDS)
    return _give(request, posted.session, status=400, values=posted.form.kept(), errors=errors)


@router.post("/wallet/give")
def preview(request: Request, posted: PersonPost) -> Response:
    """The offer, tried and rolled back: confirm only what would be accepted."""
    ctx = context_of(request)
    try:
        recipient, amount_fen = _read_offer(posted)
        dry_run(ctx, lambda uow: grants.offer(ctx, uow, posted.actor, recipient, amount_fen))
    except (FieldError, GongjiError) as problem:
        return _refused(request, posted, problem)
    me = posted.actor.id

    def work(uow: UnitOfWork) -> tuple[list[RelativeRow], str, payment_password.PinStatus]:
        region = wallet_view.wallet_view(ctx, uow, me).region or ""
        return active_relatives(uow, me), region, payment_password.status(ctx, uow, me)

    choices, region, pin = read(ctx, work)
    chosen = next((row for row in choices if row.psn_no == recipient), None)
    if chosen is None:  # the relationship ended between the try and this read
        return _refused(request, posted, grant_errors.RelationshipNotActive())
    return _confirm_page(
        request, posted, chosen, amount_fen, region, pin, secrets.token_urlsafe(18)
    )


def _confirm_page(
    request: Request,
    posted: Posted,
    chosen: RelativeRow,
    amount_fen: int,
    region: str,
    pin: payment_password.PinStatus,
    key: str,
    *,
    errors: dict[str, str] | None = None,
) -> Response:
    """What will be offered, the payment password asked for (or where to set it), then confirm."""
    ctx = context_of(request)
    expires = offer_expires_at(ctx.local_now(), ctx.policy(region))
    return render(
        request,
        "wallet/give_confirm.html",
        status=400 if errors else 200,
        session=posted.session,
        relative=chosen,
        amount_fen=amount_fen,
        amount=format_yuan(amount_fen),
        expires=expires.strftime("%Y-%m-%d %H:%M"),
        key=key,
        pin=pin,
        errors=errors,
        back="/wallet/give?"
        + urlencode({"recipient": chosen.psn_no, "amount": format_yuan(amount_fen)}),
    )


def _confirm_again(
    request: Request, posted: Posted, recipient: str, amount_fen: int, errors: dict[str, str]
) -> Response:
    """The confirmation page again, the payment password's refusal beside its field."""
    ctx, me = context_of(request), posted.actor.id

    def work(uow: UnitOfWork) -> tuple[list[RelativeRow], str, payment_password.PinStatus]:
        region = wallet_view.wallet_view(ctx, uow, me).region or ""
        return active_relatives(uow, me), region, payment_password.status(ctx, uow, me)

    choices, region, pin = read(ctx, work)
    chosen = next((row for row in choices if row.psn_no == recipient), None)
    if chosen is None:
        return _refused(request, posted, grant_errors.RelationshipNotActive())
    key = posted.form.get("key") or secrets.token_urlsafe(18)
    return _confirm_page(request, posted, chosen, amount_fen, region, pin, key, errors=errors)


@router.post("/wallet/give/confirm")
def confirm(request: Request, posted: PersonPost) -> Response:
    ctx = context_of(request)
    actor = posted.actor
    try:
        recipient, amount_fen = _read_offer(posted)
        key = required(posted.form, "key", "确认编号", "the confirmation key")
        refused = confirm_payment(request, posted)
        if refused is not None:
            return _confirm_again(request, posted, recipient, amount_fen, refused)
        fingerprint = idempotency.request_hash(
            "web.grants.offer", {"recipient": recipient, "amount_fen": amount_fen}
        )
        scope = idempotency.scope_for(f"web:{actor.label}")

        def work(uow: UnitOfWork) -> tuple[int, dict[str, Any], bool]:
            return idempotency.run_idempotent(
                ctx,
                uow,
                scope,
                key,
                fingerprint,
                201,
                lambda: {"grant_id": grants.offer(ctx, uow, actor, recipient, amount_fen).id},
            )

        commit(ctx, work)
    except (FieldError, GongjiError) as problem:
        return _refused(request, posted, problem)
    return see_other(request, "/wallet?done=offered")
