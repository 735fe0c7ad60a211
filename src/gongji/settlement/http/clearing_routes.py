"""/api/v1/clearing for operators: run a month's clearing (清算) and read it back as JSON, CSV,
XLSX (the clearing statement), or a picture (SVG, PNG).

Running is a write (Idempotency-Key, clerks); the service itself makes a second run of a month
return the stored result unchanged, whatever the key. Reading needs any operator role and only
shows a month that has been run (``not_found`` before).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from gongji.api.deps import get_context, require_permission
from gongji.api.errors import error_body
from gongji.api.reads import read
from gongji.api.writes import write
from gongji.kernel.context import Actor, Context
from gongji.kernel.permissions import Permission
from gongji.kernel.png import PngConverterMissing, svg_to_png_bytes
from gongji.settlement.reports import clearing as report
from gongji.settlement.reports.clearing_svg import render_svg
from gongji.settlement.service import clearing
from gongji.store.uow import UnitOfWork

router = APIRouter(prefix="/api/v1/clearing", tags=["clearing"])
Ctx = Annotated[Context, Depends(get_context)]
Clerk = Annotated[Actor, Depends(require_permission(Permission.RUN_CLEARING))]
AnyOperator = Annotated[Actor, Depends(require_permission(Permission.VIEW_CLEARING))]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _names(ctx: Context) -> Mapping[str, str]:
    return {code: region.name for code, region in ctx.regions.items()}


def _stored(ctx: Context, month: str) -> clearing.ClearingRun:
    return read(ctx, lambda uow: clearing.clearing_of(uow, month))


# The suffixed routes come first: ``{month}`` alone would also match ``2026-03.csv``.
@router.get(
    "/{month}.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
    summary="A cleared month as CSV (city pairs, province pairs, net per province)",
)
def clearing_csv(month: str, _: AnyOperator, ctx: Ctx) -> Response:
    body = report.as_csv(_stored(ctx, month), _names(ctx))
    headers = {"Content-Disposition": f'attachment; filename="clearing-{month}.csv"'}
    return Response(body, media_type="text/csv; charset=utf-8", headers=headers)


@router.get(
    "/{month}.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}},
    summary="A cleared month as the XLSX clearing statement (the CSV's rows, amounts as numbers)",
)
def clearing_xlsx(month: str, _: AnyOperator, ctx: Ctx) -> Response:
    body = report.as_xlsx(_stored(ctx, month), _names(ctx))
    headers = {"Content-Disposition": f'attachment; filename="clearing-{month}.xlsx"'}
    return Response(body, media_type=XLSX, headers=headers)


@router.get(
    "/{month}.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
    summary="A cleared month as a province-to-province flow picture (SVG)",
)
def clearing_picture(month: str, _: AnyOperator, ctx: Ctx) -> Response:
    body = render_svg(_stored(ctx, month), _names(ctx))
    return Response(body, media_type="image/svg+xml; charset=utf-8")


@router.get(
    "/{month}.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, 503: {"description": "no PNG converter"}},
    summary="A cleared month as a province-to-province flow picture (PNG)",
)
def clearing_png(month: str, _: AnyOperator, ctx: Ctx) -> Response:
    picture = render_svg(_stored(ctx, month), _names(ctx))
    try:
        body = svg_to_png_bytes(picture)
    except PngConverterMissing as missing:
        return JSONResponse(error_body("png_converter_missing", str(missing)), 503)
    return Response(body, media_type="image/png")


@router.get("/{month}", summary="A cleared month: city pairs, province pairs, net per province")
def clearing_json(month: str, _: AnyOperator, ctx: Ctx) -> dict[str, Any]:
    return report.as_json(_stored(ctx, month), _names(ctx))


@router.post(
    "/{month}/run",
    summary="Clear a month that has ended; a second run returns the stored result unchanged",
)
def run_month(month: str, request: Request, operator: Clerk) -> JSONResponse:
    def command(ctx: Context, uow: UnitOfWork) -> dict[str, Any]:
        return report.as_json(clearing.run_clearing(ctx, uow, month), _names(ctx))

    return write(request, operator, "admin.clearing.run", {"month": month}, command)
