"""How a page answers when something goes wrong: never a traceback, never JSON.

Every web route is a :class:`WebRoute`. Its handler turns what the route (or a dependency such
as the CSRF check) raises into a page: no session → the sign-in page (keeping a draft of what was
typed); a refusal → its message in the page's language with the status its code implies; anything
unexpected → a plain 500 page, the traceback in the log only. Forms that can show a refusal next
to a field catch it themselves before it gets here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any, Final
from urllib.parse import urlencode

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from gongji.core.errors import GongjiError
from gongji.kernel.context import ActorKind
from gongji.web import i18n
from gongji.web.render import render, see_other
from gongji.web.session import PAGE_FIELD, SignInNeeded, local_path, save_draft

log = logging.getLogger("gongji.web")

STATUS_BY_CODE: Final = {
    "not_found": 404,
    "forbidden": 403,
    "csrf_refused": 403,
    "unauthorized": 401,
    "login_failed": 401,
    "desk_login_failed": 401,
    "otp_rate_limited": 429,
    "rate_limited": 429,
    "operator_locked": 429,
    "payment_password_required": 403,
    "payment_password_not_set": 403,
    "payment_password_wrong": 403,
    "payment_password_locked": 429,
    "payment_reset_refused": 403,
    "guardian_not_allowed": 403,
    "guardian_consent_exists": 409,
    "request_too_large": 413,
}
_HTTP_MESSAGES: Final = {
    400: ("请求格式不正确", "The request is malformed"),
    404: ("没有找到这个页面", "There is no such page"),
    405: ("不支持该请求方法", "Method not allowed"),
    413: ("提交的内容过大（上限 1 MB）", "What was sent is too large (1 MB at most)"),
}
_INTERNAL: Final = ("系统内部错误，已记录。请稍后再试。", "Internal error; it has been logged.")
_LOGIN_OF: Final = {ActorKind.OPERATOR: "/admin/login", ActorKind.INSTITUTION: "/desk/login"}
Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def home_of(path: str) -> str:
    for area in ("/admin", "/desk"):
        if path.startswith(area):
            return area
    return "/wallet"


def error_page(request: Request, status: int, message: str, code: str = "") -> Response:
    return render(
        request,
        "error.html",
        status=status,
        message=message,
        code=code,
        home=home_of(request.url.path),
    )


def refusal_page(request: Request, error: GongjiError) -> Response:
    message = error.message(i18n.language(request))
    return error_page(request, STATUS_BY_CODE.get(error.code, 400), message, error.code)


def http_error_page(request: Request, status: int) -> Response:
    zh, en = _HTTP_MESSAGES.get(status, ("请求失败", "The request failed"))
    return error_page(request, status, en if i18n.language(request) == "en" else zh)


def internal_error_page(request: Request) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    zh, en = _INTERNAL
    return error_page(request, 500, en if i18n.language(request) == "en" else zh)


def sign_in_redirect(request: Request, needed: SignInNeeded) -> Response:
    """To the area's sign-in page, coming back to the page (and draft) afterwards."""
    login = _LOGIN_OF.get(needed.kind, "/login")
    if request.method == "GET":
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return see_other(request, f"{login}?{urlencode({'next': back})}")
    page = home_of(request.url.path)
    if needed.draft is not None:
        page = local_path(needed.draft.fields.get(PAGE_FIELD), page)
    response = see_other(request, f"{login}?{urlencode({'next': page, 'expired': '1'})}")
    if needed.draft is not None:
        save_draft(request, response, needed.draft)
    return response


class WebRoute(APIRoute):
    """An APIRoute whose failures are pages (see the module docstring)."""

    def get_route_handler(self) -> Handler:
        handle = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handle(request)
            except SignInNeeded as needed:
                return sign_in_redirect(request, needed)
            except GongjiError as error:
                return refusal_page(request, error)
            except HTTPException as error:
                return http_error_page(request, error.status_code)
            except RequestValidationError:
                return http_error_page(request, 400)
            except Exception:
                return internal_error_page(request)

        return guarded
