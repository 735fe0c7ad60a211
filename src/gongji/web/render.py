"""Rendering pages: one Jinja2 environment (autoescaped, strict about undefined names), the
filters for money and time, and the headers every page carries.

Pages load nothing from elsewhere (the CSP says so: only 'self', no inline script or style),
are never cached (a shared phone's back button must not show someone's account), and cannot be
framed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final, TypeVar
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from gongji.core.clock import from_us
from gongji.core.money import format_yuan
from gongji.kernel.context import BUSINESS_TZ
from gongji.kernel.permissions import Permission, operator_may
from gongji.web import i18n
from gongji.web.session import (
    DRAFT_COOKIE,
    Session,
    clear_cookie,
    context_of,
    load_draft,
    set_cookie,
)

R = TypeVar("R", bound=Response)
TEMPLATES_DIR: Final = Path(__file__).parent / "templates"
LANG_COOKIE_MAX_AGE_S: Final = 365 * 24 * 3600
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
_TABLES: Final[Mapping[str, i18n.Words]] = {
    "kinship": i18n.KINSHIP,
    "relationship": i18n.RELATIONSHIP_STATUS,
    "grant": i18n.GRANT_STATE,
    "wallet": i18n.WALLET_STATUS,
    "authorization": i18n.AUTHORIZATION_STATUS,
    "insutype": i18n.INSUTYPE,
    "event": i18n.EVENT,
    "done": i18n.DONE,
    "policy": i18n.POLICY_KEY,
    "field": i18n.SETTLEMENT_FIELD,
    "med_type": i18n.MED_TYPE,
    "cert": i18n.CERT_TYPE,
    "item_class": i18n.ITEM_CLASS,
    "draw": i18n.DRAW_KIND,
    "setl_kind": i18n.SETTLEMENT_KIND,
}


def yuan(fen: int) -> str:
    """Fen as yuan with thousands grouped (``180000`` → ``1,800.00``): easier to read aloud."""
    text = format_yuan(fen)
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, cents = digits.split(".")
    return f"{sign}{int(whole):,}.{cents}"


def local_time(at_us: int) -> str:
    return from_us(at_us).astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["yuan"] = yuan
    env.filters["local_time"] = local_time
    env.globals["may"] = may
    return env


def may(session: Session | None, permission: str) -> bool:
    """Whether the signed-in operator's roles grant ``permission``: pages offer only what the
    matrix allows (the routes check it again)."""
    return session is not None and operator_may(session.actor, Permission(permission))


_ENV: Final = _environment()


def switch_url(request: Request, lang: i18n.Lang) -> str:
    """This page in the other language (a relative URL, the rest of the query kept)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return f"{request.url.path}?{urlencode([*params, ('lang', lang)])}"


PageExtra = Callable[[Request, Session | None], Mapping[str, Any]]
_PAGE_EXTRAS: list[PageExtra] = []


def add_page_extra(extra: PageExtra) -> None:
    """Names every page may show, computed per request by an area above the web plumbing (the
    unread-message badge): registered once by the app's assembly, so ``web`` imports no area."""
    if extra not in _PAGE_EXTRAS:
        _PAGE_EXTRAS.append(extra)


def _extras(request: Request, session: Session | None) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for extra in _PAGE_EXTRAS:
        found.update(extra(request, session))
    return found


def _region_namer(request: Request) -> Callable[[str | None], str]:
    """``region(code)``: the region's name (兰州市) for people to read, the code if unknown."""
    regions = context_of(request).regions

    def name(code: str | None) -> str:
        found = regions.get(code or "")
        return found.name if found else (code or "")

    return name


def render(
    request: Request,
    template: str,
    *,
    status: int = 200,
    session: Session | None = None,
    csrf: str = "",
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """A page. ``values`` are what the forms show (a draft kept across a sign-in wins) and
    ``errors`` the messages by field name (``_form`` for the form as a whole)."""
    lang = i18n.language(request)
    draft = load_draft(request)
    body = _ENV.get_template(template).render(
        request=request,
        lang=lang,
        t=i18n.chooser(lang),
        w=lambda table, key: i18n.word(_TABLES[table], key, lang),
        switch_url=switch_url(request, "zh" if lang == "en" else "en"),
        session=session,
        csrf=session.csrf if session else csrf,
        values={**(values or {}), **(draft or {})},
        errors=errors or {},
        draft_restored=draft is not None,
        notice=_notice(request, lang),
        status=status,
        path=request.url.path,
        region=_region_namer(request),
        **{**_extras(request, session), **context},
    )
    response = HTMLResponse(body, status_code=status)
    if draft is not None:
        clear_cookie(response, DRAFT_COOKIE)
    return finish(request, response)


def _notice(request: Request, lang: i18n.Lang) -> str:
    """The message of a finished write (``?done=…``); only known ones, never the query's text."""
    done = request.query_params.get("done", "")
    return i18n.word(i18n.DONE, done, lang) if done in i18n.DONE else ""


def finish(request: Request, response: R) -> R:
    """The headers of every page, and the language asked in the query remembered."""
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    asked = i18n.asked_language(request)
    if asked is not None:
        set_cookie(request, response, i18n.LANG_COOKIE, asked, max_age=LANG_COOKIE_MAX_AGE_S)
    return response


def see_other(request: Request, url: str) -> RedirectResponse:
    """Post/redirect/get: after a write, the browser loads the result with a GET."""
    return finish(request, RedirectResponse(url, status_code=303))
