"""Lifecycle events (docs/rules.md §10), done by operators: suspend, resume, terminate, move to
another pooling area, death, and the one inheritance payout.

Termination, a move and death end every relationship of the person first (quotas go back to
their contributors, open offers are voided); only then do balances move, so nothing shared is
left behind in the old region's books.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta

from gongji.core.enrolment import INSUTYPE_EMPLOYEE, EnrolmentStatus
from gongji.core.masking import MASK, mask_id_number, mask_name
from gongji.core.money import format_yuan
from gongji.kernel import chart
from gongji.kernel.context import Actor, ActorKind, Context, Role
from gongji.kernel.errors import Forbidden, LedgerRefused, NotFound, RegionUnknown
from gongji.ledger.types import AMOUNT_MAX, CreateTransferResult, Transfer, TransferFlags
from gongji.mutual_aid.domain import wallet_errors
from gongji.mutual_aid.service import relationships as relationship_service
from gongji.mutual_aid.store import mutual_aid_repo as aid_repo
from gongji.people.service import registry
from gongji.people.service.persons import open_personal_account, require_person
from gongji.store.records import EnrolmentRecord
from gongji.store.uow import UnitOfWork

CLERKS = frozenset({Role.ADMIN, Role.CLERK})
OK_OR_EXISTS = {CreateTransferResult.OK, CreateTransferResult.EXISTS}


@dataclass(frozen=True, slots=True)
class Heir:
    name: str
    id_number_masked: str
    share_fen: int


def _require_clerk(actor: Actor) -> None:
    if actor.kind is not ActorKind.OPERATOR or not actor.roles & CLERKS:
        raise Forbidden()


def _enrolment(uow: UnitOfWork, psn_no: str) -> EnrolmentRecord:
    require_person(uow, psn_no)
    found = registry.current_enrolment(uow.connection, psn_no)
    if found is None:
        raise NotFound(what="参保信息")
    return found


def suspend(
    ctx: Context, uow: UnitOfWork, actor: Actor, psn_no: str, reason: str
) -> EnrolmentRecord:
    return _change_status(
        ctx, uow, actor, psn_no, EnrolmentStatus.NORMAL, EnrolmentStatus.SUSPENDED, reason
    )


def resume(
    ctx: Context, uow: UnitOfWork, actor: Actor, psn_no: str, reason: str
) -> EnrolmentRecord:
    return _change_status(
        ctx, uow, actor, psn_no, EnrolmentStatus.SUSPENDED, EnrolmentStatus.NORMAL, reason
    )


def _change_status(
    ctx: Context,
    uow: UnitOfWork,
    actor: Actor,
    psn_no: str,
    wanted: EnrolmentStatus,
    new: EnrolmentStatus,
    reason: str,
) -> EnrolmentRecord:
    _require_clerk(actor)
    _require_reason(reason)
    aid_repo.lock_wallets(uow.connection, [psn_no])
    enrolment = _enrolment(uow, psn_no)
    if enrolment.status != wanted:
        raise wallet_errors.EnrolmentStateInvalid(status=enrolment.status)
    now_us = ctx.now_us()
    registry.update_enrolment(uow.connection, enrolment.id, status=new.value, updated_at_us=now_us)
    registry.record_event(
        uow.connection, psn_no, f"enrolment_{new.name.lower()}", actor.label, now_us, reason=reason
    )
    return _enrolment(uow, psn_no)


def _close_enrolment(ctx: Context, uow: UnitOfWork, enrolment_id: int, on: date) -> None:
    registry.update_enrolment(
        uow.connection,
        enrolment_id,
        status=EnrolmentStatus.TERMINATED.value,
        end_date=on.isoformat(),
        updated_at_us=ctx.now_us(),
    )


def _check_date(ctx: Context, enrolment: EnrolmentRecord, on: date) -> None:
    """An enrolment ends (or moves) on a day inside it: not before it began, which would store
    a record that ends before it starts, and not beyond the horizon of
    ``Limits.enrolment_change_horizon_days`` from today, which is a typing mistake."""
    if on.isoformat() < enrolment.start_date:
        raise wallet_errors.EnrolmentDateBeforeStart(
            on=on.isoformat(), start_date=enrolment.start_date
        )
    latest = ctx.today() + timedelta(days=ctx.limits.enrolment_change_horizon_days)
    if on > latest:
        raise wallet_errors.EnrolmentDateTooFar(on=on.isoformat(), latest=latest.isoformat())


def _stored(uow: UnitOfWork, psn_no: str, enrolment_id: int) -> EnrolmentRecord:
    """The enrolment as it is now stored: what an answer shows after a change."""
    found = [e for e in registry.enrolments_of(uow.connection, psn_no) if e.id == enrolment_id]
    if not found:
        raise NotFound(what="参保信息")
    return found[0]


def _require_reason(reason: str) -> None:
    if not reason.strip() or len(reason) > 200:
        raise wallet_errors.ReasonRequired()


def terminate(
    ctx: Context, uow: UnitOfWork, actor: Actor, psn_no: str, on: date, reason: str
) -> EnrolmentRecord:
    _require_clerk(actor)
    _require_reason(reason)
    enrolment = _enrolment(uow, psn_no)
    if enrolment.status == EnrolmentStatus.TERMINATED:
        raise wallet_errors.EnrolmentStateInvalid(status=enrolment.status)
    _check_date(ctx, enrolment, on)
    relationship_service.end_all_of(ctx, uow, psn_no, "terminated")
    now_us = ctx.now_us()
    _close_enrolment(ctx, uow, enrolment.id, on)
    _close_wallet(ctx, uow, psn_no, "terminated")
    registry.record_event(
        uow.connection,
        psn_no,
        "enrolment_terminated",
        actor.label,
        now_us,
        reason=reason,
        on=on.isoformat(),
    )
    return _stored(uow, psn_no, enrolment.id)


def _close_wallet(ctx: Context, uow: UnitOfWork, psn_no: str, reason: str) -> None:
    """A wallet outlives no insurance: nothing could be given, accepted or spent through it."""
    wallet = aid_repo.wallet(uow.connection, psn_no)
    if wallet is not None and wallet.status != "closed":
        aid_repo.update_wallet(
            uow.connection,
            psn_no,
            status="closed",
            status_reason=reason,
            updated_at_us=ctx.now_us(),
        )


def move(
    ctx: Context, uow: UnitOfWork, actor: Actor, psn_no: str, new_region: str, on: date
) -> EnrolmentRecord:
    """转移接续: relationships end, the old enrolment closes, the balance moves with the person."""
    _require_clerk(actor)
    if new_region not in ctx.regions:
        raise RegionUnknown(region=new_region)
    old = _enrolment(uow, psn_no)
    if old.status == EnrolmentStatus.TERMINATED:
        raise wallet_errors.EnrolmentStateInvalid(status=old.status)
    if old.region == new_region:
        raise wallet_errors.SameRegion()
    _check_date(ctx, old, on)
    relationship_service.end_all_of(ctx, uow, psn_no, "moved")
    now_us = ctx.now_us()
    _close_enrolment(ctx, uow, old.id, on)
    registry.insert_enrolment(
        uow.connection,
        {
            "psn_no": psn_no,
            "insutype": old.insutype,
            "region": new_region,
            "status": old.status,
            "employment": old.employment,
            "start_date": on.isoformat(),
            "end_date": None,
            "updated_at_us": now_us,
        },
    )
    if old.insutype == INSUTYPE_EMPLOYEE:
        _move_balances(ctx, uow, psn_no, old, new_region)
    registry.record_event(
        uow.connection, psn_no, "moved", actor.label, now_us, old=old.region, new=new_region
    )
    return _enrolment(uow, psn_no)


def _move_balances(
    ctx: Context, uow: UnitOfWork, psn_no: str, closed: EnrolmentRecord, new: str
) -> None:
    """Both parts of the personal account to the new region's, each by a balancing transfer
    without a cap: the ledger moves what the part holds when it posts (reserved money counted as
    spent; none is left once relationships ended), so no balance is read first.

    The ids name the enrolment the move closed: a person may move away and back and away again
    along the same route, and a balancing transfer resent under an old move's id would answer
    ``exists`` and move nothing. Accounts missing on either side are created empty, so each part
    is one transfer (0 fen when the part is empty)."""
    open_personal_account(ctx, uow, new, psn_no, 0, 0)
    old = closed.region
    ctx.ledger.create_accounts_in(uow, chart.personal_accounts(old, psn_no))
    parts = {
        "cur": (chart.personal_current(old, psn_no), chart.personal_current(new, psn_no)),
        "old": (chart.personal_earlier(old, psn_no), chart.personal_earlier(new, psn_no)),
    }
    transfers = [
        Transfer(
            move_transfer_id(closed.id, psn_no, part),
            source,
            target,
            AMOUNT_MAX,
            chart.LEDGER_CNY,
            chart.TransferCode.MOVE_REGION,
            TransferFlags.BALANCING_DEBIT,
            ref=psn_no,
        )
        for part, (source, target) in parts.items()
    ]
    outcomes = ctx.ledger.create_transfers_recorded_in(uow, transfers)
    if any(outcome.result is not CreateTransferResult.OK for outcome in outcomes):
        raise LedgerRefused("the move of a personal account", [o.result for o in outcomes])


def move_transfer_id(enrolment_id: int, psn_no: str, part: str) -> str:
    """``move:{closed enrolment}:{psn_no}:{cur|old}``: at most 61 characters (a 19-digit row id,
    a 32-character person number), within the ledger's 64."""
    return f"move:{enrolment_id}:{psn_no}:{part}"


def record_death(
    ctx: Context, uow: UnitOfWork, actor: Actor, psn_no: str, on: date, certificate_no: str
) -> None:
    _require_clerk(actor)
    person = require_person(uow, psn_no)
    if person.death_date:
        raise wallet_errors.PersonDeceased()
    if not certificate_no.strip():
        raise wallet_errors.HeirsRequired()
    relationship_service.end_all_of(ctx, uow, psn_no, "death")
    enrolment = registry.current_enrolment(uow.connection, psn_no)
    now_us = ctx.now_us()
    if enrolment is not None and enrolment.status != EnrolmentStatus.TERMINATED:
        _close_enrolment(ctx, uow, enrolment.id, on)
    registry.set_death_date(uow.connection, psn_no, on.isoformat())
    _close_wallet(ctx, uow, psn_no, "death")
    registry.record_event(
        uow.connection,
        psn_no,
        "death_recorded",
        actor.label,
        now_us,
        on=on.isoformat(),
        certificate_no=certificate_no,
    )


def pay_inheritance(
    ctx: Context, uow: UnitOfWork, actor: Actor, psn_no: str, certificate_no: str, heirs: list[Heir]
) -> int:
    """Pay the whole balance (earlier and this year's) once to the named heirs. Returns fen paid.

    The heirs' shares must add up to what is paid, so the record says who received every fen;
    otherwise nothing is paid. The record keeps each heir's name masked, as every screen and
    file shows it: the full identities stay on the paper file the death certificate number names.
    """
    _require_clerk(actor)
    person = require_person(uow, psn_no)
    if not person.death_date:
        raise wallet_errors.PersonNotDeceased()
    if not heirs or not certificate_no.strip():
        raise wallet_errors.HeirsRequired()
    if registry.inheritance_paid(uow.connection, psn_no):
        raise wallet_errors.InheritanceAlreadyPaid()
    enrolments = [
        e for e in registry.enrolments_of(uow.connection, psn_no) if e.insutype == INSUTYPE_EMPLOYEE
    ]
    region = enrolments[0].region if enrolments else ""
    paid = _pay_out(ctx, uow, region, psn_no) if region else 0
    shares = sum(heir.share_fen for heir in heirs)
    if shares != paid or any(heir.share_fen < 0 for heir in heirs):
        raise wallet_errors.HeirSharesMismatch(
            shares=format_yuan(shares), balance=format_yuan(paid)
        )
    registry.insert_inheritance(
        uow.connection,
        {
            "psn_no": psn_no,
            "death_certificate_no": certificate_no.strip(),
            "heirs": json.dumps([_heir_json(h) for h in heirs], ensure_ascii=False),
            "amount_fen": paid,
            "operator": actor.id,
            "paid_at_us": ctx.now_us(),
        },
    )
    registry.record_event(
        uow.connection, psn_no, "inheritance_paid", actor.label, ctx.now_us(), amount_fen=paid
    )
    return paid


def _heir_json(heir: Heir) -> dict[str, object]:
    typed = heir.id_number_masked.strip()  # a clerk may type the whole number: it is masked here
    masked_id = typed if MASK in typed else mask_id_number(typed)
    return {"name": mask_name(heir.name), "id": masked_id, "share_fen": heir.share_fen}


def _pay_out(ctx: Context, uow: UnitOfWork, region: str, psn_no: str) -> int:
    """Both parts of the personal account to the inheritance payout account, each by a balancing
    transfer without a cap: the ledger decides what each part holds when it posts, and the
    amount paid is what the two recorded transfers moved, so no balance is read first (nor can
    money arriving in between be left behind or overdrawn). Accounts missing are created empty,
    so each part is one transfer (0 fen when the part is empty)."""
    ctx.ledger.create_accounts_in(
        uow, [chart.inheritance_account(region, psn_no), *chart.personal_accounts(region, psn_no)]
    )
    sources = [chart.personal_earlier(region, psn_no), chart.personal_current(region, psn_no)]
    transfers = [
        Transfer(
            f"inherit:{source}",
            source,
            chart.inheritance_payout(region, psn_no),
            AMOUNT_MAX,
            chart.LEDGER_CNY,
            chart.TransferCode.INHERITANCE,
            TransferFlags.BALANCING_DEBIT,
            ref=psn_no,
        )
        for source in sources
    ]
    outcomes = ctx.ledger.create_transfers_recorded_in(uow, transfers)
    if any(outcome.result not in OK_OR_EXISTS for outcome in outcomes):
        raise LedgerRefused("the inheritance payout", [o.result for o in outcomes])
    return sum(outcome.moved for outcome in outcomes)
