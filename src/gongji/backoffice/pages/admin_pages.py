"""经办后台: the ledger check verdict, the kinship review queue, wallet freezes, lifecycle
events and the policy in force. The monthly clearing is in admin_clearing.

Operators never move money here: no form takes an amount. Each page names the roles it needs
(``admin`` passes every check), and the services check them again. Persons appear by psn_no and
masked name only; no ID number is ever shown.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time
from typing import Any, Final

from fastapi import APIRouter, Request
from starlette.responses import Response

from gongji.backoffice.service import statistics
from gongji.core.errors import GongjiError
from gongji.core.money import format_yuan
from gongji.core.policy_values import PolicyValue
from gongji.identity.service import identity
from gongji.kernel.context import Context
from gongji.kernel.errors import RegionUnknown
from gongji.kernel.permissions import ROLE_NAMES_ZH, Permission
from gongji.ledger.check import check_ledger
from gongji.mutual_aid.service import lifecycle, relationships, wallets
from gongji.mutual_aid.service import records as aid_records
from gongji.people.service import registry
from gongji.store.uow import UnitOfWork
from gongji.web import i18n
from gongji.web.forms import (
    DateInvalid,
    FieldError,
    audited_commit,
    errors_for,
    read,
    read_date,
    required,
)
from gongji.web.render import render, see_other
from gongji.web.routing import WebRoute
from gongji.web.session import (
    OperatorPage,
    OperatorPost,
    Posted,
    Session,
    context_of,
    require_permission,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)
Command = Callable[[Context, UnitOfWork], object]
DEFAULT_REGION: Final = "620100"
_PERSON_FIELDS: Final = {
    "not_found": "psn_no",
    "wallet_state_invalid": "psn_no",
    "enrolment_state_invalid": "psn_no",
    "person_deceased": "psn_no",
    "reason_required": "reason",
    "region_unknown": "new_region",
    "move_to_same_region": "new_region",
    "heirs_required": "certificate_no",
    "date_invalid": "on",
}


def _page(request: Request, session: Session, template: str, **context: Any) -> Response:
    return render(request, template, session=session, **context)


@router.get("/admin")
def dashboard(request: Request, session: OperatorPage) -> Response:
    require_permission(session, Permission.VIEW_OVERVIEW)
    ctx = context_of(request)
    report = check_ledger(ctx.engine)
    me = read(ctx, lambda uow: identity.who_am_i(ctx, uow, session.actor))
    today = ctx.today()
    month = read(ctx, lambda uow: statistics.figures(uow, today.replace(day=1), today))
    return _page(
        request,
        session,
        "admin/home.html",
        report=report,
        me=me,
        month=month,
        role_names=[ROLE_NAMES_ZH[role] for role in sorted(session.actor.roles)],
    )


# --- kinship reviews -------------------------------------------------------------------------


def _reviews(request: Request, session: Session, **context: Any) -> Response:
    require_permission(session, Permission.REVIEW_KINSHIP)
    context.setdefault("active", "")
    ctx = context_of(request)

    def work(uow: UnitOfWork) -> tuple[object, object]:
        queue = relationships.review_queue(uow)
        psn_nos = [p for r in queue for p in (r.proposer, r.relative)]
        return queue, registry.persons_by_no(uow.connection, psn_nos)

    queue, persons = read(ctx, work)
    return _page(request, session, "admin/reviews.html", queue=queue, persons=persons, **context)


@router.get("/admin/reviews")
def reviews(request: Request, session: OperatorPage) -> Response:
    return _reviews(request, session)


@router.post("/admin/reviews/{relationship_id}")
def review(request: Request, posted: OperatorPost) -> Response:
    require_permission(posted.session, Permission.REVIEW_KINSHIP)
    ctx, form = context_of(request), posted.form
    relationship_id = request.path_params["relationship_id"]
    approve = form.get("decision") == "approve"
    try:
        note = required(form, "note", "审核意见", "a note")
        audited_commit(
            ctx,
            posted.actor,
            "admin.review",
            lambda uow: relationships.review(
                ctx, uow, posted.actor, relationship_id, approve, note
            ),
            reason=note,
        )
    except (FieldError, GongjiError) as problem:
        extra = _problem(request, problem, {})
        return _reviews(request, posted.session, status=400, active=relationship_id, **extra)
    return see_other(request, "/admin/reviews?done=reviewed")


def _problem(
    request: Request, problem: FieldError | GongjiError, fields: dict[str, str]
) -> dict[str, object]:
    """``errors`` and ``values`` for re-rendering the form a refusal came from."""
    lang = i18n.language(request)
    if isinstance(problem, FieldError):
        return {"errors": {problem.name: problem.error.message(lang)}}
    return {"errors": errors_for(problem, lang, fields)}


# --- wallets ---------------------------------------------------------------------------------


def _wallets(request: Request, session: Session, psn_no: str, **context: Any) -> Response:
    require_permission(session, Permission.FREEZE_WALLETS)
    ctx = context_of(request)

    def work(uow: UnitOfWork) -> tuple[object, object]:
        return registry.person(uow.connection, psn_no), aid_records.wallet(uow.connection, psn_no)

    person, wallet = read(ctx, work) if psn_no else (None, None)
    return _page(
        request,
        session,
        "admin/wallets.html",
        psn_no=psn_no,
        person=person,
        wallet=wallet,
        **context,
    )


@router.get("/admin/wallets")
def wallets_page(request: Request, session: OperatorPage) -> Response:
    return _wallets(request, session, request.query_params.get("psn_no", "").strip()[:32])


@router.post("/admin/wallets/{verb}")
def freeze(request: Request, posted: OperatorPost) -> Response:
    require_permission(posted.session, Permission.FREEZE_WALLETS)
    ctx, form = context_of(request), posted.form
    frozen = request.path_params["verb"] == "freeze"
    psn_no = form.get("psn_no")
    try:
        required(form, "psn_no", "人员编号", "the psn_no")
        reason = required(form, "reason", "原因", "a reason")
        audited_commit(
            ctx,
            posted.actor,
            "admin.freeze" if frozen else "admin.unfreeze",
            lambda uow: wallets.set_frozen(ctx, uow, posted.actor, psn_no, frozen, reason),
            subject=psn_no,
            reason=reason,
        )
    except (FieldError, GongjiError) as problem:
        extra = _problem(request, problem, _PERSON_FIELDS)
        return _wallets(request, posted.session, psn_no, status=400, values=form.kept(), **extra)
    done = "frozen" if frozen else "unfrozen"
    return see_other(request, f"/admin/wallets?psn_no={psn_no}&done={done}")


# --- lifecycle -------------------------------------------------------------------------------


def _suspend(posted: Posted, psn_no: str) -> Command:
    reason = required(posted.form, "reason", "原因", "a reason")
    return lambda ctx, uow: lifecycle.suspend(ctx, uow, posted.actor, psn_no, reason)


def _resume(posted: Posted, psn_no: str) -> Command:
    reason = required(posted.form, "reason", "原因", "a reason")
    return lambda ctx, uow: lifecycle.resume(ctx, uow, posted.actor, psn_no, reason)


def _terminate(posted: Posted, psn_no: str) -> Command:
    on = read_date(posted.form, "on")
    reason = required(posted.form, "reason", "原因", "a reason")
    return lambda ctx, uow: lifecycle.terminate(ctx, uow, posted.actor, psn_no, on, reason)


def _move(posted: Posted, psn_no: str) -> Command:
    region = required(posted.form, "new_region", "转入地", "the new region")
    on = read_date(posted.form, "on")
    return lambda ctx, uow: lifecycle.move(ctx, uow, posted.actor, psn_no, region, on)


def _death(posted: Posted, psn_no: str) -> Command:
    on = read_date(posted.form, "on")
    certificate = required(posted.form, "certificate_no", "死亡证明编号", "the certificate no")
    return lambda ctx, uow: lifecycle.record_death(ctx, uow, posted.actor, psn_no, on, certificate)


LIFECYCLE_EVENTS: Final[dict[str, Callable[[Posted, str], Command]]] = {
    "suspend": _suspend,
    "resume": _resume,
    "terminate": _terminate,
    "move": _move,
    "death": _death,
}


def _lifecycle(request: Request, session: Session, **context: Any) -> Response:
    require_permission(session, Permission.CHANGE_ENROLMENT)
    regions = sorted(context_of(request).regions.values(), key=lambda region: region.code)
    context.setdefault("active", "")
    return _page(
        request,
        session,
        "admin/lifecycle.html",
        events=list(LIFECYCLE_EVENTS),
        regions=regions,
        **context,
    )


@router.get("/admin/lifecycle")
def lifecycle_page(request: Request, session: OperatorPage) -> Response:
    return _lifecycle(request, session)


@router.post("/admin/lifecycle/{event}")
def lifecycle_event(request: Request, posted: OperatorPost) -> Response:
    require_permission(posted.session, Permission.CHANGE_ENROLMENT)
    ctx, event = context_of(request), request.path_params["event"]
    build = LIFECYCLE_EVENTS.get(event)
    if build is None:
        return see_other(request, "/admin/lifecycle")
    try:
        psn_no = required(posted.form, "psn_no", "人员编号", "the psn_no")
        command = build(posted, psn_no)
        audited_commit(
            ctx,
            posted.actor,
            f"admin.{event}",
            lambda uow: command(ctx, uow),
            subject=psn_no,
            reason=posted.form.get("reason") or None,
        )
    except (FieldError, GongjiError) as problem:
        extra = _problem(request, problem, _PERSON_FIELDS)
        values = posted.form.kept()
        return _lifecycle(request, posted.session, status=400, active=event, values=values, **extra)
    return see_other(request, f"/admin/lifecycle?done=recorded&event={event}")


# --- policy -------------------------------------------------------------------------------------


def policy_text(value: PolicyValue, key: str, lang: i18n.Lang) -> str:
    """A policy value as an operator reads it: yuan, HH:MM, yes/no, a list."""
    t = i18n.chooser(lang)
    if key.endswith("_fen"):
        return t("不设上限", "no cap") if value is None else f"{format_yuan(int(str(value)))} 元"
    if isinstance(value, bool):
        return t("是", "yes") if value else t("否", "no")
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, tuple):
        return " → ".join(str(part) for part in value)
    return str(value)


@router.get("/admin/policy")
def policy(request: Request, session: OperatorPage) -> Response:
    require_permission(session, Permission.VIEW_POLICY)
    ctx, lang = context_of(request), i18n.language(request)
    me = read(ctx, lambda uow: identity.who_am_i(ctx, uow, session.actor))
    region = request.query_params.get("region", "").strip() or me.region or DEFAULT_REGION
    at_text = request.query_params.get("at", "").strip() or ctx.today().isoformat()
    values = {"region": region, "at": at_text}
    try:
        if region not in ctx.regions:
            raise FieldError("region", RegionUnknown(region=region))
        at = _date_or_refuse(at_text)
    except FieldError as problem:
        errors = {problem.name: problem.error.message(lang)}
        return _page(request, session, "admin/policy.html", rows=[], values=values, errors=errors)
    resolved = ctx.policies.resolve(region, at)
    rows = [
        (
            key,
            i18n.word(i18n.POLICY_KEY, key, lang),
            policy_text(getattr(resolved.policy, key), key, lang),
            source,
        )
        for key, source in resolved.sources.items()
    ]
    name = ctx.regions[region].name
    return _page(request, session, "admin/policy.html", rows=rows, values=values, region_name=name)


def _date_or_refuse(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FieldError("at", DateInvalid()) from None
