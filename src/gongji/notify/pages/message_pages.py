"""消息: the inbox page (opening it marks the messages read), the person's message settings, and
the unread badge every wallet page shows beside 消息."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from fastapi import APIRouter, Request
from starlette.responses import Response

from gongji.core.errors import GongjiError
from gongji.kernel.context import ActorKind
from gongji.notify.domain.messages import NoticeKind
from gongji.notify.service import inbox, preferences
from gongji.store.uow import UnitOfWork
from gongji.web import i18n
from gongji.web.forms import commit, errors_for, read
from gongji.web.render import render, see_other
from gongji.web.routing import WebRoute
from gongji.web.session import PersonPage, PersonPost, Session, context_of

router = APIRouter(route_class=WebRoute, include_in_schema=False)


def unread_badge(request: Request, session: Session | None) -> Mapping[str, Any]:
    """``unread`` for the nav of a person's pages; nothing for anyone else."""
    if session is None or session.actor.kind is not ActorKind.PERSON:
        return {}
    ctx = context_of(request)
    return {"unread": read(ctx, lambda uow: inbox.unread(uow, session.actor.id))}


def _page(
    request: Request, session: Session, *, status: int = 200, errors: dict[str, str] | None = None
) -> Response:
    ctx = context_of(request)
    me = session.actor.id
    lang = i18n.language(request)

    def work(uow: UnitOfWork) -> tuple[list[inbox.Message], preferences.Preferences]:
        return inbox.messages(uow, me, lang), preferences.of(uow, me)

    messages, wanted = read(ctx, work)
    if any(not m.read for m in messages):
        commit(ctx, lambda uow: inbox.mark_all_read(ctx, uow, me))
    return render(
        request,
        "wallet/messages.html",
        status=status,
        session=session,
        messages=messages,
        wanted=wanted,
        kinds=list(NoticeKind),
        errors=errors,
        unread=0,
    )


@router.get("/wallet/messages")
def messages_page(request: Request, session: PersonPage) -> Response:
    return _page(request, session)


@router.post("/wallet/messages/settings")
def save_settings(request: Request, posted: PersonPost) -> Response:
    ctx = context_of(request)
    form = posted.form
    muted = [kind.value for kind in NoticeKind if form.get(f"sms_{kind.value}") != "1"]
    try:
        commit(
            ctx,
            lambda uow: preferences.save_notifications(
                ctx,
                uow,
                posted.actor,
                sms_enabled=form.get("sms_enabled") == "1",
                muted=muted,
                quiet_start=form.get("quiet_start"),
                quiet_end=form.get("quiet_end"),
            ),
        )
    except GongjiError as error:
        errors = errors_for(error, i18n.language(request), {"quiet_hours_invalid": "quiet_start"})
        return _page(request, posted.session, status=400, errors=errors)
    return see_other(request, "/wallet/messages?done=notify_saved")


CHOICE_PAGES: Final = frozenset({"/wallet", "/wallet/authorizations"})
"""The pages that show the switch, and so the only ones it goes back to."""


@router.post("/wallet/settings/mutual-aid")
def choose_mutual_aid(request: Request, posted: PersonPost) -> Response:
    """就医时使用家庭共济: the standing choice, overridable per settlement (docs/rules.md §6.2)."""
    ctx = context_of(request)
    on = posted.form.get("use_mutual_aid") == "1"
    commit(ctx, lambda uow: preferences.set_use_mutual_aid(ctx, uow, posted.actor, on))
    back = posted.form.get("back")
    page = back if back in CHOICE_PAGES else "/wallet"
    return see_other(request, f"{page}?done=mutual_aid_{'on' if on else 'off'}")
