"""我的记录 for an insured person: settlements with institution, amounts by source and items,
what their money paid for relatives, month totals drawn as bars; ``?month=YYYY-MM`` filters."""

from __future__ import annotations

import re
from typing import Final

from fastapi import APIRouter, Request
from starlette.responses import Response

from gongji.settlement.service import person_records
from gongji.store.uow import UnitOfWork
from gongji.web.forms import read
from gongji.web.render import render
from gongji.web.routing import WebRoute
from gongji.web.session import PersonPage, context_of

router = APIRouter(route_class=WebRoute, include_in_schema=False)
_MONTH: Final = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


@router.get("/wallet/records")
def records_page(request: Request, session: PersonPage) -> Response:
    ctx = context_of(request)
    asked = request.query_params.get("month", "")
    month = asked if _MONTH.fullmatch(asked) else None
    me = session.actor.id

    def work(uow: UnitOfWork) -> list[person_records.Record]:
        return person_records.records(ctx, uow, me, month)

    found = read(ctx, work)
    totals = person_records.month_totals(found)
    top = max([1, *(t.spent_fen + t.fund_fen for t in totals)])
    return render(
        request,
        "wallet/records.html",
        session=session,
        records=found,
        totals=totals,
        top=top,
        month=month or "",
    )
