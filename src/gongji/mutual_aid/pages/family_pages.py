"""Family (共济关系) and authorizations (家庭共济授权): who my relatives are to me and in what
state, proposing, confirming, rejecting and dissolving, and binding relatives with a quota.

Relatives are shown by masked name and kinship as seen from the reader's side: a relationship
stored as "B is A's parent" reads "父母" for A and "子女" for B.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from fastapi import APIRouter, Request
from starlette.responses import Response

from gongji.core.errors import GongjiError
from gongji.identity.service import payment_password
from gongji.kernel.context import Context
from gongji.mutual_aid.pages.payment_pages import confirm_payment
from gongji.mutual_aid.service import authorizations, relationships
from gongji.notify.service import preferences
from gongji.notify.service.preferences import MutualAidChoice
from gongji.people.domain.kinship import Kinship, inverse
from gongji.people.service import registry
from gongji.store.records import AuthorizationRecord
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
)
from gongji.web.forms import required as required_field
from gongji.web.render import render, see_other
from gongji.web.routing import WebRoute
from gongji.web.session import PersonPage, PersonPost, Posted, Session, context_of

router = APIRouter(route_class=WebRoute, include_in_schema=False)
OPEN_STATUSES: Final = frozenset({"proposed", "pending_review", "active"})
_PROPOSE_FIELDS: Final = {
    "relative_not_found": "id_number",
    "relationship_with_self": "id_number",
    "relationship_exists": "id_number",
    "kinship_kind_unknown": "kind",
}
_BIND_FIELDS: Final = {
    **{code: "quota" for code in AMOUNT_CODES},
    "relationship_not_active": "recipient",
    "relationship_not_verified": "recipient",
    "authorization_exists": "recipient",
    "authorization_out_of_scope": "recipient",
    "not_found": "recipient",
}


@dataclass(frozen=True, slots=True)
class RelativeRow:
    relationship_id: str
    psn_no: str
    name_masked: str
    kind: str  # what the relative is to the reader
    status: str
    i_confirm: bool  # the reader is asked to confirm it

    @property
    def open(self) -> bool:
        return self.status in OPEN_STATUSES


def relatives(uow: UnitOfWork, me: str) -> list[RelativeRow]:
    found = relationships.list_for(uow, me)
    names = registry.persons_by_no(uow.connection, [r.other(me) for r in found])
    rows = []
    for record in found:
        other = record.other(me)
        kind = Kinship(record.kind)
        person = names.get(other)
        rows.append(
            RelativeRow(
                relationship_id=record.id,
                psn_no=other,
                name_masked=person.name_masked if person else "",
                kind=(kind if record.proposer == me else inverse(kind)).value,
                status=record.status,
                i_confirm=record.relative == me and record.status == "proposed",
            )
        )
    return rows


def active_relatives(uow: UnitOfWork, me: str) -> list[RelativeRow]:
    return [row for row in relatives(uow, me) if row.status == "active"]


# --- family ----------------------------------------------------------------------------------


def _family(
    request: Request,
    session: Session,
    *,
    status: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    ctx = context_of(request)
    rows = read(ctx, lambda uow: relatives(uow, session.actor.id))
    return render(
        request,
        "wallet/family.html",
        status=status,
        session=session,
        rows=rows,
        kinds=list(Kinship),
        values=values,
        errors=errors,
    )


@router.get("/wallet/family")
def family(request: Request, session: PersonPage) -> Response:
    return _family(request, session)


@router.post("/wallet/family/propose")
def propose(request: Request, posted: PersonPost) -> Response:
    ctx, form = context_of(request), posted.form
    try:
        id_number = required_field(form, "id_number", "亲属的身份证号", "the relative's ID number")
        name = required_field(form, "name", "亲属的姓名", "the relative's name")
        kind = required_field(form, "kind", "亲属关系", "the kinship")
        commit(
            ctx, lambda uow: relationships.propose(ctx, uow, posted.actor, id_number, name, kind)
        )
    except FieldError as problem:
        errors = {problem.name: problem.error.message(i18n.language(request))}
        return _family(request, posted.session, status=400, values=form.kept(), errors=errors)
    except GongjiError as error:
        errors = errors_for(error, i18n.language(request), _PROPOSE_FIELDS)
        return _family(request, posted.session, status=400, values=form.kept(), errors=errors)
    return see_other(request, "/wallet/family?done=proposed")


def _step(request: Request, posted: Posted, action: relationships.Action, done: str) -> Response:
    ctx = context_of(request)
    relationship_id = request.path_params["relationship_id"]
    try:
        commit(ctx, lambda uow: action(ctx, uow, posted.actor, relationship_id))
    except GongjiError as error:
        errors = errors_for(error, i18n.language(request), {})
        return _family(request, posted.session, status=400, errors=errors)
    return see_other(request, f"/wallet/family?done={done}")


@router.post("/wallet/family/{relationship_id}/confirm")
def confirm(request: Request, posted: PersonPost) -> Response:
    return _step(request, posted, relationships.confirm, "confirmed")


@router.post("/wallet/family/{relationship_id}/reject")
def reject(request: Request, posted: PersonPost) -> Response:
    return _step(request, posted, relationships.reject, "rejected")


@router.post("/wallet/family/{relationship_id}/dissolve")
def dissolve(request: Request, posted: PersonPost) -> Response:
    return _step(request, posted, relationships.dissolve, "dissolved")


# --- authorizations --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuthorizationRow:
    record: AuthorizationRecord
    name_masked: str
    given: bool  # the reader is the contributor

    @property
    def left_fen(self) -> int | None:
        quota = self.record.quota_fen
        return None if quota is None else max(quota - self.record.used_fen, 0)


def _authorization_rows(uow: UnitOfWork, me: str) -> list[AuthorizationRow]:
    found = authorizations.list_for(uow, me)
    others = [a.recipient if a.contributor == me else a.contributor for a in found]
    names = registry.persons_by_no(uow.connection, others)
    rows = []
    for record, other in zip(found, others, strict=True):
        person = names.get(other)
        name = person.name_masked if person else ""
        rows.append(AuthorizationRow(record, name, record.contributor == me))
    return sorted(rows, key=lambda row: (row.given, row.record.binding_seq))


def _authorizations(
    request: Request,
    session: Session,
    *,
    status: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    ctx = context_of(request)
    me = session.actor.id

    def work(uow: UnitOfWork) -> tuple[list[AuthorizationRow], list[RelativeRow], MutualAidChoice]:
        chosen = preferences.mutual_aid_choice(ctx, uow, me)
        return _authorization_rows(uow, me), active_relatives(uow, me), chosen

    rows, choices, mutual_aid = read(ctx, work)
    pin = read(ctx, lambda uow: payment_password.status(ctx, uow, me))
    return render(
        request,
        "wallet/authorizations.html",
        pin=pin,
        status=status,
        session=session,
        given=[row for row in rows if row.given],
        received=[row for row in rows if not row.given],
        choices=choices,
        mutual_aid=mutual_aid,
        choice_back="/wallet/authorizations",
        values=values,
        errors=errors,
    )


@router.get("/wallet/authorizations")
def authorizations_page(request: Request, session: PersonPage) -> Response:
    return _authorizations(request, session)


@router.post("/wallet/authorizations/bind")
def bind(request: Request, posted: PersonPost) -> Response:
    ctx, form = context_of(request), posted.form

    def command(ctx: Context, uow: UnitOfWork) -> object:
        recipient = required_field(form, "recipient", "要授权的亲属", "a relative")
        quota = read_amount(form, "quota") if form.get("quota") else None
        return authorizations.bind(ctx, uow, posted.actor, recipient, quota)

    try:
        dry_run(ctx, lambda uow: command(ctx, uow))  # a refused binding asks no password
        refused = confirm_payment(request, posted)
        if refused is None:
            commit(ctx, lambda uow: command(ctx, uow))
    except FieldError as problem:
        errors = {problem.name: problem.error.message(i18n.language(request))}
    except GongjiError as error:
        errors = errors_for(error, i18n.language(request), _BIND_FIELDS)
    else:
        if refused is None:
            return see_other(request, "/wallet/authorizations?done=bound")
        errors = refused
    return _authorizations(request, posted.session, status=400, values=form.kept(), errors=errors)


@router.post("/wallet/authorizations/{authorization_id}/revoke")
def revoke(request: Request, posted: PersonPost) -> Response:
    ctx = context_of(request)
    authorization_id = request.path_params["authorization_id"]
    try:
        commit(ctx, lambda uow: authorizations.revoke(ctx, uow, posted.actor, authorization_id))
    except GongjiError as error:
        errors = errors_for(error, i18n.language(request), {})
        return _authorizations(request, posted.session, status=400, errors=errors)
    return see_other(request, "/wallet/authorizations?done=revoked")
