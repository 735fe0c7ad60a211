"""Settlement transactions of the national interface: pre-settle, settle, reverse (docs/rules.md
§8).

=========  ===========  ======  =======  ==================
group      pre-settle   settle  reverse  ``med_type``
=========  ===========  ======  =======  ==================
pharmacy   2101         2102    2103     41
outpatient 2206         2207    2208     11, 14
inpatient  2303         2304    2305     21
=========  ===========  ======  =======  ==================

The patient is the holder of the credential presented (``mdtrt_cert_type`` + ``mdtrt_cert_no``,
with ``psn_name`` for a card: :mod:`gongji.fsi.http.patients`, as 1101 reads it); a bare
``psn_no`` is refused (``mdtrt_cert_required``), except for the patient of a registered visit
whose uploaded lines are settled (``mdtrt_id`` + ``psn_no``: the visit was registered on the
presented credential). So the answer's birth date, sex and age go only to an institution that
has seen the patient's credential.

The bill is ``input.data`` (the patient, ``med_type``, ``acct_used_flag``, ``medfee_sumamt``)
and its lines: inline under ``drugdetail`` or ``feedetail`` (``med_list_codg``, ``cnt``,
``pric``, optionally ``det_item_fee_sumamt``), as pharmacies send them, or, without them, the
lines a hospital uploaded to the visit ``mdtrt_id`` (2204 batch ``chrg_bchno``, 2301 for a stay:
:mod:`gongji.fsi.http.visits`, :mod:`gongji.fsi.http.stays`). What the
institution declares (``medfee_sumamt``, each line's ``det_item_fee_sumamt``, ``insutype``) must
agree with what gongji computes, or the message is refused before anything is written: a HIS
that disagrees with the platform about a bill must not settle it.

Idempotency is the message id: ``msgid`` is the institution's request id, so a HIS that resends
a settle after a timeout gets the settlement already made, never a second one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar, Final

from gongji.core.clock import from_us
from gongji.core.errors import GongjiError
from gongji.core.money import format_yuan
from gongji.fsi.domain import fields
from gongji.fsi.http.envelope import Envelope
from gongji.fsi.http.patients import presented_patient, presents_credential
from gongji.fsi.http.wire import amount
from gongji.kernel.context import BUSINESS_TZ, Context
from gongji.kernel.errors import NotFound
from gongji.people.service.persons import birth_date_of, person_read, require_person
from gongji.settlement.domain.bill import LineIn, SettleRequest
from gongji.settlement.domain.visits import VisitKind, VisitState
from gongji.settlement.service import records as rows
from gongji.settlement.service import settlement, visits
from gongji.settlement.service.records import SettlementRow
from gongji.settlement.service.settlement_quote import quote
from gongji.store.raw import Read
from gongji.store.records import PersonRecord
from gongji.store.uow import UnitOfWork

MED_TYPES_BY_GROUP: Final[Mapping[str, frozenset[str]]] = {
    "21": frozenset({"41"}),
    "22": frozenset({"11", "14"}),
    "23": frozenset({"21"}),
}
"""Which medical categories each group of transactions settles (first two digits of infno)."""

DETAIL_NAMES: Final = ("drugdetail", "feedetail")
_MED_TYPE: Final = re.compile(r"[0-9]{2,6}")
_FLAG: Final = re.compile(r"[01]")
_INSUTYPE: Final = re.compile(r"[0-9]{3}")
_CODE: Final = re.compile(r"[A-Za-z0-9_.-]{1,40}")
_ID: Final = re.compile(r"[A-Za-z0-9_.:-]{1,40}")
_VISIT_KINDS: Final = {"22": VisitKind.OUTPATIENT, "23": VisitKind.INPATIENT}
_BY_BATCH: Final = "22"
"""The group whose visits settle one charge batch (``chrg_bchno``) at a time: outpatients'."""
_FUND_NAMES: Final = {"310": "职工基本医疗保险统筹基金", "390": "城乡居民基本医疗保险基金"}


class FsiMedTypeMismatch(GongjiError):
    code: ClassVar[str] = "fsi_med_type_mismatch"
    message_zh: ClassVar[str] = "交易 {infno} 不能办理医疗类别 {med_type}（应为 {allowed}）"
    message_en: ClassVar[str] = "Transaction {infno} cannot settle med_type {med_type} ({allowed})"


class FsiAmountMismatch(GongjiError):
    code: ClassVar[str] = "fsi_amount_mismatch"
    message_zh: ClassVar[str] = "{field} 为 {declared}，与中心计算结果 {computed} 不符"
    message_en: ClassVar[str] = "{field} is {declared} but gongji computes {computed}"


class FsiInsutypeMismatch(GongjiError):
    code: ClassVar[str] = "fsi_insutype_mismatch"
    message_zh: ClassVar[str] = "险种类型 {insutype} 与人员参保信息（{enrolled}）不符"
    message_en: ClassVar[str] = "insutype {insutype} differs from the person's ({enrolled})"


class FsiPersonMismatch(GongjiError):
    code: ClassVar[str] = "fsi_person_mismatch"
    message_zh: ClassVar[str] = "人员编号与原结算记录不符"
    message_en: ClassVar[str] = "psn_no differs from the original settlement's"


class StayNotDischarged(GongjiError):
    code: ClassVar[str] = "stay_not_discharged"
    message_zh: ClassVar[str] = "住院 {mdtrt_id} 尚未办理出院，中途结算请传 mid_setl_flag 为 1"
    message_en: ClassVar[str] = "Stay {mdtrt_id} is not discharged (mid_setl_flag 1 for mid-stay)"


@dataclass(frozen=True, slots=True)
class Bill:
    """A settlement message read: the request, and what the institution declared."""

    request: SettleRequest
    person: PersonRecord
    medfee_sumamt_fen: int
    line_fees_fen: tuple[int | None, ...]
    insutype: str | None
    echo: Mapping[str, str | None]  # mdtrt_id, mdtrt_cert_type: sent back as they came
    uploaded: Uploaded | None = None  # the visit's lines, when the bill is not inline


@dataclass(frozen=True, slots=True)
class Uploaded:
    """The uploaded lines of a visit a settlement message pays."""

    visit: visits.VisitRow
    lines: tuple[visits.FeeLineRow, ...]
    resent: settlement.Resent | None
    """Settling: the settlement already under the message id, read with the lines."""


# --- the transactions -----------------------------------------------------------------------


def pre_settle(ctx: Context, uow: UnitOfWork, env: Envelope, institution: str) -> dict[str, Any]:
    """2101 / 2206 / 2303: what the bill would cost whom; moves nothing."""
    bill = read_bill(ctx, uow, env, institution)
    planned = quote(ctx, uow, bill.request, patient=bill.person)
    fees = [item.figures.det_item_fee_sumamt for item in planned.figures.items]
    check_declared(bill, planned.enrolment.insutype, fees, planned.figures.medfee_sumamt)
    info = {
        **bill.echo,
        **person_fields(ctx, bill.person, ctx.today()),
        "insutype": planned.enrolment.insutype,
        "med_type": bill.request.med_type,
        **yuan(settlement.quoted_amounts(planned)),
        "clr_optins": planned.enrolment.region,
    }
    return {
        "setlinfo": info,
        "setldetail": fund_detail(planned.enrolment.insutype, planned.figures.fund_pay_sumamt),
    }


def settle(ctx: Context, uow: UnitOfWork, env: Envelope, institution: str) -> dict[str, Any]:
    """2102 / 2207 / 2304: settle, atomically, once per ``msgid``."""
    bill = read_bill(ctx, uow, env, institution, settling=True)
    resent = bill.uploaded.resent if bill.uploaded is not None else None
    settled = settlement.settle_with_lines(ctx, uow, bill.request, bill.person, resent)
    row = settled.row
    if bill.uploaded is not None:
        visits.mark_settled(uow, bill.uploaded.visit, bill.uploaded.lines, row.setl_id)
    fees = [item.det_item_fee_sumamt for item in settled.items]
    check_declared(bill, row.insutype, fees, row.medfee_sumamt)  # raises before the commit
    return {
        "setlinfo": {**bill.echo, **settlement_fields(ctx, row, bill.person)},
        "setldetail": fund_detail(row.insutype, row.fund_pay_sumamt),
    }


def reverse(ctx: Context, uow: UnitOfWork, env: Envelope, institution: str) -> dict[str, Any]:
    """2103 / 2208 / 2305: undo one of this institution's settlements of the same group."""
    data = fields.child(env.input, "data")
    setl_id = fields.required_text(data, "setl_id", pattern=_ID)
    psn_no = fields.text(data, "psn_no", required=False, pattern=_ID)
    original = rows.settlement(uow.connection, setl_id)
    if original is None or original.institution_code != institution:
        raise NotFound(what="结算记录")
    if psn_no is not None and psn_no != original.psn_no:
        raise FsiPersonMismatch()
    check_group(env.infno, original.med_type)
    row = settlement.reverse(ctx, uow, institution, setl_id, env.msgid)
    visits.release(uow, setl_id)  # the lines it paid may be settled or revoked again
    person = require_person(uow, row.psn_no)
    info = {
        "mdtrt_id": fields.text(data, "mdtrt_id", required=False, pattern=_ID),
        **settlement_fields(ctx, row, person),
        "init_setl_id": row.reverses,
    }
    return {"setlinfo": info, "setldetail": fund_detail(row.insutype, row.fund_pay_sumamt)}


# --- reading the bill -----------------------------------------------------------------------


def check_group(infno: str, med_type: str) -> None:
    allowed = MED_TYPES_BY_GROUP.get(infno[:2], frozenset())
    if med_type not in allowed:
        raise FsiMedTypeMismatch(infno=infno, med_type=med_type, allowed="、".join(sorted(allowed)))


def read_bill(
    ctx: Context, uow: UnitOfWork, env: Envelope, institution: str, *, settling: bool = False
) -> Bill:
    """The bill of a settlement message: its lines inline (``feedetail`` / ``drugdetail``), or,
    without them, the lines uploaded to the visit ``mdtrt_id`` (by 2204 under ``chrg_bchno``
    for an outpatient visit, by 2301 for an inpatient stay). ``settling`` locks those lines and
    recognises a resent settlement (its ``msgid``)."""
    data = fields.child(env.input, "data")
    med_type = fields.required_text(data, "med_type", pattern=_MED_TYPE)
    check_group(env.infno, med_type)
    acct_used = fields.required_text(data, "acct_used_flag", pattern=_FLAG) == "1"
    medfee = fields.amount_fen(data, "medfee_sumamt")
    insutype = fields.text(data, "insutype", required=False, pattern=_INSUTYPE)
    uow.prefetch(_settling_reads(env, data, institution, settling=settling))
    person = _patient(ctx, uow, env, institution, data)
    mdtrt_id = fields.text(data, "mdtrt_id", required=False, pattern=_ID)
    uploaded = _uploaded(uow, env, data, institution, person.psn_no, settling)
    if uploaded is None:
        details = fields.entries([env.input, data], DETAIL_NAMES, "feedetail")
        lines, fees = _lines(details)
    else:
        lines, fees = visits.line_ins(uploaded.lines), tuple(None for _ in uploaded.lines)
    request = SettleRequest(
        institution_code=institution,
        request_id=env.msgid,
        psn_no=person.psn_no,
        med_type=med_type,
        lines=lines,
        acct_used_flag=acct_used,
        use_mutual_aid=fields.mutual_aid_choice(data),
    )
    echo = {
        "mdtrt_id": mdtrt_id,
        "mdtrt_cert_type": fields.text(data, "mdtrt_cert_type", required=False),
    }
    return Bill(request, person, medfee or 0, fees, insutype, echo, uploaded)


def _patient(
    ctx: Context, uow: UnitOfWork, env: Envelope, institution: str, data: fields.Node
) -> PersonRecord:
    """The holder of the credential presented now (fsi/http/patients.py); without one, only a
    registered visit's patient, named by ``psn_no`` and checked against the visit (its
    registration was by a presented credential), and a bill sent inline is refused
    (``mdtrt_cert_required``)."""
    if presents_credential(data) or not _settles_uploaded(env, data):
        return presented_patient(ctx, uow, env, institution, data)
    return require_person(uow, fields.required_text(data, "psn_no", pattern=_ID))


def settle_reads(_ctx: Context, env: Envelope, institution: str) -> list[Read]:
    """What :func:`settle` reads first, for the route to make with the message's nonce check
    (``signing.run_signed_write``): a visit's uploaded lines' reads (:func:`_settling_reads`),
    nothing for a bill sent inline or a message without its ``data``."""
    try:
        data = fields.child(env.input, "data")
    except GongjiError:  # refused by the handler, once the nonce is spent
        return []
    return _settling_reads(env, data, institution, settling=True)


def _settling_reads(
    env: Envelope, data: fields.Node, institution: str, *, settling: bool
) -> list[Read]:
    """What settling a visit's uploaded lines reads first (the patient named by ``psn_no``, the
    visit, its batch, its lines, a settlement under this ``msgid``), to make ahead in one round
    trip on PostgreSQL: each answer is taken only by the same read later, so a message whose
    fields turn out wrong is refused as before, having read a little for nothing. Not
    ``settling`` (a pre-settlement): the same, unlocked, and no settlement looked for."""
    if not _settles_uploaded(env, data):
        return []
    psn_no, mdtrt_id, chrg_bchno = (data.get(name) for name in ("psn_no", "mdtrt_id", "chrg_bchno"))
    if not isinstance(mdtrt_id, str) or not isinstance(chrg_bchno, str | None):
        return []
    batch = chrg_bchno if env.infno[:2] == _BY_BATCH else None
    reads = visits.settling_reads(institution, mdtrt_id, batch, env.msgid if settling else None)
    if isinstance(psn_no, str) and not presents_credential(data):
        return [person_read(psn_no), *reads]  # the patient is read first
    return reads


def _settles_uploaded(env: Envelope, data: fields.Node) -> bool:
    """Whether the message settles a visit's uploaded lines rather than lines it carries."""
    inline = any(name in node for node in (env.input, data) for name in DETAIL_NAMES)
    return not inline and env.infno[:2] in _VISIT_KINDS


def _uploaded(
    uow: UnitOfWork,
    env: Envelope,
    data: fields.Node,
    institution: str,
    psn_no: str,
    settling: bool,
) -> Uploaded | None:
    """The visit's uploaded lines this message settles, or None for a bill sent inline."""
    if not _settles_uploaded(env, data):
        return None
    group = env.infno[:2]
    mdtrt_id = fields.required_text(data, "mdtrt_id", pattern=_ID)
    chrg_bchno = None
    if group == _BY_BATCH:
        chrg_bchno = fields.required_text(data, "chrg_bchno", pattern=_ID)
    visit = visits.visit_for(uow, institution, mdtrt_id, _VISIT_KINDS[group], psn_no, lock=settling)
    check_mid_stay(visit, data)
    request_id = env.msgid if settling else None
    chosen = visits.lines_to_settle(uow, visit, chrg_bchno, request_id)
    return Uploaded(visit, tuple(chosen.lines), chosen.resent)


def check_mid_stay(visit: visits.VisitRow, data: fields.Node) -> None:
    """An inpatient stay settles after discharge (2402), or before it as a mid-stay settlement
    (中途结算, ``mid_setl_flag`` 1)."""
    if visit.kind != VisitKind.INPATIENT or visit.state == VisitState.DISCHARGED:
        return
    if fields.text(data, "mid_setl_flag", required=False, pattern=_FLAG) != "1":
        raise StayNotDischarged(mdtrt_id=visit.mdtrt_id)


def _lines(details: Sequence[fields.Node]) -> tuple[tuple[LineIn, ...], tuple[int | None, ...]]:
    lines: list[LineIn] = []
    fees: list[int | None] = []
    for index, detail in enumerate(details):
        where = f"feedetail[{index}]."
        code = fields.required_text(detail, "med_list_codg", pattern=_CODE, where=where)
        price = fields.amount_fen(detail, "pric", where=where) or 0
        lines.append(LineIn(code, fields.decimal(detail, "cnt", where=where), price))
        fees.append(fields.amount_fen(detail, "det_item_fee_sumamt", required=False, where=where))
    return tuple(lines), tuple(fees)


def check_declared(
    bill: Bill, enrolled: str, line_fees_fen: Sequence[int], medfee_sumamt_fen: int
) -> None:
    """What the institution declared agrees with what gongji computed, or a refusal."""
    if bill.insutype is not None and bill.insutype != enrolled:
        raise FsiInsutypeMismatch(insutype=bill.insutype, enrolled=enrolled)
    check_line_fees(bill.line_fees_fen, line_fees_fen)
    if bill.medfee_sumamt_fen != medfee_sumamt_fen:
        raise FsiAmountMismatch(
            field="medfee_sumamt",
            declared=format_yuan(bill.medfee_sumamt_fen),
            computed=format_yuan(medfee_sumamt_fen),
        )


def check_line_fees(declared_fen: Sequence[int | None], computed_fen: Sequence[int]) -> None:
    """Each line's declared ``det_item_fee_sumamt``, when sent, is ``cnt × pric`` as computed."""
    for index, (declared, computed) in enumerate(zip(declared_fen, computed_fen, strict=True)):
        if declared is not None and declared != computed:
            raise FsiAmountMismatch(
                field=f"feedetail[{index}].det_item_fee_sumamt",
                declared=format_yuan(declared),
                computed=format_yuan(computed),
            )


# --- writing the answer ---------------------------------------------------------------------


def yuan(amounts: Mapping[str, int]) -> dict[str, Decimal]:
    """Amounts in fen as the interface writes them: yuan, two decimals (api/fsi_json.py)."""
    return {name: amount(fen) for name, fen in amounts.items()}


def person_fields(ctx: Context, person: PersonRecord, today: date) -> dict[str, Any]:
    """Who the patient is, masked (an institution needs to recognise them, not to copy them)."""
    born = birth_date_of(ctx, person)
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return {
        "psn_no": person.psn_no,
        "psn_name": person.name_masked,
        "psn_cert_type": "01",
        "certno": person.id_masked,
        "gend": person.sex,
        "brdy": born.isoformat(),
        "age": age,
    }


def settlement_fields(ctx: Context, row: SettlementRow, person: PersonRecord) -> dict[str, Any]:
    """A stored settlement (or reversal) as ``setlinfo``: ids, patient, amounts, ``balc``."""
    setl_time = from_us(row.created_at_us).astimezone(BUSINESS_TZ)
    return {
        "setl_id": row.setl_id,
        "medins_setl_id": row.request_id,
        **person_fields(ctx, person, setl_time.date()),
        "insutype": row.insutype,
        "med_type": row.med_type,
        "setl_time": f"{setl_time:%Y-%m-%d %H:%M:%S}",
        **yuan(row.amounts()),
        "clr_optins": row.insured_region,
    }


def fund_detail(insutype: str, fund_pay_fen: int) -> list[dict[str, Any]]:
    """``setldetail``: the fund's share by fund type; empty when the fund paid nothing."""
    if fund_pay_fen == 0:
        return []
    return [
        {
            "fund_pay_type": f"{insutype}100",
            "fund_pay_type_name": _FUND_NAMES.get(insutype, "基本医疗保险统筹基金"),
            "fund_payamt": amount(fund_pay_fen),
        }
    ]
