"""The desk's bill form: who the patient is, the medical category, the lines; read into the
settlement service's :class:`SettleRequest`, and each refusal put beside the field it concerns.

The patient is identified as at every door an institution uses (people.service.
patient_identity): the e-voucher's QR code scanned, or an ID or social-security card number
with the holder's name; never a person number alone. Every failure is the same refusal, in the
same words. Each identification counts against the institution's allowance, and a refused one
is recorded. After that the page carries the person number with a seal binding it to this desk
session (an HMAC of both under the vault's key), never the ID number or the name: what the
cashier typed is not echoed back, and a person number typed into the page, or carried over from
another session, names no one. A newly typed credential always wins over the carried patient,
so the next patient at the counter cannot be settled on the previous one's number.

Prices come from the catalogue: an item with one fixed price (统一定价) is charged that price
and a different typed price is refused beside the line; an item whose price the institution
sets needs the price typed (the catalogue's ceiling is only what the fund recognises). A barcode
scanner types an item code and Enter into the scan field: the item is added with quantity 1,
or its line's quantity goes up by one when it is on the bill already. The same field takes the
patient's e-voucher QR code: a token is longer than any item code, so it names the patient.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar, Final

from gongji.core.errors import GongjiError
from gongji.core.money import format_yuan
from gongji.kernel.context import Context
from gongji.people.service.credentials_lookup import (
    CertType,
    CredentialRequired,
    Presented,
    read_presented,
)
from gongji.people.service.patient_identity import Asking, identify_patient
from gongji.people.service.persons import require_person
from gongji.settlement.domain.bill import LineIn, SettleRequest, parse_quantity
from gongji.settlement.domain.items import CatalogueItem, ItemQuantityInvalid
from gongji.store.records import PersonRecord
from gongji.store.uow import UnitOfWork
from gongji.web.forms import FORM, FieldError, read_amount, required
from gongji.web.session import Form

LINE_ROWS_MAX: Final = 8
"""Bill lines one desk form carries (the form's field limit allows it); longer bills come from
the HIS over the API."""

LINE_ROWS_MIN: Final = 3
PSN_NO_FIELD: Final = "psn_no"
SEAL_FIELD: Final = "patient_seal"
CERT_TYPE_FIELD: Final = "mdtrt_cert_type"
CERT_NO_FIELD: Final = "mdtrt_cert_no"
NAME_FIELD: Final = "psn_name"
SCAN_FIELD: Final = "scan"
ITEM_CODE_LENGTH_MAX: Final = 40
"""Catalogue codes are at most this long; a longer scan is an e-voucher token."""
PURPOSE: Final = "结算台 就诊人身份核验"
"""Why the desk identifies, as the look-ups' record says (people.service.lookups)."""
_SEAL_CONTEXT: Final = "desk patient v1"
_REQUEST_ID: Final = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_FIELDS: Final = {
    "mdtrt_cert_required": CERT_NO_FIELD,
    "mdtrt_cert_type_unknown": CERT_TYPE_FIELD,
    "psn_name_required": NAME_FIELD,
    "person_not_identified": CERT_NO_FIELD,
    "person_not_insured": CERT_NO_FIELD,
    "settlement_suspended": CERT_NO_FIELD,
    "med_type_not_allowed": "med_type",
    "bill_empty": "item_code_0",
}
_LINE_CODES: Final = frozenset(
    {"item_unknown", "item_quantity_invalid", "item_price_invalid", "catalogue_item_invalid"}
)


class ItemPriceFixed(GongjiError):
    """A typed unit price for an item the catalogue gives one price for every institution."""

    code: ClassVar[str] = "item_price_fixed"
    message_zh: ClassVar[str] = (
        "{item_name} 为统一定价 {price} 元，不能修改单价；请清空单价或填写 {price}"
    )
    message_en: ClassVar[str] = (
        "{item_name} has the fixed price {price} yuan; clear the price or type {price}"
    )


class ItemPriceMissing(GongjiError):
    """No unit price for an item whose price the institution sets."""

    code: ClassVar[str] = "item_price_missing"
    message_zh: ClassVar[str] = "请填写 {item_name} 的单价（该项目由机构自行定价）"
    message_en: ClassVar[str] = "Type the unit price of {item_name} (the institution sets it)"


class BillLinesFull(GongjiError):
    code: ClassVar[str] = "desk_bill_lines_full"
    message_zh: ClassVar[str] = "结算台一张单据最多 {limit} 项；更长的单据请由医院信息系统上传"
    message_en: ClassVar[str] = (
        "A desk bill holds at most {limit} lines; longer bills come from the HIS"
    )


@dataclass(frozen=True, slots=True)
class DeskLine:
    """One filled line row: which row, the item, the quantity, the price if one was typed."""

    row: int
    item_code: str
    quantity: Decimal
    unit_price_fen: int | None


@dataclass(frozen=True, slots=True)
class Bill:
    med_type: str
    lines: tuple[DeskLine, ...]
    acct_used: bool
    use_mutual_aid: bool | None = None  # None: the patient's standing choice

    @property
    def item_codes(self) -> list[str]:
        return [line.item_code for line in self.lines]


def line_rows(values: Mapping[str, str]) -> int:
    """How many line rows the form shows: those filled, one spare, at least three."""
    filled = [n for n in range(LINE_ROWS_MAX) if values.get(f"item_code_{n}", "").strip()]
    return min(LINE_ROWS_MAX, max(LINE_ROWS_MIN, (filled[-1] + 2) if filled else 0))


def identify(
    ctx: Context, uow: UnitOfWork, form: Form, institution: str, session: str
) -> PersonRecord:
    """The patient: the holder of a newly typed credential, else the patient this desk session
    identified before (the carried person number and its seal); ``mdtrt_cert_required``
    without either."""
    cert_no = form.get(CERT_NO_FIELD)
    if cert_no:
        presented = read_presented(
            form.get(CERT_TYPE_FIELD), cert_no, form.get(NAME_FIELD), None
        )  # as typed: a token's case matters (an ID number's x is read as X all the same)
        return identify_patient(ctx, uow, Asking(institution, PURPOSE), presented)
    carried = form.get(PSN_NO_FIELD)
    seal = form.get(SEAL_FIELD)
    if carried and hmac.compare_digest(seal.encode(), patient_seal(ctx, session, carried).encode()):
        return require_person(uow, carried)
    raise CredentialRequired()


def patient_seal(ctx: Context, session: str, psn_no: str) -> str:
    """What the page carries beside the identified patient's number: valid in this desk session
    only, and only for the number identified in it."""
    return ctx.vault.lookup_hash(f"{session}\n{psn_no}", context=_SEAL_CONTEXT)


def scanned_voucher(form: Form) -> str | None:
    """The e-voucher token scanned into the scan field, if what was scanned is one (as typed:
    a token's case matters)."""
    scanned = form.get(SCAN_FIELD)
    return scanned if len(scanned) > ITEM_CODE_LENGTH_MAX else None


def identify_by_voucher(
    ctx: Context, uow: UnitOfWork, token: str, institution: str
) -> PersonRecord:
    """The patient whose e-voucher was scanned."""
    presented = Presented(CertType.E_VOUCHER.value, token)
    return identify_patient(ctx, uow, Asking(institution, PURPOSE), presented)


def read_bill(form: Form) -> Bill:
    """The category and the filled line rows (a row without an item code is ignored)."""
    med_type = required(form, "med_type", "医疗类别", "the medical category")
    lines = []
    for n in range(LINE_ROWS_MAX):
        code = form.get(f"item_code_{n}").upper()
        if not code:
            continue
        try:
            quantity = parse_quantity(form.get(f"quantity_{n}") or "1", code)
        except ItemQuantityInvalid as error:
            raise FieldError(f"quantity_{n}", error) from None
        typed = form.get(f"unit_price_{n}")
        price = read_amount(form, f"unit_price_{n}") if typed else None
        lines.append(DeskLine(n, code, quantity, price))
    choice = {"1": True, "0": False}.get(form.get("mutual_aid"))
    return Bill(med_type, tuple(lines), form.get("acct_used_flag") == "1", choice)


def new_request_id(ctx: Context) -> str:
    """The institution request id a quoted bill is settled under: settling twice (a double
    click, a reload) answers the settlement already made."""
    return f"DESK-{ctx.now_us()}-{secrets.token_hex(4)}"


def request_id_of(form: Form) -> str:
    found = form.get("request_id")
    if _REQUEST_ID.fullmatch(found) is None:
        raise FieldError(FORM, _RequestIdMissing())
    return found


def priced_line(line: DeskLine, item: CatalogueItem) -> LineIn:
    """The line at the catalogue's fixed price, or at the typed price where the institution sets
    it; a refusal names the line's own price field."""
    field = f"unit_price_{line.row}"
    if item.price_fixed and item.price_ceiling_fen is not None:
        fixed = item.price_ceiling_fen
        if line.unit_price_fen is not None and line.unit_price_fen != fixed:
            error = ItemPriceFixed(
                item_code=item.code, item_name=item.name, price=format_yuan(fixed)
            )
            raise FieldError(field, error)
        return LineIn(line.item_code, line.quantity, fixed)
    if line.unit_price_fen is None:
        raise FieldError(field, ItemPriceMissing(item_code=item.code, item_name=item.name))
    return LineIn(line.item_code, line.quantity, line.unit_price_fen)


def settle_request(
    institution_code: str,
    request_id: str,
    psn_no: str,
    bill: Bill,
    items: Mapping[str, CatalogueItem],
) -> SettleRequest:
    """The settlement the bill asks for, priced from the catalogue ``items`` (by code)."""
    return SettleRequest(
        institution_code=institution_code,
        request_id=request_id,
        psn_no=psn_no,
        med_type=bill.med_type,
        lines=tuple(priced_line(line, items[line.item_code]) for line in bill.lines),
        acct_used_flag=bill.acct_used,
        use_mutual_aid=bill.use_mutual_aid,
    )


def with_scanned(values: Mapping[str, str], item: CatalogueItem) -> dict[str, str]:
    """The form's values with one more of ``item``: its line's quantity up by one when the
    bill has it, else a new line of quantity 1 (at the fixed price when the catalogue has one)."""
    shown = dict(values)
    for n in range(LINE_ROWS_MAX):
        if shown.get(f"item_code_{n}", "").strip().upper() == item.code:
            try:
                quantity = parse_quantity(shown.get(f"quantity_{n}") or "1", item.code)
            except ItemQuantityInvalid as error:
                raise FieldError(f"quantity_{n}", error) from None
            shown[f"quantity_{n}"] = f"{quantity + 1:f}"
            return shown
    for n in range(LINE_ROWS_MAX):
        if not shown.get(f"item_code_{n}", "").strip():
            shown[f"item_code_{n}"] = item.code
            shown[f"quantity_{n}"] = "1"
            fixed = item.price_fixed and item.price_ceiling_fen is not None
            shown[f"unit_price_{n}"] = format_yuan(item.price_ceiling_fen or 0) if fixed else ""
            return shown
    raise FieldError(SCAN_FIELD, BillLinesFull(limit=LINE_ROWS_MAX))


def field_of(error: GongjiError, form: Form) -> str:
    """The field a refusal concerns: a line's own code field for a line's problem."""
    if error.code in _LINE_CODES:
        codes = error.detail.get("codes") or [error.detail.get("item_code")]
        wanted = {str(code) for code in codes if code}
        for n in range(LINE_ROWS_MAX):
            if form.get(f"item_code_{n}").upper() in wanted:
                return f"item_code_{n}"
        return FORM
    return _FIELDS.get(error.code, FORM)


class _RequestIdMissing(GongjiError):
    code = "desk_request_id_missing"
    message_zh = "请先预结算，核对金额后再结算"
    message_en = "Pre-settle first, check the figures, then settle"
