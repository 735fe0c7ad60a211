"""我的医保钱包: the home page (account, quotas, offers, what today still allows), accepting and
rejecting offers, history with its chart, and the wallet's settings (open, 代开通, place of use,
close).

Every page reads in one read-only unit of work and every form writes in one committed unit of
work, through the same services as the API; a refusal re-renders the page with the message
beside its field and what was typed kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import segno
from fastapi import APIRouter, Request
from markupsafe import Markup
from starlette.responses import Response

from gongji.core.errors import GongjiError
from gongji.identity.service import payment_password
from gongji.kernel.context import Actor, Context
from gongji.mutual_aid.pages.history import chart, event_rows, monthly_flows
from gongji.mutual_aid.service import grants, mutual_aid_choice, wallet_view, wallets
from gongji.people.service.credentials_lookup import EC_TOKEN_VALID_S, issue_ec_token
from gongji.store.records import GrantRecord
from gongji.store.uow import UnitOfWork
from gongji.web import i18n
from gongji.web.forms import FieldError, commit, errors_for, read, required
from gongji.web.render import render, see_other
from gongji.web.routing import WebRoute
from gongji.web.session import PersonPage, PersonPost, Posted, Session, context_of

router = APIRouter(route_class=WebRoute, include_in_schema=False)
HISTORY_PAGE_SIZE: Final = 20
VOUCHER_REFRESH_S: Final = 60
"""The voucher page reloads itself with a fresh token this often while it is shown."""
_RELATIVE_FIELDS: Final = {
    "region_unknown": "relative_place",
    "relative_not_found": "relative_id_number",
    "not_related": "relative_id_number",
    "wallet_already_open": "relative_id_number",
}
Command = Callable[[Context, UnitOfWork], object]


@router.get("/")
def root(request: Request) -> Response:
    return see_other(request, "/wallet")


def _home(
    request: Request, session: Session, *, status: int = 200, errors: dict[str, str] | None = None
) -> Response:
    ctx = context_of(request)
    view = read(ctx, lambda uow: wallet_view.wallet_view(ctx, uow, session.actor.id))
    return render(
        request,
        "wallet/home.html",
        status=status,
        session=session,
        view=view,
        mutual_aid=view.mutual_aid,
        errors=errors,
        region_name=_region_name(ctx, view.wallet.place_of_use if view.wallet else None),
    )


def _region_name(ctx: Context, code: str | None) -> str:
    found = ctx.regions.get(code or "")
    return f"{found.name}（{found.code}）" if found else (code or "")


@router.get("/wallet")
def home(request: Request, session: PersonPage) -> Response:
    return _home(request, session)


@router.get("/wallet/voucher")
def voucher(request: Request, session: PersonPage) -> Response:
    """医保电子凭证: the token a desk scans (or types) to find this person. It is made fresh on
    each visit, names only this person, and stops identifying anyone alone after a few hours
    (gongji.people.service.credentials_lookup); nothing is stored for it."""
    ctx = context_of(request)
    token = issue_ec_token(ctx, session.actor.id)
    expires_at_us = ctx.now_us() + EC_TOKEN_VALID_S * 1_000_000
    return render(
        request,
        "wallet/voucher.html",
        session=session,
        token=token,
        qr=voucher_qr(token),
        refresh_s=VOUCHER_REFRESH_S,
        expires_at_us=expires_at_us,
        on_behalf_of=None,
        refresh_href="/wallet/voucher",
    )


def voucher_qr(token: str) -> Markup:
    """The token as a QR code a desk's scanner reads (it types the token and Enter), drawn here
    as inline SVG: no script, no image request, nothing sent elsewhere. segno escapes nothing
    from the token into markup: the SVG holds only the module path."""
    code = segno.make(token, error="m", micro=False)
    return Markup(code.svg_inline(scale=4, border=2, dark="#000", light="#fff", omitsize=True))


def _offer_answer(request: Request, posted: Posted, action: grants.Action, done: str) -> Response:
    ctx = context_of(request)
    grant_id = request.path_params["grant_id"]
    try:
        commit(ctx, lambda uow: action(ctx, uow, posted.actor, grant_id))
    except GongjiError as error:
        errors = errors_for(error, i18n.language(request), {})
        return _home(request, posted.session, status=400, errors=errors)
    return see_other(request, f"/wallet?done={done}")


@router.post("/wallet/offers/{grant_id}/accept")
def accept_offer(request: Request, posted: PersonPost) -> Response:
    """Accept, and with the box ticked choose 就医时使用家庭共济 in the same step (§6.2); an
    unticked box leaves the standing choice as it is."""
    chosen = True if posted.form.get("use_mutual_aid") == "1" else None

    def accepting(ctx: Context, uow: UnitOfWork, actor: Actor, grant_id: str) -> GrantRecord:
        return mutual_aid_choice.accept(ctx, uow, actor, grant_id, chosen).grant

    return _offer_answer(
        request, posted, accepting, "accepted_mutual_aid_on" if chosen else "accepted"
    )


@router.post("/wallet/offers/{grant_id}/reject")
def reject_offer(request: Request, posted: PersonPost) -> Response:
    return _offer_answer(request, posted, grants.reject, "declined")


# --- history ---------------------------------------------------------------------------------


@router.get("/wallet/history")
def history(request: Request, session: PersonPage) -> Response:
    ctx = context_of(request)
    me = session.actor.id
    cursor = request.query_params.get("cursor")

    def work(uow: UnitOfWork) -> tuple[Any, ...]:
        events, next_cursor = wallet_view.history(uow, me, cursor, HISTORY_PAGE_SIZE)
        return events, next_cursor, monthly_flows(ctx, uow, me)

    events, next_cursor, flows = read(ctx, work)
    return render(
        request,
        "wallet/history.html",
        session=session,
        rows=event_rows(events, me, i18n.language(request)),
        next_cursor=next_cursor,
        first_page=not cursor,
        chart=chart(flows),
    )


# --- settings --------------------------------------------------------------------------------


def settings_page(
    request: Request,
    session: Session,
    *,
    status: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    ctx = context_of(request)
    me = session.actor.id

    def work(uow: UnitOfWork) -> tuple[wallet_view.WalletView, payment_password.PinStatus]:
        return wallet_view.wallet_view(ctx, uow, me), payment_password.status(ctx, uow, me)

    view, pin = read(ctx, work)
    regions = sorted(ctx.regions.values(), key=lambda region: region.code)
    defaults = {"place_of_use": view.region or "", "new_place": view.region or ""}
    if view.wallet is not None:
        defaults["new_place"] = view.wallet.place_of_use
    return render(
        request,
        "wallet/settings.html",
        status=status,
        session=session,
        view=view,
        pin=pin,
        regions=regions,
        values={**defaults, "relative_place": defaults["place_of_use"], **(values or {})},
        errors=errors,
    )


@router.get("/wallet/settings")
def settings(request: Request, session: PersonPage) -> Response:
    return settings_page(request, session)


@router.post("/wallet/settings/open")
def open_wallet(request: Request, posted: PersonPost) -> Response:
    opening = wallets.OpenRequest(posted.form.get("place_of_use"))
    return _settings_write(
        request,
        posted,
        "opened",
        lambda ctx, uow: wallets.open_wallet(ctx, uow, posted.actor, opening),
        {"region_unknown": "place_of_use"},
    )


@router.post("/wallet/settings/open-for-relative")
def open_for_relative(request: Request, posted: PersonPost) -> Response:
    """代开通: a relative's wallet, opened with their ID number and name."""
    form = posted.form

    def command(ctx: Context, uow: UnitOfWork) -> object:
        opening = wallets.OpenRequest(
            form.get("relative_place"),
            required(form, "relative_id_number", "亲属的身份证号", "the relative's ID number"),
            required(form, "relative_name", "亲属的姓名", "the relative's name"),
        )
        return wallets.open_wallet(ctx, uow, posted.actor, opening)

    return _settings_write(request, posted, "opened", command, _RELATIVE_FIELDS)


def _settings_write(
    request: Request, posted: Posted, done: str, command: Command, fields: dict[str, str]
) -> Response:
    """Run a settings command; on refusal show the settings again, the message by its field."""
    ctx = context_of(request)
    try:
        commit(ctx, lambda uow: command(ctx, uow))
    except FieldError as problem:
        errors = {problem.name: problem.error.message(i18n.language(request))}
    except GongjiError as error:
        errors = errors_for(error, i18n.language(request), fields)
    else:
        return see_other(request, f"/wallet/settings?done={done}")
    return settings_page(
        request, posted.session, status=400, values=posted.form.kept(), errors=errors
    )


@router.post("/wallet/settings/place")
def change_place(request: Request, posted: PersonPost) -> Response:
    place = posted.form.get("new_place")
    return _settings_write(
        request,
        posted,
        "place",
        lambda ctx, uow: wallets.change_place_of_use(ctx, uow, posted.actor, place),
        {"region_unknown": "new_place", "place_of_use_change_not_allowed": "new_place"},
    )


@router.post("/wallet/settings/close")
def close_wallet(request: Request, posted: PersonPost) -> Response:
    return _settings_write(
        request,
        posted,
        "closed",
        lambda ctx, uow: wallets.close_wallet(ctx, uow, posted.actor),
        {},
    )
