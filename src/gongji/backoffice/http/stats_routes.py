"""/api/v1/admin/stats: the business figures of a period as JSON, CSV, XLSX or an SVG chart,
read from the summary the statistics job keeps (never from the ledger)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from gongji.api.deps import get_context, require_permission
from gongji.api.reads import read
from gongji.backoffice.reports import statistics_files as files
from gongji.backoffice.service import statistics
from gongji.kernel.context import Actor, Context
from gongji.kernel.permissions import Permission

router = APIRouter(prefix="/api/v1/admin", tags=["operators"])
Ctx = Annotated[Context, Depends(get_context)]
Reader = Annotated[Actor, Depends(require_permission(Permission.VIEW_STATISTICS))]
From = Annotated[str, Query(alias="from", max_length=10)]
To = Annotated[str, Query(alias="to", max_length=10)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _table(ctx: Context, first: str, last: str) -> tuple[str, list[files.Row]]:
    start, end = statistics.period(first, last, ctx.today())
    figures, months = read(
        ctx,
        lambda uow: (
            statistics.figures(uow, start, end),
            statistics.month_series(uow, start, end),
        ),
    )
    names = {code: region.name for code, region in ctx.regions.items()}
    return f"{start}_{end}", files.rows(figures, names, months)


@router.get("/stats", summary="Business figures of a period (default: this month)")
def stats_json(_: Reader, ctx: Ctx, first: From = "", last: To = "") -> dict[str, Any]:
    span, table = _table(ctx, first, last)
    return {"period": span, "rows": files.to_json(table)}


@router.get("/stats.csv", summary="The figures as CSV")
def stats_csv(_: Reader, ctx: Ctx, first: From = "", last: To = "") -> Response:
    span, table = _table(ctx, first, last)
    disposition = f'attachment; filename="gongji-stats-{span}.csv"'
    return Response(
        files.to_csv(table),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": disposition},
    )


@router.get("/stats.xlsx", summary="The figures as XLSX")
def stats_xlsx(_: Reader, ctx: Ctx, first: From = "", last: To = "") -> Response:
    span, table = _table(ctx, first, last)
    disposition = f'attachment; filename="gongji-stats-{span}.xlsx"'
    body = files.to_xlsx(table, f"共济统计 {span}")
    return Response(body, media_type=XLSX, headers={"Content-Disposition": disposition})
