"""/api/v1/reconciliation for designated institutions: totals (the REST twin of 3201) and the
detail upload (CSV) that finds the settlements that differ, both ways (docs/rules.md §11).

Both only read, so neither takes an Idempotency-Key; both are signed by the institution
(docs/signing.md) and compare only its own settlements. Amounts are yuan strings under the
national names, negative where reversals outweigh settlements; a JSON number with a fraction
is refused (``amount_float_refused``), as everywhere in the REST API.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar, Final

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from gongji.api.deps import get_context
from gongji.api.institution_auth import require_institution
from gongji.api.reads import read
from gongji.api.schemas import AmountIn, WholeNumber
from gongji.api.schemas import Request as Body
from gongji.core.errors import GongjiError
from gongji.core.money import format_yuan, parse_yuan
from gongji.kernel.context import Actor, Context
from gongji.settlement.service import reconciliation
from gongji.settlement.store.settlements_repo import SettlementRow

router = APIRouter(prefix="/api/v1/reconciliation", tags=["reconciliation"])
Institution = Annotated[Actor, Depends(require_institution)]
Ctx = Annotated[Context, Depends(get_context)]
CSV_BYTES_MAX: Final = 900_000  # under the 1 MiB body limit


class DetailBodyInvalid(GongjiError):
    code: ClassVar[str] = "reconciliation_body_invalid"
    message_zh: ClassVar[str] = "请以 UTF-8 编码的 CSV 文本上传对账明细，且不超过 {limit} 字节"
    message_en: ClassVar[str] = "Send the detail list as UTF-8 CSV text of at most {limit} bytes"


class TotalsIn(Body):
    """What the institution believes it settled over the period (3201's ``data``)."""

    stmt_begndate: date
    stmt_enddate: date
    insutype: Annotated[str, Field(pattern=r"^[0-9]{3}$")] | None = None
    clr_type: Annotated[str, Field(pattern=r"^(11|21|41)$")] | None = None
    setl_optins: Annotated[str, Field(pattern=r"^[0-9]{6}$")] | None = None
    fixmedins_setl_cnt: Annotated[WholeNumber, Field(ge=-(10**9), le=10**9)]
    medfee_sumamt: AmountIn
    fund_pay_sumamt: AmountIn
    acct_pay: AmountIn


@router.post("", summary="Reconcile totals (对总账): mine against the platform's")
def reconcile_totals(body: TotalsIn, institution: Institution, ctx: Ctx) -> dict[str, Any]:
    theirs = reconciliation.Totals(
        body.fixmedins_setl_cnt,
        parse_yuan(body.medfee_sumamt, allow_negative=True),
        parse_yuan(body.fund_pay_sumamt, allow_negative=True),
        parse_yuan(body.acct_pay, allow_negative=True),
    )
    result = read(
        ctx,
        lambda uow: reconciliation.reconcile_totals(
            ctx,
            uow,
            institution.id,
            body.stmt_begndate,
            body.stmt_enddate,
            body.insutype,
            theirs,
            insured_region=body.setl_optins,
            med_types=None if body.clr_type is None else reconciliation.CLR_TYPES[body.clr_type],
        ),
    )
    return {
        "fixmedins_code": result.institution_code,
        "stmt_begndate": result.first.isoformat(),
        "stmt_enddate": result.last.isoformat(),
        "insutype": result.insutype,
        "stmt_rslt": result.stmt_rslt,
        "platform": totals_out(result.ours),
        "institution": totals_out(result.theirs),
        "difference": totals_out(result.difference),
    }


@router.post(
    "/detail",
    summary="Reconcile the detail (对明细账): upload my settlements (CSV), get what differs",
)
async def reconcile_detail(
    request: Request,
    institution: Institution,
    ctx: Ctx,
    stmt_begndate: Annotated[date, Query()],
    stmt_enddate: Annotated[date, Query()],
) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > CSV_BYTES_MAX:
        raise DetailBodyInvalid(limit=CSV_BYTES_MAX)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DetailBodyInvalid(limit=CSV_BYTES_MAX) from None

    def compare() -> reconciliation.DetailResult:
        theirs = reconciliation.parse_detail_csv(text)
        return read(
            ctx,
            lambda uow: reconciliation.reconcile_detail(
                ctx, uow, institution.id, stmt_begndate, stmt_enddate, theirs
            ),
        )

    return detail_out(await run_in_threadpool(compare))


def totals_out(totals: reconciliation.Totals) -> dict[str, Any]:
    return {
        "fixmedins_setl_cnt": totals.fixmedins_setl_cnt,
        "medfee_sumamt": format_yuan(totals.medfee_sumamt),
        "fund_pay_sumamt": format_yuan(totals.fund_pay_sumamt),
        "acct_pay": format_yuan(totals.acct_pay),
    }


def _amounts(values: tuple[int, int, int]) -> dict[str, str]:
    return {
        name: format_yuan(fen)
        for name, fen in zip(reconciliation.DETAIL_AMOUNTS, values, strict=True)
    }


def _ours(row: SettlementRow) -> dict[str, Any]:
    return {
        "setl_id": row.setl_id,
        "kind": row.kind,
        "setl_date": row.business_date,
        "med_type": row.med_type,
        **_amounts(reconciliation.detail_amounts(row)),
    }


def detail_out(result: reconciliation.DetailResult) -> dict[str, Any]:
    return {
        "fixmedins_code": result.institution_code,
        "stmt_begndate": result.first.isoformat(),
        "stmt_enddate": result.last.isoformat(),
        "stmt_rslt": result.stmt_rslt,
        "matched": result.matched,
        "platform_only": [_ours(row) for row in result.ours_only],
        "institution_only": [
            {"line": line.line, "setl_id": line.setl_id, **_amounts(line.amounts)}
            for line in result.theirs_only
        ],
        "amounts_differ": [
            {
                "setl_id": row.setl_id,
                "line": line.line,
                "platform": _amounts(reconciliation.detail_amounts(row)),
                "institution": _amounts(line.amounts),
            }
            for row, line in result.amounts_differ
        ],
    }
