"""支付密码 on the wallet's settings: set it, change it, reset it with an SMS code and the ID
number; and the one check every page that moves money makes before its command
(:func:`confirm_payment`), so that a refusal appears beside the password field.

The password fields are never shown again (``Form.kept`` drops them) and never logged.
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request
from starlette.responses import Response

from gongji.core.errors import GongjiError
from gongji.identity.service import payment_password
from gongji.mutual_aid.pages.wallet_pages import settings_page
from gongji.web import i18n
from gongji.web.forms import errors_for
from gongji.web.render import see_other
from gongji.web.routing import WebRoute
from gongji.web.session import PersonPost, Posted, context_of

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PIN_FIELD: Final = "payment_password"
_SETTINGS_FIELDS: Final = {
    "payment_password_malformed": "new_payment_password",
    "payment_password_weak": "new_payment_password",
    "payment_password_mismatch": "repeat_payment_password",
    "payment_password_current_required": "current_payment_password",
    "payment_password_wrong": "current_payment_password",
    "payment_password_locked": "current_payment_password",
    "payment_reset_refused": "reset_code",
    "payment_reset_expired": "reset_code",
}


def confirm_payment(request: Request, posted: Posted) -> dict[str, str] | None:
    """Check the payment password typed in ``posted``; the errors to show, or None to go on."""
    ctx = context_of(request)
    try:
        payment_password.confirm_payment(ctx, posted.actor, posted.form.get(PIN_FIELD) or None)
    except GongjiError as error:
        return errors_for(error, i18n.language(request), {}, field=PIN_FIELD)
    return None


def _back_to_settings(request: Request, posted: Posted, error: GongjiError) -> Response:
    errors = errors_for(error, i18n.language(request), _SETTINGS_FIELDS)
    return settings_page(
        request, posted.session, status=400, values=posted.form.kept(), errors=errors
    )


@router.post("/wallet/settings/payment-password")
def set_password(request: Request, posted: PersonPost) -> Response:
    """Set the first payment password, or change it with the current one."""
    ctx, form = context_of(request), posted.form
    try:
        payment_password.set_pin(
            ctx,
            posted.actor,
            form.get("new_payment_password"),
            form.get("repeat_payment_password"),
            form.get("current_payment_password") or None,
        )
    except GongjiError as error:
        return _back_to_settings(request, posted, error)
    return see_other(request, "/wallet/settings?done=payment_password")


@router.post("/wallet/settings/payment-password/reset-code")
def reset_code(request: Request, posted: PersonPost) -> Response:
    ctx = context_of(request)
    try:
        payment_password.run_request_reset(ctx, posted.actor)
    except GongjiError as error:
        return _back_to_settings(request, posted, error)
    return see_other(request, "/wallet/settings?done=reset_code")


@router.post("/wallet/settings/payment-password/reset")
def reset(request: Request, posted: PersonPost) -> Response:
    ctx, form = context_of(request), posted.form
    try:
        payment_password.reset_pin(
            ctx,
            posted.actor,
            form.get("reset_code"),
            form.get("own_id_number"),
            form.get("new_payment_password"),
            form.get("repeat_payment_password"),
        )
    except GongjiError as error:
        return _back_to_settings(request, posted, error)
    return see_other(request, "/wallet/settings?done=payment_password_reset")
