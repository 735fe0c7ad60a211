"""Signing in and out: persons with their mobile number and a one-time code, operators with
name, password and TOTP code.

The person's sign-in has two steps. The number typed in step one travels to step two in a
five-minute cookie encrypted by the vault, not in the address (addresses end up in logs) nor in
a hidden field. Both steps are CSRF-checked against the anonymous ``gongji_pre`` cookie, so a
foreign page cannot sign a browser into someone else's session either.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlencode

from cryptography.exceptions import InvalidTag
from fastapi import APIRouter, Request
from starlette.responses import Response

from gongji.core.errors import GongjiError
from gongji.core.masking import mask_phone
from gongji.identity.service import identity
from gongji.kernel.context import ActorKind
from gongji.kernel.sms import LogSmsGateway
from gongji.store.uow import UnitOfWork, run_in_transaction
from gongji.web import i18n
from gongji.web.forms import FORM, FieldError, commit, errors_for, required
from gongji.web.render import render, see_other
from gongji.web.routing import STATUS_BY_CODE, WebRoute
from gongji.web.session import (
    OPERATOR_COOKIE,
    PERSON_COOKIE,
    PRE_COOKIE,
    Form,
    FormBody,
    OperatorPost,
    PersonPost,
    check_pre_csrf,
    clear_cookie,
    client_address,
    context_of,
    csrf_token,
    local_path,
    page_within,
    pre_binding,
    set_cookie,
    start_session,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)
LOGIN_COOKIE: Final = "gongji_login"
LOGIN_COOKIE_MAX_AGE_S: Final = 5 * 60
_MOBILE_FIELDS: Final = {
    "mobile_invalid": "mobile",
    "otp_rate_limited": "mobile",
    "rate_limited": "mobile",
}
_CODE_FIELDS: Final = {
    "otp_invalid": "code",
    "otp_expired": "code",
    "otp_attempts_exceeded": "code",
    "mobile_ambiguous": "psn_no",
}


def _login_page(request: Request, template: str, *, status: int = 200, **context: Any) -> Response:
    """A sign-in page, with the anonymous CSRF binding set when the browser has none yet."""
    for name, default in (("expired", False), ("candidates", []), ("dev_hint", False)):
        context.setdefault(name, default)
    binding, new = pre_binding(request)
    csrf = csrf_token(context_of(request), binding)
    next_page = local_path(request.query_params.get("next"), "")
    response = render(request, template, status=status, csrf=csrf, next=next_page, **context)
    if new:
        set_cookie(request, response, PRE_COOKIE, binding)
    return response


# --- persons ---------------------------------------------------------------------------------


def _sealed_mobile(request: Request) -> str | None:
    sealed = request.cookies.get(LOGIN_COOKIE)
    if not sealed:
        return None
    try:
        return context_of(request).vault.decrypt(sealed, context="web login mobile")
    except (ValueError, InvalidTag):
        return None


def _code_step(request: Request, mobile: str, *, status: int = 200, **context: Any) -> Response:
    ctx = context_of(request)
    return _login_page(
        request,
        "login.html",
        status=status,
        step="code",
        mobile_masked=mask_phone(mobile),
        dev_hint=isinstance(ctx.sms, LogSmsGateway),
        **context,
    )


@router.get("/login")
def login_page(request: Request) -> Response:
    mobile = _sealed_mobile(request) if request.query_params.get("step") == "code" else None
    if mobile is not None:
        return _code_step(request, mobile)
    expired = request.query_params.get("expired") == "1"
    return _login_page(request, "login.html", step="mobile", expired=expired)


@router.post("/login/code")
def send_code(request: Request, form: FormBody) -> Response:
    """Step one: send a code (the answer is the same whether or not the number is known)."""
    check_pre_csrf(request, form)
    ctx = context_of(request)
    try:
        mobile = identity.normalize_mobile(required(form, "mobile", "手机号", "your mobile number"))
        client = client_address(request)
        commit(ctx, lambda uow: identity.request_code(ctx, uow, mobile, client=client))
    except FieldError as problem:
        return _mobile_refused(request, form, problem.error)
    except GongjiError as error:
        return _mobile_refused(request, form, error)
    next_page = page_within(form.get("next"), "/wallet")
    response = see_other(request, "/login?" + urlencode({"step": "code", "next": next_page}))
    sealed = ctx.vault.encrypt(mobile, context="web login mobile")
    set_cookie(request, response, LOGIN_COOKIE, sealed, max_age=LOGIN_COOKIE_MAX_AGE_S)
    return response


def _mobile_refused(request: Request, form: Form, error: GongjiError) -> Response:
    lang = i18n.language(request)
    errors = errors_for(error, lang, _MOBILE_FIELDS, field="mobile")
    status = STATUS_BY_CODE.get(error.code, 400)
    return _login_page(
        request, "login.html", status=status, step="mobile", values=form.kept(), errors=errors
    )


@router.post("/login")
def sign_in(request: Request, form: FormBody) -> Response:
    """Step two: check the code (a wrong one counts even though the answer is a refusal)."""
    check_pre_csrf(request, form)
    mobile = _sealed_mobile(request)
    if mobile is None:
        return see_other(request, "/login")
    ctx = context_of(request)
    psn_no = form.get("psn_no") or None
    client = client_address(request)

    def verify(uow: UnitOfWork) -> identity.IssuedToken:
        try:
            issued = identity.verify_code(ctx, uow, mobile, form.get("code"), psn_no, client=client)
        except identity.CountedRefusal:
            uow.commit()
            raise
        uow.commit()
        return issued

    try:
        issued = run_in_transaction(ctx.engine, verify)
    except GongjiError as error:
        lang = i18n.language(request)
        candidates = error.detail.get("candidates", [])
        errors = errors_for(error, lang, _CODE_FIELDS)
        return _code_step(request, mobile, status=400, errors=errors, candidates=candidates)
    response = see_other(request, page_within(form.get("next"), "/wallet"))
    start_session(request, response, ActorKind.PERSON, issued.token)
    clear_cookie(response, LOGIN_COOKIE)
    return response


@router.post("/logout")
def sign_out(request: Request, posted: PersonPost) -> Response:
    ctx = context_of(request)
    commit(ctx, lambda uow: identity.revoke_token(ctx, uow, posted.session.token))
    response = see_other(request, "/login")
    clear_cookie(response, PERSON_COOKIE)
    return response


# --- operators -------------------------------------------------------------------------------


@router.get("/admin/login")
def operator_login_page(request: Request) -> Response:
    expired = request.query_params.get("expired") == "1"
    return _login_page(request, "admin/login.html", expired=expired)


@router.post("/admin/login")
def operator_sign_in(request: Request, form: FormBody) -> Response:
    check_pre_csrf(request, form)
    ctx = context_of(request)
    name, password, totp = form.get("name"), form.fields.get("password", ""), form.get("totp")
    client = client_address(request)
    try:
        issued = identity.sign_in_operator(ctx, name, password, totp, client=client)
    except GongjiError as error:
        errors = {FORM: error.message(i18n.language(request))}
        values = {"name": name, "next": form.get("next")}
        status = STATUS_BY_CODE.get(error.code, 401)
        return _login_page(request, "admin/login.html", status=status, values=values, errors=errors)
    response = see_other(request, page_within(form.get("next"), "/admin"))
    start_session(request, response, ActorKind.OPERATOR, issued.token)
    return response


@router.post("/admin/logout")
def operator_sign_out(request: Request, posted: OperatorPost) -> Response:
    ctx = context_of(request)
    commit(ctx, lambda uow: identity.revoke_token(ctx, uow, posted.session.token))
    response = see_other(request, "/admin/login")
    clear_cookie(response, OPERATOR_COOKIE)
    return response
