"""/api/v1/settlements for designated institutions: pre-settle, settle, reverse and read back.

Every route is signed by the institution (``require_institution``, docs/signing.md) and acts for
it alone: another institution's settlement answers 404, as if it did not exist. Idempotency is
the institution's own ``request_id`` (docs/rules.md §8), not an Idempotency-Key header: the same
request id with the same bill answers the settlement already made, with another bill
``422 settlement_request_reused``.

Amounts cross this edge as yuan strings with two decimals (``"120.00"``) under the national
field names; a JSON number with a fraction is refused (``amount_float_refused``), never read as
a binary float. Quantities are decimal strings (``"2"``, ``"0.5"``).

The patient is the holder of the credential presented at the counter, read and identified as
at every door an institution uses (people.service.patient_identity): ``mdtrt_cert_type`` +
``mdtrt_cert_no`` (``01`` an e-voucher token alone; ``02``/``03`` an ID or social-security card
number with the holder's name, ``psn_name``). A ``psn_no`` is accepted only beside a credential,
which must then name its holder; alone it is refused (``mdtrt_cert_required``), since person
numbers are sequential. Every failure to identify is ``person_not_identified``, counted against
the institution's allowance and recorded like the national interface's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import Field

from gongji.api.deps import get_context
from gongji.api.institution_auth import require_institution, verify_institution
from gongji.api.json_answer import JsonAnswer
from gongji.api.reads import read
from gongji.api.schemas import AmountIn, PsnNo, parse_amount
from gongji.api.schemas import Request as Body
from gongji.api.signed_write_route import SignedWriteRoute
from gongji.core.clock import from_us
from gongji.core.errors import GongjiError
from gongji.core.money import format_yuan
from gongji.identity.service import signing
from gongji.kernel.context import BUSINESS_TZ, Actor, Context
from gongji.kernel.errors import NotFound
from gongji.people.service.credentials_lookup import holder_read, read_presented
from gongji.people.service.patient_identity import Asking, identify_patient, recording_refusal
from gongji.settlement.domain.bill import LineIn, SettleRequest, parse_quantity
from gongji.settlement.domain.items import BILL_LINES_MAX
from gongji.settlement.service import settlement
from gongji.settlement.service.settlement_quote import Quote, quote
from gongji.settlement.store import settlements_repo as rows
from gongji.settlement.store.settlements_repo import DrawRow, ItemRow, SettlementRow
from gongji.store.raw import Read
from gongji.store.records import PersonRecord
from gongji.store.uow import UnitOfWork

router = APIRouter(prefix="/api/v1/settlements", tags=["settlement"])
Institution = Annotated[Actor, Depends(require_institution)]
Signed = Annotated[signing.Verified, Depends(verify_institution)]
"""For the writes: the nonce is spent in the settlement's own transaction (services/signing)."""
Ctx = Annotated[Context, Depends(get_context)]

LIST_LIMIT_MAX: Final = 1000
"""Most settlements one day's listing returns; ``truncated`` says when there were more."""

_ITEM_AMOUNTS: Final = (
    "det_item_fee_sumamt",
    "fulamt_ownpay_amt",
    "overlmt_amt",
    "preselfpay_amt",
    "inscp_scp_amt",
)

QUOTED: Final = "REST 预结算 就诊人身份核验"
SETTLED: Final = "REST 结算 就诊人身份核验"
"""Why a look-up was made, as its record says (people.service.lookups)."""

RequestId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
SetlId = Annotated[str, Path(min_length=1, max_length=40)]


class LineBody(Body):
    item_code: Annotated[str, Field(min_length=1, max_length=40)]
    quantity: Annotated[str, Field(min_length=1, max_length=25)]
    unit_price: AmountIn


class BillBody(Body):
    """A bill: the patient by the credential presented, the category, the lines."""

    request_id: RequestId | None = None
    psn_no: PsnNo | None = Field(
        None, description="only beside a credential, which must name this person"
    )
    mdtrt_cert_type: Annotated[str, Field(min_length=1, max_length=2)] | None = Field(
        None, description="01 e-voucher token, 02 ID card, 03 social-security card"
    )
    mdtrt_cert_no: Annotated[str, Field(min_length=1, max_length=128)] | None = Field(
        None, description="the token, or the card's number"
    )
    psn_name: Annotated[str, Field(min_length=1, max_length=50)] | None = Field(
        None, description="the holder's name: required with a card (02, 03)"
    )
    med_type: Annotated[str, Field(pattern=r"^[0-9]{2,6}$")]
    acct_used_flag: bool = True
    use_mutual_aid: bool | None = Field(
        None, description="this bill only: true/false; absent: the patient's standing choice"
    )
    lines: Annotated[list[LineBody], Field(min_length=1, max_length=BILL_LINES_MAX)]


class SettleBody(BillBody):
    request_id: RequestId


class ReverseBody(Body):
    request_id: RequestId


# --- routes ---------------------------------------------------------------------------------


@router.post("/quote", summary="Pre-settle (预结算): what the bill would cost whom; moves nothing")
def quote_bill(body: BillBody, institution: Institution, ctx: Ctx) -> dict[str, Any]:
    lines = _lines(body)

    def work(uow: UnitOfWork) -> Quote:
        patient = _patient(ctx, uow, Asking(institution.id, QUOTED, body.request_id or ""), body)
        bill = _settle_request(institution, body, lines, patient.psn_no)
        return quote(ctx, uow, bill, patient=patient)

    return quote_out(recording_refusal(ctx, lambda: read(ctx, work)))


# Served by SignedWriteRoute, the institutions' hottest route: the same checks and refusals as
# FastAPI's, without its per-request dependency solving (api/signed_write_route.py). Its
# docstring would become the operation's description: there is none.
def settle_bill(body: SettleBody, signed: Signed, ctx: Ctx) -> JsonAnswer:
    def work(uow: UnitOfWork) -> dict[str, Any]:
        asking = Asking(signed.institution.id, SETTLED, body.request_id or "")
        patient = _patient(ctx, uow, asking, body)
        bill = _settle_request(signed.institution, body, _lines(body), patient.psn_no)
        settled = settlement.settle_with_lines(ctx, uow, bill, patient)
        answer = settlement_out(settled.row, settled.items)
        answer["draws"] = [draw_out(d) for d in settled.draws]
        return answer

    def ahead() -> list[Read]:
        return _reads_ahead(ctx, signed.institution, body)

    return recording_refusal(ctx, lambda: _committed(ctx, signed, work, ahead))


router.add_api_route(
    "",
    settle_bill,
    methods=["POST"],
    status_code=201,
    summary="Settle (结算), idempotent per request_id",
    route_class_override=SignedWriteRoute,
)


@router.post("/{setl_id}/reverse", status_code=201, summary="Reverse (撤销) one of my settlements")
def reverse_settlement(
    setl_id: SetlId, body: ReverseBody, request: Request, signed: Signed, ctx: Ctx
) -> JsonAnswer:
    def work(uow: UnitOfWork) -> dict[str, Any]:
        row = settlement.reverse(ctx, uow, signed.institution.id, setl_id, body.request_id)
        return settlement_out(row, [])

    return _committed(ctx, signed, work)


@router.get("/{setl_id}", summary="One of my settlements, with its items and draws")
def get_settlement(setl_id: SetlId, institution: Institution, ctx: Ctx) -> dict[str, Any]:
    def work(uow: UnitOfWork) -> dict[str, Any]:
        row = rows.settlement(uow.connection, setl_id)
        if row is None or row.institution_code != institution.id:
            raise NotFound(what="结算记录")
        answer = settlement_out(row, rows.items_of(uow.connection, setl_id))
        answer["draws"] = [draw_out(d) for d in rows.draws_of(uow.connection, setl_id)]
        return answer

    return read(ctx, work)


@router.get("", summary="My settlements and reversals of one business day (Asia/Shanghai)")
def list_settlements(
    institution: Institution,
    ctx: Ctx,
    on: Annotated[date, Query(alias="date")],
    limit: Annotated[int, Query(ge=1, le=LIST_LIMIT_MAX)] = LIST_LIMIT_MAX,
) -> dict[str, Any]:
    day = on.isoformat()
    found = read(
        ctx,
        lambda uow: rows.list_for_institution(uow.connection, institution.id, day, day, limit + 1),
    )
    return {
        "date": day,
        "settlements": [settlement_out(row, None) for row in found[:limit]],
        "truncated": len(found) > limit,
    }


# --- requests in ----------------------------------------------------------------------------


def _lines(body: BillBody) -> tuple[LineIn, ...]:
    """Bill lines in fen; prices and quantities refused here, before any database work."""
    return tuple(
        LineIn(
            line.item_code,
            parse_quantity(line.quantity, line.item_code),
            parse_amount(line.unit_price),
        )
        for line in body.lines
    )


def _settle_request(
    institution: Actor, body: BillBody, lines: tuple[LineIn, ...], psn_no: str
) -> SettleRequest:
    return SettleRequest(
        institution_code=institution.id,
        request_id=body.request_id or "",
        psn_no=psn_no,
        med_type=body.med_type,
        lines=lines,
        acct_used_flag=body.acct_used_flag,
        use_mutual_aid=body.use_mutual_aid,
    )


def _patient(ctx: Context, uow: UnitOfWork, asking: Asking, body: BillBody) -> PersonRecord:
    """The holder of the credential the bill presents (the patient's ``psn_no`` alone is none)."""
    presented = read_presented(body.mdtrt_cert_type, body.mdtrt_cert_no, body.psn_name, body.psn_no)
    return identify_patient(ctx, uow, asking, presented)


def _reads_ahead(ctx: Context, institution: Actor, body: SettleBody) -> list[Read]:
    """What settling ``body`` reads first: the patient's holder read and, when the credential
    names the patient without a read (an e-voucher), the settlement's first reads. On
    PostgreSQL they go with the nonce's check (``signing.run_signed_write``), a trip before the
    patient is identified; a bill refused later has read them for nothing."""
    holder = holder_read(ctx, body.mdtrt_cert_type, body.mdtrt_cert_no)
    if holder is None:
        return []
    if holder.psn_no is None:  # a card: its holder's number comes with the read
        return [holder.read]
    try:
        lines = _lines(body)
    except GongjiError:  # refused in the transaction, once the nonce is spent
        return [holder.read]
    bill = _settle_request(institution, body, lines, holder.psn_no)
    return [holder.read, *settlement.settle_reads(ctx, bill, patient_known=True)]


def _committed(
    ctx: Context,
    signed: signing.Verified,
    work: Callable[[UnitOfWork], dict[str, Any]],
    reads_ahead: Callable[[], list[Read]] | None = None,
) -> JsonAnswer:
    """Run a signed write (its nonce spent in the same transaction); refusals propagate to the
    one status table in api/errors.py."""
    answer = signing.run_signed_write(ctx, signed, work, reads_ahead)
    return JsonAnswer(answer, status_code=201)


# --- answers out ----------------------------------------------------------------------------


def settlement_out(row: SettlementRow, items: list[ItemRow] | None) -> dict[str, Any]:
    """A settlement (or reversal) under the national names, amounts as yuan strings."""
    answer: dict[str, Any] = {
        "setl_id": row.setl_id,
        "kind": row.kind,
        "reverses": row.reverses,
        "request_id": row.request_id,
        "fixmedins_code": row.institution_code,
        "psn_no": row.psn_no,
        "insutype": row.insutype,
        "med_type": row.med_type,
        "insuplc_admdvs": row.insured_region,
        "mdtrtarea_admvs": row.treatment_region,
        "setl_date": row.business_date,
        "setl_time": from_us(row.created_at_us).astimezone(BUSINESS_TZ).isoformat(),
        **{name: format_yuan(fen) for name, fen in row.amounts().items()},
    }
    if items is not None:
        answer["items"] = [item_out(item) for item in items]
    return answer


def item_out(item: ItemRow) -> dict[str, Any]:
    """One bill line as stored (or as quoted)."""
    return {
        "line_no": item.line_no,
        "item_code": item.item_code,
        "quantity": item.quantity,
        "unit_price": format_yuan(item.unit_price_fen),
        **{name: format_yuan(getattr(item, name)) for name in _ITEM_AMOUNTS},
        "acct_payable": format_yuan(item.account_payable_fen),
    }


def draw_out(draw: DrawRow) -> dict[str, Any]:
    """Where part of the personal burden came from (the contributor's number is not shown)."""
    return {
        "seq": draw.seq,
        "kind": draw.kind,
        "source_id": draw.source_id,
        "contributor_region": draw.contributor_region,
        "amount": format_yuan(draw.amount_fen),
    }


def quote_out(planned: Quote) -> dict[str, Any]:
    items = settlement.item_rows(planned)
    amounts = settlement.quoted_amounts(planned)
    return {
        "psn_no": planned.request.psn_no,
        "insutype": planned.enrolment.insutype,
        "med_type": planned.request.med_type,
        "insuplc_admdvs": planned.enrolment.region,
        "mdtrtarea_admvs": planned.institution.region,
        **{name: format_yuan(fen) for name, fen in amounts.items()},
        "items": [item_out(item) for item in items],
        "draws": [
            {"kind": d.kind, "contributor_region": d.contributor_region,
             "amount": format_yuan(d.amount_fen)}
            for d in planned.draws
        ],
    }  # fmt: skip
