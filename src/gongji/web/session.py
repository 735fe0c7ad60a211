"""Browser sessions, CSRF and drafts for the pages.

A session is the same opaque bearer token the identity service issues to the API, kept
in an ``HttpOnly; SameSite=Lax`` cookie (``Secure`` over https): the server stores only its hash,
signing out revokes it, and expiry is the token's own. Persons, operators and institution desks
have separate cookies (the operator's limited to ``/admin``, the desk's to ``/desk``), so one
browser can hold all three without mixing them. A desk session comes from the institution's
signing key (gongji.identity.service.desk_sessions).

CSRF: every form carries ``csrf_token`` = HMAC of what the session is bound to (the session token;
before sign-in, a random ``gongji_pre`` cookie) under the vault's key. A cross-site page can make
the browser send the cookie but cannot read the token, so a POST without the right token is a
403 and changes nothing. Nothing else is kept on the server for it.

Drafts: a POST whose session has expired keeps what was typed (never codes or passwords) in a
short-lived cookie encrypted by the vault, goes to the sign-in page, and the form page it came
from shows the typed values again after signing in.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, ClassVar, Final

from cryptography.exceptions import InvalidTag
from fastapi import Depends, Request
from starlette.datastructures import UploadFile
from starlette.responses import Response

from gongji.core.errors import GongjiError
from gongji.identity.service import desk_sessions, identity
from gongji.kernel.context import Actor, ActorKind, Context
from gongji.kernel.errors import Forbidden
from gongji.kernel.permissions import Permission, operator_may
from gongji.store.uow import run_in_transaction

PERSON_COOKIE: Final = "gongji_session"
OPERATOR_COOKIE: Final = "gongji_admin"
DESK_COOKIE: Final = "gongji_desk"
PRE_COOKIE: Final = "gongji_pre"
DRAFT_COOKIE: Final = "gongji_draft"
CSRF_FIELD: Final = "csrf_token"
PAGE_FIELD: Final = "page"
FORM_FIELDS_MAX: Final = 40
FORM_FILES_MAX: Final = 1
FIELD_LENGTH_MAX: Final = 2_000
DRAFT_TTL_S: Final = 15 * 60
DRAFT_BYTES_MAX: Final = 2_000
_SECRET_FIELDS: Final = frozenset(
    {
        *(CSRF_FIELD, PAGE_FIELD, "code", "password", "totp", "secret"),
        *("mdtrt_cert_no", "psn_name"),
        *("payment_password", "new_payment_password", "repeat_payment_password"),
        *("current_payment_password", "reset_code", "own_id_number"),
    }
)
_COOKIE_PATHS: Final = {PERSON_COOKIE: "/", OPERATOR_COOKIE: "/admin", DESK_COOKIE: "/desk"}
_COOKIE_OF: Final = {
    ActorKind.PERSON: PERSON_COOKIE,
    ActorKind.OPERATOR: OPERATOR_COOKIE,
    ActorKind.INSTITUTION: DESK_COOKIE,
}


class CsrfRefused(GongjiError):
    code: ClassVar[str] = "csrf_refused"
    message_zh: ClassVar[str] = "页面已过期或来源不明，请返回上一页刷新后再提交"
    message_en: ClassVar[str] = "This page has expired or did not come from gongji; reload it"


class SignInNeeded(Exception):
    """No live session for the area: the route answers with the sign-in page's address."""

    def __init__(self, kind: ActorKind, draft: Form | None = None) -> None:
        super().__init__(f"sign-in needed ({kind.value})")
        self.kind = kind
        self.draft = draft


@dataclass(frozen=True, slots=True)
class Upload:
    filename: str
    content: bytes


@dataclass(frozen=True, slots=True)
class Form:
    """A posted form: text fields by name and at most one file."""

    fields: Mapping[str, str]
    files: Mapping[str, Upload] = field(default_factory=dict)

    def get(self, name: str) -> str:
        return self.fields.get(name, "").strip()

    def kept(self) -> dict[str, str]:
        """What may be shown again: everything but secrets and the form's own plumbing."""
        return {k: v for k, v in self.fields.items() if k not in _SECRET_FIELDS}


@dataclass(frozen=True, slots=True)
class Session:
    actor: Actor
    token: str
    csrf: str


@dataclass(frozen=True, slots=True)
class Posted:
    session: Session
    form: Form

    @property
    def actor(self) -> Actor:
        return self.session.actor


def client_address(request: Request) -> str | None:
    """The peer's address: the proxy's own unless GONGJI_TRUST_PROXY put the client's there."""
    return request.client.host if request.client is not None else None


def context_of(request: Request) -> Context:
    ctx: Context = request.app.state.container.context
    return ctx


async def form_fields(request: Request) -> Form:
    """The body as a :class:`Form`; async only to read it (bounded: fields, files, lengths)."""
    raw = await request.form(max_files=FORM_FILES_MAX, max_fields=FORM_FIELDS_MAX)
    fields: dict[str, str] = {}
    files: dict[str, Upload] = {}
    for name, value in raw.multi_items():
        if isinstance(value, UploadFile):
            files[name] = Upload(value.filename or "upload.csv", await value.read())
        elif isinstance(value, str):
            fields[name] = value[:FIELD_LENGTH_MAX]
    await raw.close()
    return Form(fields, files)


FormBody = Annotated[Form, Depends(form_fields)]


# --- CSRF ------------------------------------------------------------------------------------


def csrf_token(ctx: Context, binding: str) -> str:
    return ctx.vault.lookup_hash(binding, context="web csrf v1")


def check_csrf(ctx: Context, binding: str | None, form: Form) -> None:
    given = form.fields.get(CSRF_FIELD, "")
    if not binding or not hmac.compare_digest(given.encode(), csrf_token(ctx, binding).encode()):
        raise CsrfRefused()


def pre_binding(request: Request) -> tuple[str, bool]:
    """The anonymous binding of the sign-in forms, and whether the cookie is new."""
    found = request.cookies.get(PRE_COOKIE)
    if found and 20 <= len(found) <= 64:
        return found, False
    return secrets.token_urlsafe(24), True


def check_pre_csrf(request: Request, form: Form) -> None:
    check_csrf(context_of(request), request.cookies.get(PRE_COOKIE), form)


# --- sessions --------------------------------------------------------------------------------


def _resolve(ctx: Context, kind: ActorKind, token: str) -> Actor:
    if kind is ActorKind.INSTITUTION:
        return run_in_transaction(
            ctx.engine,
            lambda uow: desk_sessions.resolve_desk_token(ctx, uow, token),
            read_only=True,
        )
    return identity.resolve_token(ctx, ctx.engine, token)


def _session(request: Request, kind: ActorKind, form: Form | None) -> Session:
    ctx = context_of(request)
    token = request.cookies.get(_COOKIE_OF[kind])
    if not token:
        raise SignInNeeded(kind)
    if form is not None:
        check_csrf(ctx, token, form)
    try:
        actor = _resolve(ctx, kind, token)
    except identity.Unauthorized:
        raise SignInNeeded(kind, form) from None
    if actor.kind is not kind:
        raise SignInNeeded(kind)
    return Session(actor, token, csrf_token(ctx, token))


def person_session(request: Request) -> Session:
    return _session(request, ActorKind.PERSON, None)


def operator_session(request: Request) -> Session:
    return _session(request, ActorKind.OPERATOR, None)


def desk_session(request: Request) -> Session:
    return _session(request, ActorKind.INSTITUTION, None)


def person_post(request: Request, form: FormBody) -> Posted:
    return Posted(_session(request, ActorKind.PERSON, form), form)


def operator_post(request: Request, form: FormBody) -> Posted:
    return Posted(_session(request, ActorKind.OPERATOR, form), form)


def desk_post(request: Request, form: FormBody) -> Posted:
    return Posted(_session(request, ActorKind.INSTITUTION, form), form)


PersonPage = Annotated[Session, Depends(person_session)]
OperatorPage = Annotated[Session, Depends(operator_session)]
PersonPost = Annotated[Posted, Depends(person_post)]
OperatorPost = Annotated[Posted, Depends(operator_post)]
DeskPage = Annotated[Session, Depends(desk_session)]
DeskPost = Annotated[Posted, Depends(desk_post)]


def set_cookie(
    request: Request, response: Response, name: str, value: str, *, max_age: int | None = None
) -> None:
    """Every gongji cookie: HttpOnly, SameSite=Lax, and Secure in production always, elsewhere
    when the page came over https. Behind a TLS proxy the scheme is the client's only with
    GONGJI_TRUST_PROXY=1 (``X-Forwarded-Proto``, see ``app.asgi``); production requires it."""
    production = bool(request.app.state.container.settings.production)
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=_COOKIE_PATHS.get(name, "/"),
        httponly=True,
        samesite="lax",
        secure=production or request.url.scheme == "https",
    )


def clear_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, path=_COOKIE_PATHS.get(name, "/"))


def start_session(request: Request, response: Response, kind: ActorKind, token: str) -> None:
    """A browser-session cookie: the token's own expiry decides, the cookie is not persisted."""
    set_cookie(request, response, _COOKIE_OF[kind], token)


# --- drafts ----------------------------------------------------------------------------------


def local_path(text: str | None, default: str) -> str:
    """A path on this site only: never an open redirect to another host."""
    if not text or not text.startswith("/") or text.startswith("//") or "\\" in text:
        return default
    return text


def page_within(text: str | None, area: str) -> str:
    """Where to go after signing in to ``area`` (/wallet, /desk, /admin): a page of that area
    only, else the area's home — a desk session never lands on an operator's page."""
    wanted = local_path(text, area)
    return wanted if wanted.startswith(area) else area


def save_draft(request: Request, response: Response, form: Form) -> None:
    ctx = context_of(request)
    page = local_path(form.fields.get(PAGE_FIELD), "")
    kept = form.kept()
    if not page or not kept:
        return
    text = json.dumps({"page": page, "fields": kept}, ensure_ascii=False)
    if len(text.encode()) > DRAFT_BYTES_MAX:
        return
    sealed = ctx.vault.encrypt(text, context="web draft")
    set_cookie(request, response, DRAFT_COOKIE, sealed, max_age=DRAFT_TTL_S)


def load_draft(request: Request) -> dict[str, str] | None:
    """The fields typed on this page before the session expired, if any are kept for it."""
    sealed = request.cookies.get(DRAFT_COOKIE)
    if not sealed:
        return None
    try:
        found = json.loads(context_of(request).vault.decrypt(sealed, context="web draft"))
    except (ValueError, TypeError, InvalidTag):  # tampered, from an old key, or not ours
        return None
    if not isinstance(found, dict) or found.get("page") != request.url.path:
        return None
    fields = found.get("fields")
    if not isinstance(fields, dict):
        return None
    return {str(k): str(v) for k, v in fields.items()}


def require_permission(session: Session, permission: Permission) -> None:
    """The page's permission in the matrix (docs/backoffice.md); services check writes again."""
    if not operator_may(session.actor, permission):
        raise Forbidden()
