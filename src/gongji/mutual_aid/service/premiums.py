"""Premiums paid for relatives (代缴, docs/rules.md §9): pay a resident-insurance or long-term-care
contribution for a year, from the payer's own personal account or from the grants made to them.

The money goes, through the ledger, to the premium income of the insured person's region (one
account per region and kind); the ``premium_payments`` row marks that person's year paid. Its
key (person, year, kind) makes a second payment impossible even when two payers race: the
loser's insert fails, its transaction is retried whole (gongji.store.uow) and then sees the
payment and is refused. Ledger ids derive from that key too (``pm:ri:2026:P…:0``).

Checks, the same as for grants: the payer is a person acting for themselves; paying for someone
else needs an active, verified relationship; from the own account the payer must be a
contributor (employee with a personal account, wallet open and not frozen) and may use what
mutual aid may use (earlier years only where the policy says so); from grants the payer's wallet
must be open and not frozen, and the quotas are drawn oldest grant first, as at a settlement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from gongji.core.enrolment import EnrolmentStatus
from gongji.core.money import allocate_in_order, format_yuan
from gongji.kernel import chart
from gongji.kernel.context import Actor, ActorKind, Context
from gongji.kernel.errors import Forbidden, LedgerRefused, NotFound
from gongji.ledger.types import CreateTransferResult, Transfer
from gongji.mutual_aid.domain import grant_errors
from gongji.mutual_aid.domain.grants import check_contributor, check_relationship, split_sources
from gongji.mutual_aid.domain.premiums import (
    PremiumAlreadyPaid,
    PremiumInsuredNotActive,
    PremiumKind,
    PremiumOwnAccountForSelf,
    PremiumQuotaInsufficient,
    PremiumSource,
    check_insured,
    check_year,
    premium_amount_fen,
)
from gongji.mutual_aid.domain.sharing import check_spender
from gongji.mutual_aid.service import notices
from gongji.mutual_aid.service.accounts import parts_available
from gongji.mutual_aid.service.grants import party_facts
from gongji.mutual_aid.service.shared_money import grant_sources
from gongji.mutual_aid.store import mutual_aid_repo as aid_repo
from gongji.mutual_aid.store import premiums_repo
from gongji.mutual_aid.store.premiums_repo import PremiumDrawRow, PremiumRow
from gongji.people.service import registry
from gongji.people.service.persons import governing_enrolment, require_person
from gongji.store.records import EnrolmentRecord
from gongji.store.uow import UnitOfWork

OK = CreateTransferResult.OK
PAYER = "缴费人"


@dataclass(frozen=True, slots=True)
class PremiumOrder:
    psn_no: str  # the insured person the premium is for
    year: int
    kind: PremiumKind
    source: PremiumSource


@dataclass(frozen=True, slots=True)
class PremiumDraw:
    """One ledger debit of a payment: the own account's part, or one grant's quota."""

    kind: str  # own | grant
    source_id: str  # the payer's psn_no, or the grant id
    account_id: str
    contributor: str
    contributor_region: str
    amount_fen: int


@dataclass(frozen=True, slots=True)
class PremiumPaid:
    row: PremiumRow
    draws: tuple[PremiumDraw, ...]


def ledger_ref(psn_no: str, year: int, kind: PremiumKind) -> str:
    return f"pm:{kind.short}:{year}:{psn_no}"


def pay(ctx: Context, uow: UnitOfWork, actor: Actor, order: PremiumOrder) -> PremiumPaid:
    """Pay ``order`` for the acting person, or refuse it with nothing written."""
    if actor.kind is not ActorKind.PERSON:
        raise Forbidden()
    payer = actor.id
    check_year(order.year, ctx.today())
    aid_repo.lock_wallets(uow.connection, [payer, order.psn_no])
    insured = _insured(uow, order)
    _check_payer_for(uow, payer, order)
    if premiums_repo.premium_payment(uow.connection, order.psn_no, order.year, order.kind):
        raise PremiumAlreadyPaid(
            year=order.year, kind=order.kind.label_zh, kind_en=order.kind.value
        )
    amount_fen = premium_amount_fen(ctx.policy(insured.region, date(order.year, 1, 1)), order.kind)
    if order.source is PremiumSource.OWN_ACCOUNT:
        draws = _own_draws(ctx, uow, payer, amount_fen)
    else:
        draws = _grant_draws(ctx, uow, payer, amount_fen)
    ref = ledger_ref(order.psn_no, order.year, order.kind)
    _post(ctx, uow, ref, insured.region, order.kind, draws)
    row = PremiumRow(
        psn_no=order.psn_no,
        year=order.year,
        kind=order.kind.value,
        payer=payer,
        source=order.source.value,
        region=insured.region,
        amount_fen=amount_fen,
        paid_at_us=ctx.now_us(),
    )
    business_date = ctx.today().isoformat()
    premiums_repo.insert_premium_payment(
        uow.connection,
        row,
        [
            PremiumDrawRow(
                d.kind,
                d.source_id,
                d.contributor,
                d.contributor_region,
                insured.region,
                d.amount_fen,
                business_date,
            )
            for d in draws
        ],
    )
    _events(ctx, uow, row, draws)
    return PremiumPaid(row, tuple(draws))


def premiums_of(uow: UnitOfWork, psn_no: str) -> list[PremiumRow]:
    """What the person paid, and what was paid for them, latest year first."""
    return premiums_repo.premiums_involving(uow.connection, psn_no)


def receipt(uow: UnitOfWork, reader: str, psn_no: str, year: int, kind: PremiumKind) -> PremiumRow:
    """One payment, for its payer or the insured person only; anyone else is told it does not
    exist (``not_found``), as for every object of someone else."""
    row = premiums_repo.premium_payment(uow.connection, psn_no, year, kind.value)
    if row is None or reader not in (row.payer, row.psn_no):
        raise NotFound(what="缴费记录")
    return row


def _insured(uow: UnitOfWork, order: PremiumOrder) -> EnrolmentRecord:
    person = require_person(uow, order.psn_no)
    enrolment = governing_enrolment(uow, order.psn_no)
    if enrolment is None or person.death_date or enrolment.status == EnrolmentStatus.TERMINATED:
        raise PremiumInsuredNotActive()
    check_insured(order.kind, enrolment.insutype)
    return enrolment


def _check_payer_for(uow: UnitOfWork, payer: str, order: PremiumOrder) -> None:
    """For oneself only from grants (docs/rules.md §7); for anyone else, a verified relative."""
    if payer == order.psn_no:
        if order.source is PremiumSource.OWN_ACCOUNT:
            raise PremiumOwnAccountForSelf()
        return
    relationship = aid_repo.relationship_between(
        uow.connection, payer, order.psn_no, ["active", "pending_review"]
    )
    check_relationship(
        relationship is not None, relationship is not None and relationship.status == "active"
    )


def _own_draws(ctx: Context, uow: UnitOfWork, payer: str, amount_fen: int) -> list[PremiumDraw]:
    check_contributor(party_facts(uow, payer))
    enrolment = governing_enrolment(uow, payer)
    if enrolment is None:  # check_contributor refused that already
        raise grant_errors.EnrolmentNotActive(role=PAYER)
    policy = ctx.policy(enrolment.region)
    parts = parts_available(ctx, uow, enrolment.region, payer, lock=True)
    available = parts.for_mutual_aid(policy)
    if available < amount_fen:
        raise grant_errors.InsufficientBalance(available=format_yuan(available))
    current, earlier = split_sources(amount_fen, parts.current_fen, parts.earlier_fen, policy)
    accounts = (
        (chart.personal_current(enrolment.region, payer), current),
        (chart.personal_earlier(enrolment.region, payer), earlier),
    )
    return [
        PremiumDraw("own", payer, account_id, payer, enrolment.region, amount)
        for account_id, amount in accounts
        if amount > 0
    ]


def _grant_draws(ctx: Context, uow: UnitOfWork, payer: str, amount_fen: int) -> list[PremiumDraw]:
    party = party_facts(uow, payer)
    check_spender(party.enrolment_status, party.wallet_status, PAYER)
    sources = grant_sources(ctx, uow, payer, lock=True)
    available = sum(source.available_fen for source in sources)
    if available < amount_fen:
        raise PremiumQuotaInsufficient(
            available=format_yuan(available), amount=format_yuan(amount_fen)
        )
    parts = allocate_in_order(amount_fen, [source.available_fen for source in sources])
    return [
        PremiumDraw(
            "grant",
            source.source_id,
            source.accounts[0][0],
            source.contributor,
            source.contributor_region,
            part,
        )
        for source, part in zip(sources, parts, strict=False)
        if part > 0
    ]


def _post(
    ctx: Context,
    uow: UnitOfWork,
    ref: str,
    region: str,
    kind: PremiumKind,
    draws: list[PremiumDraw],
) -> None:
    ctx.ledger.create_accounts_in(uow, [chart.premium_income_account(region, kind.short)])
    income = chart.premium_income(region, kind.short)
    transfers = [
        Transfer(
            f"{ref}:{n}",
            draw.account_id,
            income,
            draw.amount_fen,
            chart.LEDGER_CNY,
            chart.TransferCode.PREMIUM,
            ref=ref,
        )
        for n, draw in enumerate(draws)
    ]
    results = ctx.ledger.create_transfers_in(uow, transfers)
    if any(result is not OK for result in results):
        raise LedgerRefused(f"premium {ref}", results)


def _events(ctx: Context, uow: UnitOfWork, row: PremiumRow, draws: list[PremiumDraw]) -> None:
    actor, now_us = f"person:{row.payer}", ctx.now_us()
    detail = {"insured": row.psn_no, "year": row.year, "premium": row.kind, "source": row.source}
    registry.record_event(
        uow.connection,
        row.payer,
        "premium_paid",
        actor,
        now_us,
        amount_fen=row.amount_fen,
        **detail,
    )
    notices.premium_paid(ctx, uow, row.psn_no, row.payer, row.year, row.kind, row.amount_fen)
    if row.psn_no != row.payer:
        registry.record_event(
            uow.connection, row.psn_no, "premium_paid_for_me", actor, now_us,
            payer=row.payer, amount_fen=row.amount_fen, **detail,
        )  # fmt: skip
    for draw in draws:
        if draw.kind == "grant":
            registry.record_event(
                uow.connection, draw.contributor, "shared_money_spent", actor, now_us,
                source_id=draw.source_id, amount_fen=draw.amount_fen, recipient=row.payer,
                purpose="premium", **detail,
            )  # fmt: skip
