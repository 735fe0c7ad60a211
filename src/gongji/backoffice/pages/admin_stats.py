"""经办后台: 统计 — the business figures of a period with the daily chart (SVG) and the exports
(CSV, XLSX), all read from the summary the statistics job keeps."""

from __future__ import annotations

from datetime import date
from typing import Final

from fastapi import APIRouter, Request
from starlette.responses import Response

from gongji.backoffice.reports import statistics_files as files
from gongji.backoffice.service import statistics
from gongji.core.errors import GongjiError
from gongji.kernel.context import Context
from gongji.kernel.errors import NotFound
from gongji.kernel.permissions import Permission
from gongji.store.uow import UnitOfWork
from gongji.web import i18n
from gongji.web.forms import read
from gongji.web.render import finish, render
from gongji.web.routing import WebRoute
from gongji.web.session import OperatorPage, Session, context_of, require_permission

router = APIRouter(route_class=WebRoute, include_in_schema=False)
XLSX: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _period(request: Request, session: Session) -> tuple[Context, date, date]:
    require_permission(session, Permission.VIEW_STATISTICS)
    ctx = context_of(request)
    first = request.query_params.get("from", "").strip()[:10]
    last = request.query_params.get("to", "").strip()[:10]
    start, end = statistics.period(first, last, ctx.today())
    return ctx, start, end


def names_of(ctx: Context) -> dict[str, str]:
    return {code: region.name for code, region in ctx.regions.items()}


def _figures(
    uow: UnitOfWork, start: date, end: date
) -> tuple[statistics.Figures, list[statistics.MonthPoint]]:
    return statistics.figures(uow, start, end), statistics.month_series(uow, start, end)


@router.get("/admin/stats")
def stats_page(request: Request, session: OperatorPage) -> Response:
    values = {k: request.query_params.get(k, "")[:10] for k in ("from", "to")}
    try:
        ctx, start, end = _period(request, session)
    except GongjiError as problem:
        errors = {"from": problem.message(i18n.language(request))}
        return render(
            request, "admin/stats.html", status=400, session=session, values=values,
            errors=errors, figures=None, table=[], query="",
        )  # fmt: skip
    figures, months = read(ctx, lambda uow: _figures(uow, start, end))
    values = {"from": start.isoformat(), "to": end.isoformat()}
    return render(
        request,
        "admin/stats.html",
        session=session,
        values=values,
        figures=figures,
        table=files.rows(figures, names_of(ctx), months),
        sections=files.SECTIONS_ZH,
        query=f"from={start}&to={end}",
    )


@router.get("/admin/stats.svg")
def stats_chart(request: Request, session: OperatorPage) -> Response:
    ctx, start, end = _period(request, session)
    points = read(ctx, lambda uow: statistics.series(uow, start, end))
    body = files.chart_svg(points, f"每日共济金额与使用金额 {start} — {end}")
    response = Response(body, media_type="image/svg+xml; charset=utf-8")
    return finish(request, response)


@router.get("/admin/stats.{kind}")
def stats_export(request: Request, session: OperatorPage) -> Response:
    ctx, start, end = _period(request, session)
    kind = request.path_params["kind"]
    if kind not in ("csv", "xlsx"):
        raise NotFound(what=f"stats.{kind[:8]}")
    figures, months = read(ctx, lambda uow: _figures(uow, start, end))
    table = files.rows(figures, names_of(ctx), months)
    name = f"gongji-stats-{start}_{end}"
    if kind == "xlsx":
        body, media = files.to_xlsx(table, f"共济统计 {start} — {end}"), XLSX
    else:
        body, media = files.to_csv(table).encode(), "text/csv; charset=utf-8"
    headers = {"Content-Disposition": f'attachment; filename="{name}.{kind}"'}
    return finish(request, Response(body, media_type=media, headers=headers))
