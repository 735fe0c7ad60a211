"""我的记录 for an insured person: settlements with institution, amounts by source and items,
what their money paid for relatives, month totals drawn as bars; ``?month=YYYY-MM`` filters.
A guardian (亲情账户) reads the same page for the relative who lets them, from the relative's
read-only wallet.

The guardian's page lives here, not with guardian mode's pages: the records are the settlement
area's, which sits above mutual aid and asks its guardian check first.
"""

from __future__ import annotations

import re
from typing import Final

from fastapi import APIRouter, Request
from starlette.responses import Response

from gongji.settlement.service import person_records
from gongji.store.uow import UnitOfWork
from gongji.web.forms import commit, read
from gongji.web.render import render
from gongji.web.routing import WebRoute
from gongji.web.session import PersonPage, Session, context_of

router = APIRouter(route_class=WebRoute, include_in_schema=False)
_MONTH: Final = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


def _month(request: Request) -> str | None:
    asked = request.query_params.get("month", "")
    return asked if _MONTH.fullmatch(asked) else None


def _render(
    request: Request,
    session: Session,
    found: list[person_records.Record],
    month: str | None,
    *,
    base: str,
    on_behalf_of: str = "",
    back: str = "",
) -> Response:
    """The records page; ``base`` is where its month links lead (mine, or the relative's)."""
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
        base=base,
        on_behalf_of=on_behalf_of,
        back=back,
    )


@router.get("/wallet/records")
def records_page(request: Request, session: PersonPage) -> Response:
    ctx, month = context_of(request), _month(request)
    me = session.actor.id

    def work(uow: UnitOfWork) -> list[person_records.Record]:
        return person_records.records(ctx, uow, me, month)

    return _render(request, session, read(ctx, work), month, base="/wallet/records")


@router.get("/wallet/guardian/for/{holder}/records")
def holder_records_page(request: Request, session: PersonPage) -> Response:
    """The relative's records, read-only, for her guardian; refused (403) without her consent."""
    ctx, month = context_of(request), _month(request)
    holder = request.path_params["holder"]

    def work(uow: UnitOfWork) -> person_records.HolderRecords:
        return person_records.records_for_guardian(ctx, uow, session.actor, holder, month)

    found = commit(ctx, work)
    return _render(
        request,
        session,
        found.records,
        month,
        base=f"/wallet/guardian/for/{holder}/records",
        on_behalf_of=found.name_masked,
        back=f"/wallet/guardian/for/{holder}",
    )
