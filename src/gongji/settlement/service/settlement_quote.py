"""Pre-settlement (预结算): what a bill would cost whom, computed and moving nothing.

The same function serves the settlement itself, then with ``lock=True`` inside the settling
transaction so that the balances it plans against cannot change before they are drawn.
Sources of the personal burden, in the policy's order: the person's own account (this year's
money first), then active grants to the person (oldest first), then authorizations (binding
order, up to each quota and to what the contributor's account may give).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from gongji.core.enrolment import INSUTYPE_EMPLOYEE, EnrolmentStatus, WalletStatus
from gongji.core.money import allocate_in_order
from gongji.institutions.service.institutions import InstitutionRecord, check_can_settle
from gongji.kernel import chart
from gongji.kernel.context import Context
from gongji.mutual_aid.domain.grant_errors import WalletFrozen
from gongji.mutual_aid.service import records as aid_records
from gongji.mutual_aid.service import sharing
from gongji.mutual_aid.service.accounts import parts_available
from gongji.notify.service import preferences
from gongji.people.service.persons import governing_enrolment, require_person
from gongji.settlement.domain.benefits import Employment
from gongji.settlement.domain.compute import SettlementFigures, YearToDate, compute_settlement
from gongji.settlement.domain.items import BillLine, build_bill_lines
from gongji.settlement.domain.payment import (
    PaymentPlan,
    PaymentStep,
    SharedKind,
    SharedSource,
    plan_payment,
)
from gongji.settlement.domain.settlement_errors import NotInsuredForSettlement, SettlementSuspended
from gongji.settlement.service.benefits import benefit_rule
from gongji.settlement.service.catalogue import load_items
from gongji.settlement.store import settlements_repo
from gongji.store.records import EnrolmentRecord
from gongji.store.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class LineIn:
    item_code: str
    quantity: Decimal
    unit_price_fen: int


@dataclass(frozen=True, slots=True)
class SettleRequest:
    institution_code: str
    request_id: str
    psn_no: str
    med_type: str
    lines: tuple[LineIn, ...]
    acct_used_flag: bool = True
    use_mutual_aid: bool | None = None
    """The patient's choice for this settlement (desk, ``exp_content``); None: their standing
    choice 就医时使用家庭共济 (docs/rules.md §6.2)."""

    def fingerprint(self) -> str:
        """What makes two requests the same request (idempotency per institution request id)."""
        lines = ";".join(
            f"{line.item_code},{line.quantity.normalize()},{line.unit_price_fen}"
            for line in self.lines
        )
        choice = "-" if self.use_mutual_aid is None else str(int(self.use_mutual_aid))
        flags = f"{int(self.acct_used_flag)}{choice}"
        return f"{self.psn_no}|{self.med_type}|{flags}|{lines}"


@dataclass(frozen=True, slots=True)
class Source:
    """A place money may be drawn from, and its accounts in the order they are drawn."""

    kind: str  # own | grant | authorization
    source_id: str
    contributor: str
    contributor_region: str
    accounts: tuple[tuple[str, int], ...]  # (account id, available fen)

    @property
    def available_fen(self) -> int:
        return sum(available for _, available in self.accounts)


@dataclass(frozen=True, slots=True)
class PlannedDraw:
    kind: str
    source_id: str
    account_id: str
    contributor: str
    contributor_region: str
    amount_fen: int


@dataclass(frozen=True, slots=True)
class Quote:
    request: SettleRequest
    institution: InstitutionRecord
    enrolment: EnrolmentRecord
    year: int
    business_date: str
    benefit_pool: str
    figures: SettlementFigures
    plan: PaymentPlan
    draws: tuple[PlannedDraw, ...]
    own_before_fen: int
    bill: tuple[BillLine, ...]

    @property
    def balc_fen(self) -> int:
        """The own personal account's available balance after this settlement."""
        return self.own_before_fen - sum(d.amount_fen for d in self.draws if d.kind == "own")


def quote(ctx: Context, uow: UnitOfWork, request: SettleRequest, *, lock: bool = False) -> Quote:
    institution = check_can_settle(ctx, uow, request.institution_code, request.med_type)
    enrolment = _insured(uow, request.psn_no)
    local_today = ctx.today()
    bill = _bill(ctx, uow, request)
    rule = benefit_rule(
        ctx,
        enrolment.region,
        local_today,
        enrolment.insutype,
        request.med_type,
        institution.level,
        Employment(enrolment.employment),
    )
    year_key = (request.psn_no, local_today.year, enrolment.insutype, rule.pool)
    used = (
        settlements_repo.lock_accumulator(uow.connection, *year_key, ctx.now_us())
        if lock
        else settlements_repo.read_accumulator(uow.connection, *year_key)
    )
    figures = compute_settlement(bill, rule, YearToDate(*used))
    own = _own_source(ctx, uow, enrolment, request, lock)
    shared = _shared_sources(ctx, uow, request, lock) if _mutual_aid_chosen(uow, request) else []
    order = tuple(
        PaymentStep(step.value) for step in ctx.policy(enrolment.region, local_today).payment_order
    )
    plan = plan_payment(
        figures.psn_part_amt,
        figures.account_payable_fen,
        own.available_fen if own else None,
        [SharedSource(SharedKind(s.kind), s.source_id, s.available_fen) for s in shared],
        order,
        use_mutual_aid=bool(shared),
    )
    draws = _draws(plan, own, shared)
    return Quote(
        request,
        institution,
        enrolment,
        local_today.year,
        local_today.isoformat(),
        rule.pool,
        figures,
        plan,
        tuple(draws),
        own.available_fen if own else 0,
        tuple(bill),
    )


def _mutual_aid_chosen(uow: UnitOfWork, request: SettleRequest) -> bool:
    if request.use_mutual_aid is not None:
        return request.use_mutual_aid
    return preferences.of(uow, request.psn_no).use_mutual_aid


def _insured(uow: UnitOfWork, psn_no: str) -> EnrolmentRecord:
    person = require_person(uow, psn_no)
    enrolment = governing_enrolment(uow, psn_no)
    if enrolment is None or person.death_date or enrolment.status == EnrolmentStatus.TERMINATED:
        raise NotInsuredForSettlement()
    if enrolment.status == EnrolmentStatus.SUSPENDED:
        raise SettlementSuspended()
    return enrolment


def _bill(ctx: Context, uow: UnitOfWork, request: SettleRequest) -> tuple[BillLine, ...]:
    items = load_items(ctx, uow, [line.item_code for line in request.lines])
    specs = [(items[line.item_code], line.quantity, line.unit_price_fen) for line in request.lines]
    lines, problems = build_bill_lines(specs)
    if problems:
        raise problems[0]
    return lines


def _own_source(
    ctx: Context, uow: UnitOfWork, enrolment: EnrolmentRecord, request: SettleRequest, lock: bool
) -> Source | None:
    if not request.acct_used_flag or enrolment.insutype != INSUTYPE_EMPLOYEE:
        return None
    parts = parts_available(ctx, uow, enrolment.region, request.psn_no, lock=lock)
    current = (chart.personal_current(enrolment.region, request.psn_no), parts.current_fen)
    earlier = (chart.personal_earlier(enrolment.region, request.psn_no), parts.earlier_fen)
    first_current = ctx.policy(enrolment.region).own_spending_current_year_first
    accounts = (current, earlier) if first_current else (earlier, current)
    return Source("own", request.psn_no, request.psn_no, enrolment.region, accounts)


def _shared_sources(
    ctx: Context, uow: UnitOfWork, request: SettleRequest, lock: bool
) -> list[Source]:
    wallet = aid_records.wallet(uow.connection, request.psn_no)
    if wallet is None or wallet.status == WalletStatus.CLOSED:
        return []
    sources = _grant_sources(ctx, uow, request.psn_no, lock) + _authorization_sources(
        ctx, uow, request.psn_no, lock
    )
    if wallet.status == WalletStatus.FROZEN and sources:
        raise WalletFrozen()
    return sources


def _grant_sources(ctx: Context, uow: UnitOfWork, psn_no: str, lock: bool) -> list[Source]:
    active = aid_records.grants_by(uow.connection, recipient=psn_no, states=["active"])
    quotas = ctx.ledger.accounts_in(uow, [chart.earmark(g.id) for g in active], lock=lock)
    sources = []
    for grant in active:
        quota = quotas.get(chart.earmark(grant.id))
        if (
            quota is not None
            and quota.credit_available > 0
            and sharing.grant_spendable(uow, grant.contributor)
        ):
            account = ((quota.id, quota.credit_available),)
            sources.append(
                Source("grant", grant.id, grant.contributor, grant.contributor_region, account)
            )
    return sources


def _authorization_sources(ctx: Context, uow: UnitOfWork, psn_no: str, lock: bool) -> list[Source]:
    sources = []
    for authorization in aid_records.authorizations_by(
        uow.connection, recipient=psn_no, status="active", lock=lock
    ):
        enrolment = governing_enrolment(uow, authorization.contributor)
        if enrolment is None or not sharing.authorization_drawable(uow, authorization.contributor):
            continue
        policy = ctx.policy(enrolment.region)
        parts = parts_available(ctx, uow, enrolment.region, authorization.contributor, lock=lock)
        accounts = [
            (chart.personal_earlier(enrolment.region, authorization.contributor), parts.earlier_fen)
        ]
        if not policy.mutual_aid_earlier_years_only:
            accounts.insert(
                0,
                (
                    chart.personal_current(enrolment.region, authorization.contributor),
                    parts.current_fen,
                ),
            )
        left = (
            None
            if authorization.quota_fen is None
            else authorization.quota_fen - authorization.used_fen
        )
        capped = _cap_accounts(accounts, left)
        if sum(a for _, a in capped) > 0:
            sources.append(
                Source(
                    "authorization",
                    authorization.id,
                    authorization.contributor,
                    enrolment.region,
                    tuple(capped),
                )
            )
    return sources


def _cap_accounts(accounts: list[tuple[str, int]], limit_fen: int | None) -> list[tuple[str, int]]:
    """What can be drawn from each account when the whole source may give at most ``limit_fen``."""
    if limit_fen is None:
        return accounts
    parts = allocate_in_order(max(limit_fen, 0), [max(a, 0) for _, a in accounts])
    return [(account, amount) for (account, _), amount in zip(accounts, parts, strict=False)]


def _draws(plan: PaymentPlan, own: Source | None, shared: list[Source]) -> list[PlannedDraw]:
    """Spread each source's planned amount over its accounts, in their order."""
    wanted: list[tuple[Source, int]] = []
    if own is not None and plan.own_acct_pay_fen > 0:
        wanted.append((own, plan.own_acct_pay_fen))
    by_id = {s.source_id: s for s in shared}
    wanted += [(by_id[d.source_id], d.amount_fen) for d in plan.draws if d.amount_fen > 0]
    draws = []
    for source, amount in wanted:
        parts = allocate_in_order(amount, [available for _, available in source.accounts])
        for (account_id, _), part in zip(source.accounts, parts, strict=False):
            if part > 0:
                draws.append(
                    PlannedDraw(
                        source.kind,
                        source.source_id,
                        account_id,
                        source.contributor,
                        source.contributor_region,
                        part,
                    )
                )
    return draws
