"""经办后台: find (查询), a person's whole story (人员档案) with the unmasked view, and the audit
trail search (审计日志).

Finding and opening a story are recorded in the audit trail, so they run in a committed unit of
work. The unmasked view is answered on the POST itself, never by a redirect: the clear values
must not travel in a URL, a browser history or a log line.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Final

from fastapi import APIRouter, Request
from starlette.responses import Response

from gongji.backoffice.service import audit_search, finder, person_story, unmask
from gongji.core.errors import GongjiError
from gongji.kernel.permissions import Permission, operator_may
from gongji.store.uow import UnitOfWork
from gongji.web import i18n
from gongji.web.forms import FORM, DateInvalid, commit, errors_for, read
from gongji.web.render import render
from gongji.web.routing import WebRoute
from gongji.web.session import OperatorPage, OperatorPost, Session, context_of, require_permission

router = APIRouter(route_class=WebRoute, include_in_schema=False)
QUERY_TEXT_MAX: Final = 64
_FIND_FIELDS: Final = {"name_needs_region": "region", "search_criteria_required": FORM}
_UNMASK_FIELDS: Final = {"unmask_reason_required": "reason"}


def _params(request: Request, names: tuple[str, ...]) -> dict[str, str]:
    return {n: request.query_params.get(n, "").strip()[:QUERY_TEXT_MAX] for n in names}


@router.get("/admin/find")
def find_page(request: Request, session: OperatorPage) -> Response:
    require_permission(session, Permission.FIND_PERSONS)
    ctx = context_of(request)
    values = _params(request, tuple(finder.FindQuery.__dataclass_fields__))
    regions = sorted(ctx.regions.values(), key=lambda region: region.code)
    context: dict[str, Any] = {"values": values, "regions": regions, "found": None}
    if any(values.values()):
        query = finder.FindQuery(**values)
        try:
            context["found"] = commit(ctx, lambda uow: finder.find(ctx, uow, session.actor, query))
        except GongjiError as problem:
            context["errors"] = errors_for(problem, i18n.language(request), _FIND_FIELDS)
            return render(request, "admin/find.html", status=400, session=session, **context)
    return render(request, "admin/find.html", session=session, **context)


def _person(
    request: Request, session: Session, psn_no: str, *, status: int = 200, **context: Any
) -> Response:
    require_permission(session, Permission.FIND_PERSONS)
    ctx = context_of(request)
    story = commit(ctx, lambda uow: person_story.viewed_story(ctx, uow, session.actor, psn_no))
    may_unmask = operator_may(session.actor, Permission.UNMASK_PERSONAL_DATA)
    context.setdefault("unmasked", None)
    return render(
        request,
        "admin/person.html",
        status=status,
        session=session,
        story=story,
        may_unmask=may_unmask,
        **context,
    )


@router.get("/admin/persons/{psn_no}")
def person_page(request: Request, session: OperatorPage) -> Response:
    return _person(request, session, request.path_params["psn_no"][:QUERY_TEXT_MAX])


@router.post("/admin/persons/{psn_no}/unmask")
def unmask_page(request: Request, posted: OperatorPost) -> Response:
    require_permission(posted.session, Permission.UNMASK_PERSONAL_DATA)
    ctx, psn_no = context_of(request), request.path_params["psn_no"][:QUERY_TEXT_MAX]
    reason = posted.form.get("reason")
    try:
        shown = commit(ctx, lambda uow: unmask.unmask(ctx, uow, posted.actor, psn_no, reason))
    except GongjiError as problem:
        errors = errors_for(problem, i18n.language(request), _UNMASK_FIELDS)
        values = {"reason": reason}
        return _person(request, posted.session, psn_no, status=400, errors=errors, values=values)
    return _person(request, posted.session, psn_no, unmasked=shown, values={"reason": reason})


def _day(text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DateInvalid() from None


@router.get("/admin/audit")
def audit_page(request: Request, session: OperatorPage) -> Response:
    require_permission(session, Permission.VIEW_AUDIT)
    ctx = context_of(request)
    values = _params(request, ("operator", "psn_no", "from", "to"))
    try:
        first, last = _day(values["from"]), _day(values["to"])
    except GongjiError as problem:
        errors = {"from": problem.message(i18n.language(request))}
        return render(
            request,
            "admin/audit.html",
            status=400,
            session=session,
            values=values,
            errors=errors,
            records=[],
        )

    def work(uow: UnitOfWork) -> object:
        return audit_search.search(
            uow, operator=values["operator"], psn_no=values["psn_no"], first=first, last=last
        )

    records = read(ctx, work)
    return render(request, "admin/audit.html", session=session, values=values, records=records)
