"""/api/v1/admin/reports: what a bureau sends upward, through the operator API — the monthly
mutual-aid report of a region or all, the month's inheritance payouts and the clearing statement
(docs/backoffice.md §Reports).

Each answers JSON, CSV or XLSX: ``format=json|csv|xlsx`` when given, else the ``Accept`` header
(``text/csv``, the XLSX media type), else JSON. The figures are the ones the pages and their
exports show (``reports.monthly``, ``statistics_files.report_rows``, the clearing's own
statement), so a file and the page never disagree. Every read is recorded in the audit trail in
the same transaction (``backoffice.report.read``: which report, month, region, format), which is
why these GETs run in a committed unit of work, like opening a person's story.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from gongji.api.deps import get_context, require_permission
from gongji.backoffice.reports import payout_files
from gongji.backoffice.reports import statistics_files as files
from gongji.backoffice.service import reports
from gongji.kernel.context import Actor, Context
from gongji.kernel.permissions import Permission
from gongji.people.service.search import InheritancePayout
from gongji.settlement.reports import clearing as statement
from gongji.settlement.service import clearing
from gongji.store.uow import UnitOfWork, run_in_transaction

router = APIRouter(prefix="/api/v1/admin/reports", tags=["operators"])
Ctx = Annotated[Context, Depends(get_context)]
Reader = Annotated[Actor, Depends(require_permission(Permission.VIEW_REPORTS))]
Month = Annotated[
    str, Query(max_length=16, description="YYYY-MM, a month that has begun; default this month")
]
Format = Annotated[
    str, Query(max_length=16, description="json, csv or xlsx; default by Accept, else json")
]
XLSX: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FILES: Final[dict[str, Any]] = {
    "text/csv": {"schema": {"type": "string"}},
    XLSX: {"schema": {"type": "string", "format": "binary"}},
}


def _documented(schema: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    """The 200 answer in its three forms, for the OpenAPI document."""
    content = {"application/json": {"schema": schema}, **_FILES}
    return {200: {"description": "The report as JSON, CSV or XLSX", "content": content}}


_ROWS_SCHEMA: Final = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["section", "key", "name", "count", "amount"],
        "properties": {
            "section": {"type": "string"},
            "key": {"type": "string"},
            "name": {"type": "string"},
            "count": {"type": "integer"},
            "amount": {"type": ["string", "null"], "description": "yuan, two decimals"},
        },
    },
}
MONTHLY_SCHEMA: Final = {
    "type": "object",
    "required": ["month", "region", "rows", "totals"],
    "properties": {
        "month": {"type": "string"},
        "region": {"type": ["string", "null"]},
        "rows": _ROWS_SCHEMA,
        "totals": {"type": "object"},
    },
}
PAYOUTS_SCHEMA: Final = {
    "type": "object",
    "required": ["month", "count", "total", "payouts"],
    "properties": {
        "month": {"type": "string"},
        "count": {"type": "integer"},
        "total": {"type": "string"},
        "payouts": {"type": "array", "items": {"type": "object"}},
    },
}
CLEARING_SCHEMA: Final = {
    "type": "object",
    "required": ["month", "digest", "total", "city_pairs", "province_pairs", "province_net"],
    "properties": {
        "month": {"type": "string"},
        "digest": {"type": "string"},
        "total": {"type": "string"},
        "city_pairs": {"type": "array", "items": {"type": "object"}},
        "province_pairs": {"type": "array", "items": {"type": "object"}},
        "province_net": {"type": "array", "items": {"type": "object"}},
    },
}


def chosen_format(asked: str, accept: str) -> str:
    """The answer's format: ``format=`` when given (checked), else by ``Accept``, else JSON."""
    if asked:
        return reports.check_format(asked)
    if XLSX in accept:
        return "xlsx"
    if "text/csv" in accept:
        return "csv"
    return "json"


def _answer(
    kind: str,
    name: str,
    as_json: Callable[[], dict[str, Any]],
    as_csv: Callable[[], str],
    as_xlsx: Callable[[], bytes],
) -> Response:
    if kind == "json":
        return JSONResponse(as_json())
    headers = {"Content-Disposition": f'attachment; filename="{name}.{kind}"'}
    if kind == "csv":
        return Response(as_csv(), media_type="text/csv; charset=utf-8", headers=headers)
    return Response(as_xlsx(), media_type=XLSX, headers=headers)


def _recorded(ctx: Context, work: Callable[[UnitOfWork], Any]) -> Any:
    """Read and record the read in one committed transaction."""

    def run(uow: UnitOfWork) -> Any:
        result = work(uow)
        uow.commit()
        return result

    return run_in_transaction(ctx.engine, run)


def _month(ctx: Context, month: str) -> str:
    return month.strip() or ctx.today().isoformat()[:7]


def _last_month(ctx: Context, month: str) -> str:
    """The month asked, else the last one (the latest a clearing can have been run for)."""
    return month.strip() or (ctx.today().replace(day=1) - timedelta(days=1)).isoformat()[:7]


@router.get(
    "/monthly",
    response_class=Response,
    responses=_documented(MONTHLY_SCHEMA),
    summary="The monthly mutual-aid report of a pooling region or all, as JSON, CSV or XLSX",
)
def monthly_report(
    request: Request,
    operator: Reader,
    ctx: Ctx,
    month: Month = "",
    region: Annotated[str, Query(max_length=16, description="a pooling region; all if empty")] = "",
    format: Format = "",
) -> Response:
    kind = chosen_format(format, request.headers.get("accept", ""))
    asked, where = _month(ctx, month), region.strip() or None

    def work(uow: UnitOfWork) -> reports.MonthlyReport:
        found = reports.monthly(ctx, uow, asked, where, ctx.today())
        reports.record_read(
            ctx, uow, operator, "monthly", found.month, region=where or "all", format=kind
        )
        return found

    report: reports.MonthlyReport = _recorded(ctx, work)
    names = {code: known.name for code, known in ctx.regions.items()}
    table = files.report_rows(report, names)
    title = f"医保个人账户共济月报 {report.month}"
    return _answer(
        kind,
        f"gongji-report-{report.month}-{report.region or 'all'}",
        lambda: {
            "month": report.month,
            "region": report.region,
            "rows": files.to_json(table),
            "totals": files.report_totals(report),
        },
        lambda: files.to_csv(table),
        lambda: files.to_xlsx(table, title),
    )


@router.get(
    "/inheritance-payouts",
    response_class=Response,
    responses=_documented(PAYOUTS_SCHEMA),
    summary="The inheritance payouts of a month (heirs masked), as JSON, CSV or XLSX",
)
def inheritance_payouts(
    request: Request, operator: Reader, ctx: Ctx, month: Month = "", format: Format = ""
) -> Response:
    kind = chosen_format(format, request.headers.get("accept", ""))
    asked = _month(ctx, month)

    def work(uow: UnitOfWork) -> list[InheritancePayout]:
        found = reports.payouts_of(uow, asked, ctx.today())
        reports.record_read(ctx, uow, operator, "inheritance_payouts", asked, format=kind)
        return found

    payouts = _recorded(ctx, work)
    return _answer(
        kind,
        f"gongji-inheritance-{asked}",
        lambda: payout_files.to_json(asked, payouts),
        lambda: payout_files.to_csv(payouts),
        lambda: payout_files.to_xlsx(asked, payouts),
    )


@router.get(
    "/clearing",
    response_class=Response,
    responses=_documented(CLEARING_SCHEMA),
    summary="The clearing statement of a cleared month (default: last month), JSON, CSV or XLSX",
)
def clearing_statement(
    request: Request, operator: Reader, ctx: Ctx, month: Month = "", format: Format = ""
) -> Response:
    kind = chosen_format(format, request.headers.get("accept", ""))
    asked = _last_month(ctx, month)

    def work(uow: UnitOfWork) -> clearing.ClearingRun:
        found = clearing.clearing_of(uow, asked)
        reports.record_read(ctx, uow, operator, "clearing", found.clearing.month, format=kind)
        return found

    run: clearing.ClearingRun = _recorded(ctx, work)
    names = {code: known.name for code, known in ctx.regions.items()}
    return _answer(
        kind,
        f"clearing-{run.clearing.month}",
        lambda: statement.as_json(run, names),
        lambda: statement.as_csv(run, names),
        lambda: statement.as_xlsx(run, names),
    )
