"""亲情账户 (guardian mode, docs/rules.md §17): on one page a person lets relatives show their
e-voucher and see their wallet, or ends that; and sees whose voucher they may show for them.

The holder's pages are writes of the holder's own consent; the guardian's pages only read,
except that each voucher shown is recorded in the holder's history. A consent revoked or a
relationship ended refuses the guardian's next request (``guardian_not_allowed``, 403).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from fastapi import APIRouter, Request
from starlette.responses import Response

from gongji.core.errors import GongjiError
from gongji.mutual_aid.pages.family_pages import RelativeRow, active_relatives
from gongji.mutual_aid.pages.history import event_rows
from gongji.mutual_aid.pages.wallet_pages import VOUCHER_REFRESH_S, voucher_qr
from gongji.mutual_aid.service import guardians, wallet_view
from gongji.people.service.credentials_lookup import EC_TOKEN_VALID_S
from gongji.store.records import PersonEvent
from gongji.store.uow import UnitOfWork
from gongji.web import i18n
from gongji.web.forms import commit, errors_for, read
from gongji.web.render import render, see_other
from gongji.web.routing import WebRoute
from gongji.web.session import PersonPage, PersonPost, Session, context_of

router = APIRouter(route_class=WebRoute, include_in_schema=False)
HISTORY_SHOWN: Final = 20


@dataclass(frozen=True, slots=True)
class ConsentChoice:
    """One active relative and whether they may show my voucher."""

    relative: RelativeRow
    consent: guardians.Consent | None


def _page(
    request: Request, session: Session, *, status: int = 200, errors: dict[str, str] | None = None
) -> Response:
    ctx, me = context_of(request), session.actor.id

    def work(uow: UnitOfWork) -> tuple[list[ConsentChoice], list[guardians.Consent]]:
        given = {consent.guardian: consent for consent in guardians.given_by(uow, me)}
        choices = [ConsentChoice(row, given.get(row.psn_no)) for row in active_relatives(uow, me)]
        return choices, guardians.held_by(uow, me)

    choices, held = read(ctx, work)
    return render(
        request,
        "wallet/guardian.html",
        status=status,
        session=session,
        choices=choices,
        held=held,
        errors=errors,
    )


@router.get("/wallet/guardian")
def guardian_home(request: Request, session: PersonPage) -> Response:
    return _page(request, session)


@router.post("/wallet/guardian/grant")
def grant(request: Request, posted: PersonPost) -> Response:
    """The holder lets the other side of one of their active relationships act as guardian."""
    ctx = context_of(request)
    relationship_id = posted.form.get("relationship_id")
    try:
        commit(ctx, lambda uow: guardians.grant(ctx, uow, posted.actor, relationship_id))
    except GongjiError as error:
        errors = errors_for(error, i18n.language(request), {})
        return _page(request, posted.session, status=400, errors=errors)
    return see_other(request, "/wallet/guardian?done=guardian_granted")


@router.post("/wallet/guardian/{consent_id}/revoke")
def revoke(request: Request, posted: PersonPost) -> Response:
    ctx = context_of(request)
    consent_id = request.path_params["consent_id"]
    try:
        commit(ctx, lambda uow: guardians.revoke(ctx, uow, posted.actor, consent_id))
    except GongjiError as error:
        errors = errors_for(error, i18n.language(request), {})
        return _page(request, posted.session, status=400, errors=errors)
    return see_other(request, "/wallet/guardian?done=guardian_revoked")


@router.get("/wallet/guardian/for/{holder}/voucher")
def holder_voucher(request: Request, session: PersonPage) -> Response:
    """代出示: the holder's e-voucher, fresh, on the guardian's phone; refreshed like one's own."""
    ctx, holder = context_of(request), request.path_params["holder"]

    def work(uow: UnitOfWork) -> tuple[str, str]:
        token = guardians.show_voucher(ctx, uow, session.actor, holder)
        return token, guardians.name_of(uow, holder)

    token, name = commit(ctx, work)
    return render(
        request,
        "wallet/voucher.html",
        session=session,
        token=token,
        qr=voucher_qr(token),
        refresh_s=VOUCHER_REFRESH_S,
        expires_at_us=ctx.now_us() + EC_TOKEN_VALID_S * 1_000_000,
        on_behalf_of=name,
        refresh_href=f"/wallet/guardian/for/{holder}/voucher",
    )


@router.get("/wallet/guardian/for/{holder}")
def holder_wallet(request: Request, session: PersonPage) -> Response:
    """The holder's wallet, read-only: balances, quotas and the latest of their history."""
    ctx, holder = context_of(request), request.path_params["holder"]

    def work(uow: UnitOfWork) -> tuple[wallet_view.WalletView, list[PersonEvent]]:
        view = guardians.wallet_of(ctx, uow, session.actor, holder)
        return view, wallet_view.latest(uow, holder, HISTORY_SHOWN)

    view, events = read(ctx, work)
    return render(
        request,
        "wallet/guardian_wallet.html",
        session=session,
        view=view,
        holder=holder,
        rows=event_rows(events, holder, i18n.language(request)),
    )
