"""Visits and their uploaded fee details, the use cases behind the national interface's
2201–2205 (outpatient) and 2301/2302, 2401–2405 (inpatient): docs/rules.md §8.6.

A hospital's HIS opens a visit, uploads its fee details in charge batches (``chrg_bchno``),
and settles a batch (outpatient) or the whole stay (inpatient) by the visit's ``mdtrt_id``.
The rules of which state allows what are in :mod:`gongji.settlement.domain.visits`; the
settlement itself is :func:`gongji.settlement.service.settlement.settle`, called with the
uploaded lines, so a visit's settlement is computed exactly as an inline bill's.

Every function runs inside the caller's unit of work and reads with row locks where it then
writes, so two messages about one visit are serialised (on SQLite the write transaction
already is).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Final

from gongji.institutions.service.institutions import check_can_settle, settle_check_reads
from gongji.kernel.context import Context
from gongji.kernel.idgen import new_id
from gongji.people.service.persons import governing_enrolment, insured_reads
from gongji.settlement.domain import visits as rules
from gongji.settlement.domain.bill import LineIn
from gongji.settlement.domain.items import ItemFigures, adjudicate_bill, build_bill_lines
from gongji.settlement.domain.settlement_errors import NotInsuredForSettlement
from gongji.settlement.domain.visits import LineStand, VisitKind, VisitState
from gongji.settlement.service.catalogue import items_reads, load_items
from gongji.settlement.service.settlement import Resent
from gongji.settlement.store import settlements_repo
from gongji.settlement.store import visits_repo as repo
from gongji.settlement.store.visits_repo import DiagnosisRow, FeeLineRow, VisitRow
from gongji.store.raw import Read
from gongji.store.records import PersonRecord
from gongji.store.uow import UnitOfWork

__all__ = ["DiagnosisRow", "FeeLineRow", "VisitRow"]

NO_BATCH: Final = ""
"""The batch number of a stay's line uploaded without ``chrg_bchno`` (2301 allows it)."""


@dataclass(frozen=True, slots=True)
class UploadLine:
    """One fee detail as the HIS uploads it."""

    feedetl_sn: str
    chrg_bchno: str
    item_code: str
    quantity: Decimal
    unit_price_fen: int
    fee_ocur_time: str | None = None

    def fingerprint(self) -> str:
        text = f"{self.chrg_bchno}|{self.item_code}|{self.quantity.normalize()}|"
        return hashlib.sha256(f"{text}{self.unit_price_fen}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Diagnosis:
    srt_no: int
    diag_type: str
    code: str
    name: str
    main: bool


@dataclass(frozen=True, slots=True)
class Opening:
    """A visit to open: who, where, and the HIS's own number for it. The patient is the person
    their credential named, identified in the same transaction
    (``people.service.patient_identity``): a visit is never opened on a bare ``psn_no``."""

    institution_code: str
    kind: VisitKind
    patient: PersonRecord
    ipt_otp_no: str
    med_type: str
    begntime: str
    insutype: str | None = None


def open_visit(ctx: Context, uow: UnitOfWork, opening: Opening) -> VisitRow:
    """2201 / 2401: a new visit, or the one already opened under the HIS's number (a retry).

    Its reads (the institution, a visit under the number, the patient's enrolments) are made
    ahead in one round trip on PostgreSQL: none depends on another's answer."""
    psn_no = opening.patient.psn_no
    uow.prefetch(
        [
            *settle_check_reads(ctx, opening.institution_code, uow),
            repo.visit_by_number_read(opening.institution_code, opening.kind, opening.ipt_otp_no),
            *insured_reads(psn_no, person_known=True),
        ]
    )
    check_can_settle(ctx, uow, opening.institution_code, opening.med_type)
    existing = repo.visit_by_number(
        uow.connection, opening.institution_code, opening.kind, opening.ipt_otp_no
    )
    if existing is not None:
        if existing.psn_no != psn_no:
            raise rules.VisitNumberReused(ipt_otp_no=opening.ipt_otp_no)
        return existing
    enrolment = governing_enrolment(uow, psn_no)
    if enrolment is None:
        raise NotInsuredForSettlement()
    now_us = ctx.now_us()
    row = VisitRow(
        institution_code=opening.institution_code,
        mdtrt_id=new_id("M", now_us),
        kind=opening.kind,
        ipt_otp_no=opening.ipt_otp_no,
        psn_no=psn_no,
        insutype=enrolment.insutype,
        med_type=opening.med_type,
        state=VisitState.OPEN,
        begntime=opening.begntime,
        endtime=None,
        created_at_us=now_us,
        updated_at_us=now_us,
    )
    repo.insert_visit(uow.connection, row)
    return row


def visit_for(
    uow: UnitOfWork,
    institution: str,
    mdtrt_id: str,
    kind: VisitKind,
    psn_no: str | None,
    *,
    lock: bool = True,
) -> VisitRow:
    """The institution's visit, of this kind, not cancelled, of this person when one is named."""
    found = repo.visit(uow.connection, institution, mdtrt_id, lock=lock)
    if found is None:
        raise rules.VisitNotFound(mdtrt_id=mdtrt_id)
    rules.check_open(mdtrt_id, found.state, found.kind, kind)
    if psn_no is not None and psn_no != found.psn_no:
        raise rules.VisitPersonMismatch(mdtrt_id=mdtrt_id)
    return found


def cancel_visit(
    ctx: Context, uow: UnitOfWork, institution: str, mdtrt_id: str, kind: VisitKind, psn_no: str
) -> VisitRow:
    """2202 / 2404: cancel a visit with nothing uploaded; cancelling it again changes nothing."""
    found = repo.visit(uow.connection, institution, mdtrt_id, lock=True)
    if found is None:
        raise rules.VisitNotFound(mdtrt_id=mdtrt_id)
    if found.state == VisitState.CANCELLED and found.kind == kind and found.psn_no == psn_no:
        return found
    visit = visit_for(uow, institution, mdtrt_id, kind, psn_no)
    rules.check_cancellable(mdtrt_id, _stands(repo.lines(uow.connection, institution, mdtrt_id)))
    repo.update_visit(uow.connection, institution, mdtrt_id, ctx.now_us(), state="cancelled")
    return _with(visit, state=VisitState.CANCELLED)


def set_state(
    ctx: Context,
    uow: UnitOfWork,
    visit: VisitRow,
    wanted: VisitState,
    endtime: str | None,
) -> VisitRow:
    """2402 / 2405: discharge an inpatient stay, or undo the discharge."""
    if visit.state == wanted:
        return visit
    allowed = {VisitState.DISCHARGED: VisitState.OPEN, VisitState.OPEN: VisitState.DISCHARGED}
    if allowed.get(wanted) != visit.state:
        raise rules.VisitStateInvalid(mdtrt_id=visit.mdtrt_id, state=visit.state)
    if wanted == VisitState.OPEN:  # a settled stay's discharge stands until it is reversed
        lines = repo.lines(uow.connection, visit.institution_code, visit.mdtrt_id)
        for line in lines:
            if line.state == rules.LineState.SETTLED:
                raise rules.FeesSettled(feedetl_sn=line.feedetl_sn)
    repo.update_visit(
        uow.connection,
        visit.institution_code,
        visit.mdtrt_id,
        ctx.now_us(),
        state=str(wanted),
        endtime=endtime,
    )
    return _with(visit, state=wanted, endtime=endtime)


def record_diagnoses(
    ctx: Context,
    uow: UnitOfWork,
    visit: VisitRow,
    med_type: str | None,
    diagnoses: Sequence[Diagnosis],
) -> VisitRow:
    """2203: the visit's diagnoses (the latest upload replaces the earlier) and its category."""
    if med_type is not None and med_type != visit.med_type:
        check_can_settle(ctx, uow, visit.institution_code, med_type)
        repo.update_visit(
            uow.connection, visit.institution_code, visit.mdtrt_id, ctx.now_us(), med_type=med_type
        )
        visit = _with(visit, med_type=med_type)
    rows = [
        DiagnosisRow(
            visit.institution_code,
            visit.mdtrt_id,
            d.srt_no,
            d.diag_type,
            d.code,
            d.name,
            "1" if d.main else "0",
        )
        for d in diagnoses
    ]
    repo.replace_diagnoses(uow.connection, visit.institution_code, visit.mdtrt_id, rows)
    return visit


def upload(
    ctx: Context, uow: UnitOfWork, visit: VisitRow, lines: Sequence[UploadLine]
) -> list[ItemFigures]:
    """2204 / 2301: store the lines not yet held; each line's figures as the catalogue sees it.

    A line sent again with the same number and content is the same line (a retry); the same
    number with other content, or of a revoked line, is refused: a number names one line. A
    batch number belongs to the first visit that uploads it (``visit_charge_batches``, a
    database key, so a race of two visits has one winner); a stay's lines sent without one
    (:data:`NO_BATCH`) belong to no batch and claim nothing. After the claims, the catalogue
    items, the lines held and the next line number are read ahead together.
    """
    institution, mdtrt_id = visit.institution_code, visit.mdtrt_id
    for chrg_bchno in sorted({line.chrg_bchno for line in lines} - {NO_BATCH}):
        owner = repo.claim_batch(uow.connection, institution, chrg_bchno, mdtrt_id, ctx.now_us())
        if owner != mdtrt_id:
            raise rules.BatchOfAnotherVisit(chrg_bchno=chrg_bchno, mdtrt_id=mdtrt_id)
    uow.prefetch(  # after the claims, which write: one round trip on PostgreSQL
        [
            *items_reads(ctx, (line.item_code for line in lines), uow),
            repo.lines_read(institution, mdtrt_id, None, lock=False),
            repo.next_seq_read(institution, mdtrt_id),
        ]
    )
    figures = _figures(ctx, uow, lines)
    held = {row.feedetl_sn: row for row in repo.lines(uow.connection, institution, mdtrt_id)}
    seq = repo.next_seq(uow.connection, institution, mdtrt_id)
    new: list[FeeLineRow] = []
    for line, figure in zip(lines, figures, strict=True):
        old = held.get(line.feedetl_sn)
        if old is not None:
            if old.line_hash != line.fingerprint() or old.state == rules.LineState.REVOKED:
                raise rules.FeeLineReused(feedetl_sn=line.feedetl_sn)
            continue
        new_row = _line_row(ctx, visit, line, figure, seq + len(new))
        held[line.feedetl_sn] = new_row
        new.append(new_row)
    repo.insert_lines(uow.connection, new)
    return figures


def revoke(
    uow: UnitOfWork,
    visit: VisitRow,
    chrg_bchno: str | None,
    feedetl_sns: Sequence[str] | None,
) -> list[str]:
    """2205 / 2302: revoke a batch, some lines, or (neither named) every unsettled line; a
    settled line refuses the whole revocation. The numbers of the lines revoked now."""
    institution, mdtrt_id = visit.institution_code, visit.mdtrt_id
    if chrg_bchno is not None:
        _check_batch(uow, visit, chrg_bchno)
    chosen = repo.lines(uow.connection, institution, mdtrt_id, chrg_bchno=chrg_bchno, lock=True)
    if feedetl_sns is not None:
        by_sn = {line.feedetl_sn: line for line in chosen}
        for sn in feedetl_sns:
            if sn not in by_sn:
                raise rules.FeeLineNotFound(mdtrt_id=mdtrt_id, feedetl_sn=sn)
        chosen = [by_sn[sn] for sn in dict.fromkeys(feedetl_sns)]
    elif chrg_bchno is None:  # "all": what is settled stays, the rest is revoked
        chosen = [line for line in chosen if line.state != rules.LineState.SETTLED]
    changing = [line.feedetl_sn for line in rules.check_revocable(_stands(chosen))]
    if changing:
        repo.set_lines(uow.connection, institution, mdtrt_id, changing, "revoked", None)
    return changing


def settling_reads(
    institution: str, mdtrt_id: str, chrg_bchno: str | None, request_id: str | None
) -> list[Read]:
    """What settling a visit's uploaded lines reads first, in the order it reads them, to make
    ahead in one round trip (``uow.prefetch``): the visit (locked, :func:`visit_for`), its
    batch's owner (:func:`lines_to_settle` of a batch), the lines (locked), a settlement
    under ``request_id`` already. ``request_id`` None: a pre-settlement's, nothing locked and
    no settlement looked for. On SQLite nothing is read ahead."""
    lock = request_id is not None
    reads = [repo.visit_read(institution, mdtrt_id, lock=lock)]
    if chrg_bchno is not None:
        reads.append(repo.batch_visit_read(institution, chrg_bchno))
    reads.append(repo.lines_read(institution, mdtrt_id, chrg_bchno, lock=lock))
    if request_id is not None:
        reads.append(settlements_repo.by_request_read(institution, request_id))
    return reads


@dataclass(frozen=True, slots=True)
class ToSettle:
    """The lines a settlement pays, and what was read under the settling request's id (None
    for a pre-settlement, which has no id and reads nothing there)."""

    lines: list[FeeLineRow]
    resent: Resent | None


def lines_to_settle(
    uow: UnitOfWork,
    visit: VisitRow,
    chrg_bchno: str | None,
    request_id: str | None,
) -> ToSettle:
    """The lines a settlement of the batch (or, ``chrg_bchno`` None, of the whole visit) pays.

    ``request_id`` is the settling request's id (None for a pre-settlement): when a settlement
    under it exists, the lines are those it paid, so a resent request gets its settlement back
    (the settlement is handed on with them: settling need not read it again).
    """
    institution = visit.institution_code
    if chrg_bchno is not None:
        _check_batch(uow, visit, chrg_bchno)
    lock = request_id is not None
    rows = repo.lines(uow.connection, institution, visit.mdtrt_id, chrg_bchno=chrg_bchno, lock=lock)
    replayed = (
        None
        if request_id is None
        else settlements_repo.by_request(uow.connection, institution, request_id)
    )
    chosen = rules.to_settle(
        visit.mdtrt_id,
        chrg_bchno or "全部",
        _stands(rows),
        request_id or "",
        None if replayed is None else replayed.setl_id,
    )
    wanted = {line.feedetl_sn for line in chosen}
    resent = None if request_id is None else Resent(replayed)
    return ToSettle([row for row in rows if row.feedetl_sn in wanted], resent)


def line_ins(rows: Sequence[FeeLineRow]) -> tuple[LineIn, ...]:
    """Stored lines as a settlement request's lines, in upload order."""
    return tuple(LineIn(r.item_code, Decimal(r.quantity), r.unit_price_fen) for r in rows)


def mark_settled(
    uow: UnitOfWork, visit: VisitRow, rows: Sequence[FeeLineRow], setl_id: str
) -> None:
    sns = [row.feedetl_sn for row in rows if row.state != rules.LineState.SETTLED]
    if sns:
        repo.set_lines(
            uow.connection, visit.institution_code, visit.mdtrt_id, sns, "settled", setl_id
        )


def release(uow: UnitOfWork, setl_id: str) -> int:
    """After the reversal of ``setl_id``: the lines it paid may be settled or revoked again."""
    return repo.release_settled(uow.connection, setl_id)


def visit_lines(uow: UnitOfWork, visit: VisitRow) -> list[FeeLineRow]:
    return repo.lines(uow.connection, visit.institution_code, visit.mdtrt_id)


def visit_diagnoses(uow: UnitOfWork, visit: VisitRow) -> list[DiagnosisRow]:
    return repo.diagnoses(uow.connection, visit.institution_code, visit.mdtrt_id)


def find_visit(uow: UnitOfWork, institution: str, mdtrt_id: str) -> VisitRow | None:
    return repo.visit(uow.connection, institution, mdtrt_id)


def visits_of(uow: UnitOfWork, institution: str, psn_no: str, limit: int) -> list[VisitRow]:
    return repo.visits_of_person(uow.connection, institution, psn_no, limit)


# --- helpers ----------------------------------------------------------------------------------


def _check_batch(uow: UnitOfWork, visit: VisitRow, chrg_bchno: str) -> None:
    owner = repo.batch_visit(uow.connection, visit.institution_code, chrg_bchno)
    if owner is None:
        raise rules.BatchNotFound(mdtrt_id=visit.mdtrt_id, chrg_bchno=chrg_bchno)
    if owner != visit.mdtrt_id:
        raise rules.BatchOfAnotherVisit(chrg_bchno=chrg_bchno, mdtrt_id=visit.mdtrt_id)


def _figures(ctx: Context, uow: UnitOfWork, lines: Sequence[UploadLine]) -> list[ItemFigures]:
    items = load_items(ctx, uow, [line.item_code for line in lines])
    specs = [(items[line.item_code], line.quantity, line.unit_price_fen) for line in lines]
    bill, problems = build_bill_lines(specs)
    if problems:
        raise problems[0]
    return list(adjudicate_bill(bill))


def _line_row(
    ctx: Context, visit: VisitRow, line: UploadLine, figure: ItemFigures, seq: int
) -> FeeLineRow:
    return FeeLineRow(
        institution_code=visit.institution_code,
        mdtrt_id=visit.mdtrt_id,
        feedetl_sn=line.feedetl_sn,
        chrg_bchno=line.chrg_bchno,
        seq=seq,
        item_code=line.item_code,
        quantity=str(line.quantity),
        unit_price_fen=line.unit_price_fen,
        det_item_fee_sumamt=figure.det_item_fee_sumamt,
        fee_ocur_time=line.fee_ocur_time,
        line_hash=line.fingerprint(),
        state=rules.LineState.UPLOADED,
        setl_id=None,
        uploaded_at_us=ctx.now_us(),
    )


def _stands(rows: Sequence[FeeLineRow]) -> list[LineStand]:
    return [
        LineStand(row.feedetl_sn, row.chrg_bchno, rules.LineState(row.state), row.setl_id)
        for row in rows
    ]


def _with(visit: VisitRow, **changes: Any) -> VisitRow:
    return replace(visit, **changes)
