"""经办后台: 报表 — the monthly mutual-aid report of a region (or all) and the month's inheritance
payouts, as a printable page, CSV and XLSX (docs/backoffice.md §Reports)."""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request
from starlette.responses import Response

from gongji.backoffice.pages.admin_stats import XLSX, names_of
from gongji.backoffice.reports import statistics_files as files
from gongji.backoffice.service import reports
from gongji.backoffice.service.reports import MonthlyReport
from gongji.core.errors import GongjiError
from gongji.kernel.errors import NotFound
from gongji.kernel.permissions import Permission
from gongji.store.uow import UnitOfWork, run_in_transaction
from gongji.web import i18n
from gongji.web.forms import read
from gongji.web.render import finish, render
from gongji.web.routing import WebRoute
from gongji.web.session import OperatorPage, Session, context_of, require_permission

router = APIRouter(route_class=WebRoute, include_in_schema=False)
EXPORTS: Final = ("csv", "xlsx")


def _report(request: Request, session: Session, exported: str | None = None) -> MonthlyReport:
    """The report asked for; a file taken away (``exported``: its format) is recorded in the
    audit trail in the same transaction, as the operator API records every report read."""
    require_permission(session, Permission.VIEW_REPORTS)
    ctx = context_of(request)
    today = ctx.today()
    month = request.query_params.get("month", "").strip()[:7] or today.isoformat()[:7]
    region = request.query_params.get("region", "").strip()[:6] or None
    if exported is None:
        return read(ctx, lambda uow: reports.monthly(ctx, uow, month, region, today))

    def work(uow: UnitOfWork) -> MonthlyReport:
        found = reports.monthly(ctx, uow, month, region, today)
        where = region or "all"
        reports.record_read(
            ctx, uow, session.actor, "monthly", found.month, region=where, format=exported
        )
        uow.commit()
        return found

    return run_in_transaction(ctx.engine, work)


@router.get("/admin/reports")
def reports_page(request: Request, session: OperatorPage) -> Response:
    ctx = context_of(request)
    regions = sorted(ctx.regions.values(), key=lambda region: region.code)
    values = {k: request.query_params.get(k, "")[:7] for k in ("month", "region")}
    try:
        report = _report(request, session)
    except GongjiError as problem:
        errors = {"month": problem.message(i18n.language(request))}
        return render(
            request, "admin/reports.html", status=400, session=session, values=values,
            errors=errors, report=None, regions=regions, names={}, query="",
        )  # fmt: skip
    query = f"month={report.month}" + (f"&region={report.region}" if report.region else "")
    return render(
        request,
        "admin/reports.html",
        session=session,
        values={"month": report.month, "region": report.region or ""},
        report=report,
        regions=regions,
        names=names_of(ctx),
        query=query,
    )


@router.get("/admin/reports.{kind}")
def report_export(request: Request, session: OperatorPage) -> Response:
    kind = request.path_params["kind"]
    if kind not in EXPORTS:
        raise NotFound(what=f"reports.{kind[:8]}")
    report = _report(request, session, exported=kind)
    table = files.report_rows(report, names_of(context_of(request)))
    name = f"gongji-report-{report.month}-{report.region or 'all'}"
    if kind == "xlsx":
        body, media = files.to_xlsx(table, f"医保个人账户共济月报 {report.month}"), XLSX
    else:
        body, media = files.to_csv(table).encode(), "text/csv; charset=utf-8"
    headers = {"Content-Disposition": f'attachment; filename="{name}.{kind}"'}
    return finish(request, Response(body, media_type=media, headers=headers))
