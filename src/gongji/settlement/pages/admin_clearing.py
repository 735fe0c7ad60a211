"""经办后台 · 月度清算: run a month's clearing between regions and read it back, with its flow
chart, the province net positions and every province and city pair (docs/rules.md §11).

The figures are the clearing service's stored result (settlement.service.clearing): the first run
of an ended month stores it, every later run returns it unchanged, so the page shows what was
published. Running needs the clerk role (the service itself takes no actor); reading needs any
operator. The picture is the report's SVG (settlement.reports.clearing_svg), served by this module
under the operator's session and shown as an image: :func:`clearing_picture` is the one hook to
change if the picture's maker changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any, Final

from fastapi import APIRouter, Request
from starlette.responses import Response

from gongji.core.errors import GongjiError
from gongji.kernel.context import Context
from gongji.kernel.errors import NotFound
from gongji.kernel.permissions import Permission, operator_may
from gongji.settlement.domain.clearing import Month, parse_month
from gongji.settlement.reports import clearing as statement
from gongji.settlement.reports.clearing_svg import render_svg
from gongji.settlement.service import clearing
from gongji.settlement.service.clearing import ClearingRun
from gongji.web import i18n
from gongji.web.forms import FieldError, audited_commit, read, required
from gongji.web.render import finish, render, see_other
from gongji.web.routing import WebRoute
from gongji.web.session import OperatorPage, OperatorPost, Session, context_of, require_permission

router = APIRouter(route_class=WebRoute, include_in_schema=False)
XLSX: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SVG_HEADERS: Final = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def clearing_picture(run: ClearingRun, names: Mapping[str, str]) -> str:
    """The flow chart of a cleared month as an SVG document (the hook for the picture)."""
    return render_svg(run, names)


def region_names(ctx: Context) -> dict[str, str]:
    return {code: region.name for code, region in ctx.regions.items()}


def last_month(today: date) -> str:
    return (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def _stored(ctx: Context, month: Month) -> ClearingRun | None:
    try:
        return read(ctx, lambda uow: clearing.clearing_of(uow, month.text))
    except NotFound:
        return None


def _page(request: Request, session: Session, month_text: str, **context: Any) -> Response:
    ctx = context_of(request)
    context.setdefault("errors", {})
    try:
        month: Month | None = parse_month(month_text)
    except GongjiError as error:
        month = None
        context["errors"] = {"month": error.message(i18n.language(request))}
    found = _stored(ctx, month) if month is not None else None
    names = region_names(ctx)
    return render(
        request,
        "admin/clearing.html",
        session=session,
        month=month_text,
        found=found,
        names=names,
        may_run=operator_may(session.actor, Permission.RUN_CLEARING),
        values={"month": month_text},
        **context,
    )


@router.get("/admin/clearing")
def clearing_page(request: Request, session: OperatorPage) -> Response:
    require_permission(session, Permission.VIEW_CLEARING)
    today = context_of(request).today()
    month = request.query_params.get("month", "").strip()[:7] or last_month(today)
    return _page(request, session, month)


@router.post("/admin/clearing/run")
def run_month(request: Request, posted: OperatorPost) -> Response:
    require_permission(posted.session, Permission.RUN_CLEARING)
    ctx = context_of(request)
    month = posted.form.get("month")[:7]
    try:
        required(posted.form, "month", "清算月份", "the month")
        audited_commit(
            ctx, posted.actor, "clearing.run", lambda uow: clearing.run_clearing(ctx, uow, month)
        )
    except (FieldError, GongjiError) as problem:
        error = problem.error if isinstance(problem, FieldError) else problem
        errors = {"month": error.message(i18n.language(request))}
        return _page(request, posted.session, month, status=400, errors=errors)
    return see_other(request, f"/admin/clearing?month={month}&done=cleared")


def _cleared(request: Request, session: Session) -> ClearingRun:
    require_permission(session, Permission.VIEW_CLEARING)
    month = parse_month(request.path_params["month"][:7])
    found = _stored(context_of(request), month)
    if found is None:
        raise NotFound(what=f"{month.text} 的清算结果")
    return found


@router.get("/admin/clearing/{month}.svg")
def picture(request: Request, session: OperatorPage) -> Response:
    body = clearing_picture(_cleared(request, session), region_names(context_of(request)))
    return Response(body, media_type="image/svg+xml; charset=utf-8", headers=SVG_HEADERS)


@router.get("/admin/clearing/{month}.csv")
def statement_csv(request: Request, session: OperatorPage) -> Response:
    found = _cleared(request, session)
    body = statement.as_csv(found, region_names(context_of(request))).encode()
    name = f"clearing-{found.clearing.month}.csv"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return finish(request, Response(body, media_type="text/csv; charset=utf-8", headers=headers))


@router.get("/admin/clearing/{month}.xlsx")
def statement_xlsx(request: Request, session: OperatorPage) -> Response:
    found = _cleared(request, session)
    body = statement.as_xlsx(found, region_names(context_of(request)))
    name = f"clearing-{found.clearing.month}.xlsx"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return finish(request, Response(body, media_type=XLSX, headers=headers))
