"""Pre-settlement (预结算): what a bill would cost whom, computed and moving nothing.

Three phases. *Gather*: at one instant, read the institution, the patient's enrolment, the
adjudicated bill, the benefit rule, the year so far and the money the patient may draw on.
*Decide*: :func:`~gongji.settlement.domain.decision.decide`, pure. The settlement itself runs
the same two phases with ``lock=True`` inside the settling transaction, so the balances it
decided against cannot change before they are drawn, and then *writes*
(:mod:`~gongji.settlement.service.settlement`).

Sources of the personal burden, in the policy's order: the person's own account (this year's
money first, or as ``own_spending_current_year_first`` says), then shared money (grants oldest
first, then authorizations in binding order: ``mutual_aid.service.shared_money``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from gongji.core.clock import to_us
from gongji.core.enrolment import INSUTYPE_EMPLOYEE, EnrolmentStatus
from gongji.institutions.service import institutions
from gongji.institutions.service.institutions import InstitutionRecord, check_can_settle
from gongji.kernel import chart
from gongji.kernel.context import BUSINESS_TZ, Context
from gongji.mutual_aid.domain.sharing import Source
from gongji.mutual_aid.service.accounts import parts_available, parts_reads
from gongji.mutual_aid.service.shared_money import (
    spendable,
    spendable_reads,
    spendable_sources,
)
from gongji.notify.service import preferences
from gongji.people.service import persons
from gongji.people.service.persons import governing_enrolment, require_person
from gongji.settlement.domain.benefits import Employment
from gongji.settlement.domain.bill import SettleRequest
from gongji.settlement.domain.compute import SettlementFigures, YearToDate
from gongji.settlement.domain.decision import PlannedDraw, SettlementFacts, decide
from gongji.settlement.domain.items import BillLine, build_bill_lines
from gongji.settlement.domain.payment import PaymentPlan, PaymentStep
from gongji.settlement.domain.settlement_errors import NotInsuredForSettlement, SettlementSuspended
from gongji.settlement.service.benefits import benefit_rule
from gongji.settlement.service.catalogue import items_reads, load_items
from gongji.settlement.store import settlements_repo
from gongji.store.raw import DriverRead, Read
from gongji.store.records import EnrolmentRecord, PersonRecord
from gongji.store.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class Quote:
    request: SettleRequest
    institution: InstitutionRecord
    enrolment: EnrolmentRecord
    at_us: int  # the instant the facts were read, and the settlement's own time
    year: int
    business_date: str
    benefit_pool: str
    figures: SettlementFigures
    plan: PaymentPlan
    draws: tuple[PlannedDraw, ...]
    own_before_fen: int
    bill: tuple[BillLine, ...]
    patient_name_masked: str  # as read while quoting: what the contributors' notices name

    @property
    def balc_fen(self) -> int:
        """The own personal account's available balance after this settlement."""
        return self.own_before_fen - sum(d.amount_fen for d in self.draws if d.kind == "own")


def quote(
    ctx: Context,
    uow: UnitOfWork,
    request: SettleRequest,
    *,
    lock: bool = False,
    at: datetime | None = None,
    patient: PersonRecord | None = None,
) -> Quote:
    """Gather the bill's facts at ``at`` (now, by default) and decide; nothing is written.
    ``patient``: the person already read in this transaction (identified by their credential),
    not read again."""
    now = at or ctx.now()
    today = now.astimezone(BUSINESS_TZ).date()
    if uow.reads_ahead:  # PostgreSQL: one trip; nothing sent for what a caller read ahead
        patient_known = patient is not None
        uow.prefetch(first_reads(ctx, request, lock=lock, patient_known=patient_known, uow=uow))
    institution = check_can_settle(ctx, uow, request.institution_code, request.med_type)
    patient, enrolment = _insured(uow, request.psn_no, patient)
    rule = benefit_rule(
        ctx,
        enrolment.region,
        today,
        enrolment.insutype,
        request.med_type,
        institution.level,
        Employment(enrolment.employment),
    )
    # Read in this order always: the rows locked (accumulator, own accounts, shared money) are
    # taken in the same order by every settlement, so two cannot wait on each other.
    bill = _bill(ctx, uow, request)
    # acct_used_flag 0: no account money of any kind pays, own or shared (docs/rules.md §8).
    paying_shared = request.acct_used_flag and _mutual_aid_chosen(
        ctx, uow, request, enrolment.region, today
    )
    # The wallet and grants, unlocked: they name the quotas that the shared money locks.
    known = spendable(uow, request.psn_no) if paying_shared else None
    if uow.reads_ahead:  # PostgreSQL: the next reads in one round trip, in this order
        key = (request.psn_no, today.year, enrolment.insutype, rule.pool)
        reads: list[Read | DriverRead] = [
            settlements_repo.accumulator_lock_read(*key, to_us(now))
            if lock
            else settlements_repo.accumulator_read(*key)
        ]
        if _pays_from_own(request, enrolment):
            reads += parts_reads(ctx, enrolment.region, request.psn_no, lock=lock)
        if known is not None:
            reads += known.lock_reads(ctx, lock=lock)
        uow.prefetch(reads)
    year_to_date = _year_to_date(uow, request.psn_no, today, enrolment, rule.pool, now, lock)
    own = _own_source(ctx, uow, enrolment, request, today, lock)
    shared = (
        spendable_sources(
            ctx, uow, request.psn_no, today, lock=lock, spender=enrolment, known=known
        )
        if known is not None
        else []
    )
    order = ctx.policy(enrolment.region, today).payment_order
    facts = SettlementFacts(
        bill, rule, year_to_date, own, tuple(shared), tuple(PaymentStep(s.value) for s in order)
    )
    decided = decide(facts)
    return Quote(
        request,
        institution,
        enrolment,
        to_us(now),
        today.year,
        today.isoformat(),
        rule.pool,
        decided.figures,
        decided.plan,
        decided.draws,
        own.available_fen if own else _own_balance(ctx, uow, enrolment, request.psn_no),
        facts.bill,
        patient.name_masked,
    )


def first_reads(
    ctx: Context,
    request: SettleRequest,
    *,
    lock: bool,
    patient_known: bool = False,
    uow: UnitOfWork | None = None,
) -> list[Read]:
    """What :func:`quote` reads before it knows the patient's enrolment, in its order: the
    institution, the person (unless the caller hands them in: ``patient_known``) and their
    enrolments, the bill's catalogue items, when it locks the person's row, then what says
    whether and which shared money may pay (the standing choice, the wallet and the grants),
    as far as the bill allows it. The institution and items this process keeps are not read:
    the reference generation is, in their stead (kernel/reference_rows.py). None depends on
    another's answer, so a caller can make them in one round trip (``uow.prefetch``) before
    quoting."""
    reads = [
        *institutions.settle_check_reads(ctx, request.institution_code, uow),
        *persons.insured_reads(request.psn_no, person_known=patient_known),
        *items_reads(ctx, (line.item_code for line in request.lines), uow),
    ]
    if lock:
        reads.append(settlements_repo.lock_person_read(request.psn_no))
    if request.acct_used_flag and request.use_mutual_aid is None:
        reads += preferences.reads_of(request.psn_no)
    if request.acct_used_flag and request.use_mutual_aid is not False:
        reads += spendable_reads(request.psn_no)
    return reads


def _mutual_aid_chosen(
    ctx: Context, uow: UnitOfWork, request: SettleRequest, region: str, today: date
) -> bool:
    """Shared money pays only when the patient chose it: for this bill (the desk, ``exp_content``)
    or, when the bill does not say, by their standing choice, which is the policy's
    ``mutual_aid_choice_default`` (off as shipped) until they make it (docs/rules.md §6.2)."""
    if request.use_mutual_aid is not None:
        return request.use_mutual_aid
    policy = ctx.policy(region, today)
    return preferences.of(uow, request.psn_no).uses_mutual_aid(policy)


def _insured(
    uow: UnitOfWork, psn_no: str, known: PersonRecord | None
) -> tuple[PersonRecord, EnrolmentRecord]:
    person = known if known is not None and known.psn_no == psn_no else require_person(uow, psn_no)
    enrolment = governing_enrolment(uow, psn_no)
    if enrolment is None or person.death_date or enrolment.status == EnrolmentStatus.TERMINATED:
        raise NotInsuredForSettlement()
    if enrolment.status == EnrolmentStatus.SUSPENDED:
        raise SettlementSuspended()
    return person, enrolment


def _bill(ctx: Context, uow: UnitOfWork, request: SettleRequest) -> tuple[BillLine, ...]:
    items = load_items(ctx, uow, [line.item_code for line in request.lines])
    specs = [(items[line.item_code], line.quantity, line.unit_price_fen) for line in request.lines]
    lines, problems = build_bill_lines(specs)
    if problems:
        raise problems[0]
    return lines


def _year_to_date(
    uow: UnitOfWork,
    psn_no: str,
    today: date,
    enrolment: EnrolmentRecord,
    pool: str,
    now: datetime,
    lock: bool,
) -> YearToDate:
    key = (psn_no, today.year, enrolment.insutype, pool)
    used = (
        settlements_repo.lock_accumulator(uow.connection, *key, to_us(now))
        if lock
        else settlements_repo.read_accumulator(uow.connection, *key)
    )
    return YearToDate(*used)


def _own_source(
    ctx: Context,
    uow: UnitOfWork,
    enrolment: EnrolmentRecord,
    request: SettleRequest,
    today: date,
    lock: bool,
) -> Source | None:
    if not _pays_from_own(request, enrolment):
        return None
    parts = parts_available(ctx, uow, enrolment.region, request.psn_no, lock=lock)
    current = (chart.personal_current(enrolment.region, request.psn_no), parts.current_fen)
    earlier = (chart.personal_earlier(enrolment.region, request.psn_no), parts.earlier_fen)
    first_current = ctx.policy(enrolment.region, today).own_spending_current_year_first
    accounts = (current, earlier) if first_current else (earlier, current)
    return Source("own", request.psn_no, request.psn_no, enrolment.region, accounts)


def _pays_from_own(request: SettleRequest, enrolment: EnrolmentRecord) -> bool:
    """The bill may draw on the patient's own account: they allow it and have one."""
    return bool(request.acct_used_flag) and enrolment.insutype == INSUTYPE_EMPLOYEE


def _own_balance(ctx: Context, uow: UnitOfWork, enrolment: EnrolmentRecord, psn_no: str) -> int:
    """The own account's available balance when it does not pay: ``balc`` still reports it."""
    if enrolment.insutype != INSUTYPE_EMPLOYEE:
        return 0
    parts = parts_available(ctx, uow, enrolment.region, psn_no)
    return parts.current_fen + parts.earlier_fen
