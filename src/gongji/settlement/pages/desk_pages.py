"""定点医药机构结算台: the settlement desk of a designated hospital or pharmacy.

The cashier signs in with the institution's signing key (identity.service.desk_sessions), names
the patient by credential, finds the bill's items in the catalogue (by name or code; the page's
script asks ``/desk/catalogue/search`` as the cashier types) or scans their barcodes (the scan
field and Enter, which works without the script too), pre-settles (预结算, nothing moves),
checks the breakdown under the national field names, settles (结算), prints the receipt, and may
reverse (撤销) a settlement. The day page lists the day's settlements and reconciles their totals
(对总账) against what the institution's own system says.

Every figure comes from the same services the API and the national interface call
(settlement_quote.quote, settlement.settle and .reverse, reconciliation.reconcile_totals), so
the desk can never disagree with them. A settlement is idempotent per request id: the quoted
page carries a fresh one, and a reversal's id is derived from the settlement it reverses, so a
double click or a reload never settles or reverses twice.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from gongji.core.errors import GongjiError
from gongji.core.money import format_yuan
from gongji.identity.service import desk_sessions
from gongji.institutions.domain.institutions import MED_TYPES_ALLOWED
from gongji.institutions.service.institutions import InstitutionRecord, get_institution
from gongji.kernel.context import ActorKind, Context
from gongji.kernel.errors import NotFound
from gongji.people.service import registry
from gongji.people.service.credentials_lookup import PersonNotIdentified
from gongji.people.service.patient_identity import recording_refusal
from gongji.people.service.persons import governing_enrolment
from gongji.settlement.domain.items import CatalogueItem
from gongji.settlement.pages import desk_bill, desk_day
from gongji.settlement.service import catalogue, settlement
from gongji.settlement.service.settlement_quote import Quote, quote
from gongji.settlement.store import catalogue_repo
from gongji.settlement.store import settlements_repo as rows
from gongji.settlement.store.settlements_repo import SettlementRow
from gongji.store.records import PersonRecord
from gongji.store.uow import UnitOfWork
from gongji.web import i18n
from gongji.web.forms import FORM, FieldError, commit, read
from gongji.web.render import render, see_other
from gongji.web.routing import WebRoute
from gongji.web.session import (
    DESK_COOKIE,
    PRE_COOKIE,
    DeskPage,
    DeskPost,
    FormBody,
    Posted,
    Session,
    SignInNeeded,
    check_pre_csrf,
    clear_cookie,
    context_of,
    csrf_token,
    desk_session,
    load_draft,
    local_path,
    page_within,
    pre_binding,
    set_cookie,
    start_session,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)
CATALOGUE_PICKER_MAX: Final = 200
CATALOGUE_PAGE_MAX: Final = 100
CATALOGUE_SEARCH_MAX: Final = 20
"""Items the desk's live search answers at most: a list a cashier can read at a glance."""


# --- signing in ----------------------------------------------------------------------------


def _login_page(request: Request, *, status: int = 200, **context: Any) -> Response:
    binding, new = pre_binding(request)
    csrf = csrf_token(context_of(request), binding)
    next_page = local_path(request.query_params.get("next"), "")
    context.setdefault("expired", request.query_params.get("expired") == "1")
    response = render(
        request, "desk/login.html", status=status, csrf=csrf, next=next_page, **context
    )
    if new:
        set_cookie(request, response, PRE_COOKIE, binding)
    return response


@router.get("/desk/login")
def desk_login_page(request: Request) -> Response:
    return _login_page(request)


@router.post("/desk/login")
def desk_sign_in(request: Request, form: FormBody) -> Response:
    check_pre_csrf(request, form)
    ctx = context_of(request)
    key_id, secret = form.get("key_id"), form.fields.get("secret", "")
    try:
        issued = commit(ctx, lambda uow: desk_sessions.desk_login(ctx, uow, key_id, secret))
    except GongjiError as error:
        errors = {FORM: error.message(i18n.language(request))}
        values = {"key_id": key_id, "next": form.get("next")}
        return _login_page(request, status=401, values=values, errors=errors)
    response = see_other(request, page_within(form.get("next"), "/desk"))
    start_session(request, response, ActorKind.INSTITUTION, issued.token)
    return response


@router.post("/desk/logout")
def desk_sign_out(request: Request, posted: DeskPost) -> Response:
    ctx = context_of(request)
    commit(ctx, lambda uow: desk_sessions.desk_logout(ctx, uow, posted.session.token))
    response = see_other(request, "/desk/login")
    clear_cookie(response, DESK_COOKIE)
    return response


# --- the bill: find, pre-settle, settle ------------------------------------------------------


def _institution(ctx: Context, session: Session) -> InstitutionRecord:
    return read(ctx, lambda uow: get_institution(ctx, uow, session.actor.id))


def _bill_page(
    request: Request,
    session: Session,
    *,
    status: int = 200,
    values: dict[str, str] | None = None,
    **context: Any,
) -> Response:
    ctx = context_of(request)
    shown = {**dict(values or {}), **(load_draft(request) or {})}
    shown.pop(desk_bill.CERT_NO_FIELD, None)  # never echo a typed ID number or name
    shown.pop(desk_bill.NAME_FIELD, None)
    shown.pop(desk_bill.SCAN_FIELD, None)  # a scan is done once it is on a line
    codes = [
        shown.get(f"item_code_{n}", "").strip().upper() for n in range(desk_bill.LINE_ROWS_MAX)
    ]

    def work(uow: UnitOfWork) -> tuple[InstitutionRecord, list[Any], dict[str, CatalogueItem]]:
        found = get_institution(ctx, uow, session.actor.id)
        picker = catalogue.search_catalogue(ctx, uow, "", CATALOGUE_PICKER_MAX)
        return found, picker, catalogue_repo.items_by_code(uow.connection, filter(None, codes))

    institution, items, on_bill = read(ctx, work)
    for n, code in enumerate(codes):
        item = on_bill.get(code)
        if item is not None and item.price_fixed and item.price_ceiling_fen is not None:
            shown[f"unit_price_{n}"] = format_yuan(item.price_ceiling_fen)  # the one price
    context.setdefault("patient", None)
    context.setdefault("enrolment", None)
    context.setdefault("quoted", None)
    context.setdefault("acct_used", True)
    context.setdefault("scanning", False)
    return render(
        request,
        "desk/bill.html",
        status=status,
        session=session,
        institution=institution,
        med_types=sorted(MED_TYPES_ALLOWED[institution.institution.kind]),
        items=items,
        line_items={n: on_bill[code] for n, code in enumerate(codes) if code in on_bill},
        rows=desk_bill.line_rows(shown),
        line_max=desk_bill.LINE_ROWS_MAX,
        values=shown,
        **context,
    )


@router.get("/desk")
def desk_home(request: Request, session: DeskPage) -> Response:
    return _bill_page(request, session)


def _refused(request: Request, posted: Posted, problem: FieldError | GongjiError) -> Response:
    lang = i18n.language(request)
    if isinstance(problem, FieldError):
        errors = {problem.name: problem.error.message(lang)}
    else:
        errors = {desk_bill.field_of(problem, posted.form): problem.message(lang)}
    return _bill_page(
        request,
        posted.session,
        status=400,
        values=posted.form.kept(),
        errors=errors,
        acct_used=posted.form.get("acct_used_flag") == "1",
    )


def _patient_context(uow: UnitOfWork, person: PersonRecord) -> dict[str, Any]:
    return {"patient": person, "enrolment": governing_enrolment(uow, person.psn_no)}


def _carried(ctx: Context, posted: Posted, person: PersonRecord) -> dict[str, str]:
    """The identified patient as the page carries it to the next step: the number, sealed to
    this desk session."""
    seal = desk_bill.patient_seal(ctx, posted.session.token, person.psn_no)
    return {desk_bill.PSN_NO_FIELD: person.psn_no, desk_bill.SEAL_FIELD: seal}


def _identify(ctx: Context, uow: UnitOfWork, posted: Posted) -> PersonRecord:
    return desk_bill.identify(ctx, uow, posted.form, posted.actor.id, posted.session.token)


@router.post("/desk/find")
def find_patient(request: Request, posted: DeskPost) -> Response:
    """查找参保人, and Enter anywhere in the bill form: finds the patient named by a typed
    credential (or the one the page carries), and adds a scanned item to the lines; a scanned
    e-voucher names the patient."""
    ctx, form = context_of(request), posted.form
    voucher = desk_bill.scanned_voucher(form)
    scanned = "" if voucher else form.get(desk_bill.SCAN_FIELD).upper()
    named = bool(form.get(desk_bill.CERT_NO_FIELD) or form.get(desk_bill.PSN_NO_FIELD))

    def work(uow: UnitOfWork) -> tuple[dict[str, Any], dict[str, str]]:
        values = form.kept()
        if voucher:
            person = desk_bill.identify_by_voucher(ctx, uow, voucher, posted.actor.id)
            return _patient_context(uow, person), {**values, **_carried(ctx, posted, person)}
        if scanned:
            try:
                item = catalogue.load_items(ctx, uow, [scanned])[scanned]
            except GongjiError as error:
                raise FieldError(desk_bill.SCAN_FIELD, error) from None
            values = desk_bill.with_scanned(values, item)
        if scanned and not named:
            return {}, values
        person = _identify(ctx, uow, posted)
        return _patient_context(uow, person), {**values, **_carried(ctx, posted, person)}

    try:
        found, values = recording_refusal(ctx, lambda: read(ctx, work))
    except PersonNotIdentified as refused:
        where = desk_bill.SCAN_FIELD if voucher else desk_bill.CERT_NO_FIELD
        return _refused(request, posted, FieldError(where, refused))
    except (FieldError, GongjiError) as problem:
        return _refused(request, posted, problem)
    acct_used = form.get("acct_used_flag") == "1"
    scanning = bool(scanned or voucher)
    return _bill_page(
        request, posted.session, values=values, acct_used=acct_used, scanning=scanning, **found
    )


@router.post("/desk/quote")
def pre_settle(request: Request, posted: DeskPost) -> Response:
    ctx, form = context_of(request), posted.form

    def work(uow: UnitOfWork) -> dict[str, Any]:
        person = _identify(ctx, uow, posted)
        bill = desk_bill.read_bill(form)
        items = catalogue.load_items(ctx, uow, bill.item_codes)
        request_id = desk_bill.new_request_id(ctx)
        wanted = desk_bill.settle_request(posted.actor.id, request_id, person.psn_no, bill, items)
        planned = quote(ctx, uow, wanted, patient=person)
        return {**_patient_context(uow, person), "quoted": quoted_view(planned)}

    try:
        found = recording_refusal(ctx, lambda: read(ctx, work))
    except (FieldError, GongjiError) as problem:
        return _refused(request, posted, problem)
    values = {**form.kept(), **_carried(ctx, posted, found["patient"])}
    acct_used = form.get("acct_used_flag") == "1"
    return _bill_page(request, posted.session, values=values, acct_used=acct_used, **found)


def quoted_view(planned: Quote) -> dict[str, Any]:
    """What the pre-settlement shows: the amounts under their national names, each line, the
    sources of the personal burden, and the request id settling it will use."""
    lines = [
        {"name": line.item.name, "quantity": line.quantity, "figures": item.figures}
        for line, item in zip(planned.bill, planned.figures.items, strict=True)
    ]
    return {
        "amounts": settlement.quoted_amounts(planned),
        "lines": lines,
        "draws": planned.draws,
        "request_id": planned.request.request_id,
        "insured_region": planned.enrolment.region,
    }


@router.post("/desk/settle")
def settle(request: Request, posted: DeskPost) -> Response:
    ctx, form = context_of(request), posted.form

    def work(uow: UnitOfWork) -> SettlementRow:
        person = _identify(ctx, uow, posted)
        bill = desk_bill.read_bill(form)
        items = catalogue.load_items(ctx, uow, bill.item_codes)
        request_id = desk_bill.request_id_of(form)
        wanted = desk_bill.settle_request(posted.actor.id, request_id, person.psn_no, bill, items)
        return settlement.settle(ctx, uow, wanted, person)

    try:
        row = recording_refusal(ctx, lambda: commit(ctx, work))
    except (FieldError, GongjiError) as problem:
        return _refused(request, posted, problem)
    return see_other(request, f"/desk/settlements/{row.setl_id}?done=settled")


# --- receipts and reversal -------------------------------------------------------------------


def _own_settlement(uow: UnitOfWork, institution_code: str, setl_id: str) -> SettlementRow:
    """One of this institution's settlements; another's answers as if it did not exist."""
    row = rows.settlement(uow.connection, setl_id[:40])
    if row is None or row.institution_code != institution_code:
        raise NotFound(what="结算记录")
    return row


def _receipt(ctx: Context, uow: UnitOfWork, code: str, setl_id: str) -> dict[str, Any]:
    row = _own_settlement(uow, code, setl_id)
    items = rows.items_of(uow.connection, row.setl_id)
    return {
        "row": row,
        "items": items,
        "names": _item_names(uow, [item.item_code for item in items]),
        "draws": rows.draws_of(uow.connection, row.setl_id),
        "person": registry.person(uow.connection, row.psn_no),
        "reversal": rows.reversal_of(uow.connection, row.setl_id),
        "institution": get_institution(ctx, uow, code),
    }


def _item_names(uow: UnitOfWork, codes: list[str]) -> dict[str, str]:
    found = catalogue_repo.items_by_code(uow.connection, codes)
    return {code: item.name for code, item in found.items()}


@router.get("/desk/settlements/{setl_id}")
def receipt(request: Request, session: DeskPage) -> Response:
    ctx, setl_id = context_of(request), request.path_params["setl_id"]
    found = read(ctx, lambda uow: _receipt(ctx, uow, session.actor.id, setl_id))
    return render(request, "desk/receipt.html", session=session, **found)


@router.post("/desk/settlements/{setl_id}/reverse")
def reverse(request: Request, posted: DeskPost) -> Response:
    ctx, setl_id = context_of(request), request.path_params["setl_id"][:40]
    request_id = f"REV-{setl_id}"

    def work(uow: UnitOfWork) -> SettlementRow:
        return settlement.reverse(ctx, uow, posted.actor.id, setl_id, request_id)

    reversal = commit(ctx, work)
    return see_other(request, f"/desk/settlements/{reversal.setl_id}?done=reversed")


# --- the day and the catalogue ---------------------------------------------------------------


@router.get("/desk/day")
def day(request: Request, session: DeskPage) -> Response:
    ctx = context_of(request)
    found = desk_day.day_view(ctx, session.actor.id, request.query_params, i18n.language(request))
    return render(request, "desk/day.html", session=session, **found)


@router.get("/desk/catalogue")
def catalogue_page(request: Request, session: DeskPage) -> Response:
    ctx = context_of(request)
    text = request.query_params.get("q", "").strip()[: catalogue.SEARCH_TEXT_LENGTH_MAX]
    found = read(ctx, lambda uow: catalogue.search_catalogue(ctx, uow, text, CATALOGUE_PAGE_MAX))
    institution = _institution(ctx, session)
    return render(
        request,
        "desk/catalogue.html",
        session=session,
        institution=institution,
        found=found,
        values={"q": text},
    )


@router.get("/desk/catalogue/search")
def catalogue_search(request: Request) -> Response:
    """The desk's live item search, as JSON for the bill page's script: ``{"items": [...]}``
    with code, name, class, price and whether the price is fixed, an exact code first. Only a
    signed-in desk may ask; a refusal is ``{"code", "message", "detail"}`` like the API's."""
    lang = i18n.language(request)
    try:
        desk_session(request)
    except SignInNeeded:
        return JSONResponse(dict(DeskSignInNeeded().as_dict(lang)), status_code=401)
    ctx = context_of(request)
    text = request.query_params.get("q", "")
    try:
        found = read(ctx, lambda uow: catalogue.find_items(ctx, uow, text, CATALOGUE_SEARCH_MAX))
    except GongjiError as error:
        return JSONResponse(dict(error.as_dict(lang)), status_code=400)
    body = {"items": [catalogue_entry(item, lang) for item in found]}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


def catalogue_entry(item: CatalogueItem, lang: i18n.Lang) -> dict[str, Any]:
    """One search answer: what the bill page shows and fills in."""
    ceiling = item.price_ceiling_fen
    return {
        "code": item.code,
        "name": item.name,
        "item_class": item.item_class.value,
        "class_label": i18n.word(i18n.ITEM_CLASS, item.item_class.value, lang),
        "price_ceiling": None if ceiling is None else format_yuan(ceiling),
        "price_fixed": item.price_fixed and ceiling is not None,
        "in_catalogue": item.in_catalogue,
    }


class DeskSignInNeeded(GongjiError):
    code = "desk_sign_in_needed"
    message_zh = "请先登录结算台"
    message_en = "Sign in at the desk first"
