"""Settlement (结算) and its reversal (撤销), docs/rules.md §8.

A settlement is atomic and idempotent per institution request id: the same request returns the
settlement already made, a different body under the same id is refused. Money moves in the
ledger in one batch: the fund's share from the pooled-fund expense account, the personal burden
from the own account, grant quotas and authorizing relatives' accounts, all to what is payable
to the institution. Cash is paid at the counter and is not fund money.

A reversal is a second settlement with negated amounts; its ledger transfers run the other way,
shared money going back to the grant it came from (or to the contributor if that grant is
closed), and the accumulators are restored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from gongji.core.clock import from_us
from gongji.core.enrolment import INSUTYPE_EMPLOYEE
from gongji.core.errors import InvariantViolation
from gongji.kernel import chart, screening
from gongji.kernel.context import BUSINESS_TZ, Context
from gongji.kernel.errors import LedgerRefused, NotFound
from gongji.kernel.idgen import new_id
from gongji.kernel.screening import SharedMoneySpent
from gongji.ledger.types import CreateTransferResult, NewAccount, Transfer
from gongji.mutual_aid.service import records as aid_records
from gongji.mutual_aid.service.accounts import parts_available
from gongji.people.service import registry
from gongji.settlement.domain.bill import SettleRequest
from gongji.settlement.domain.compute import check_settlement
from gongji.settlement.domain.decision import PlannedDraw
from gongji.settlement.domain.settlement_errors import (
    SettlementAlreadyReversed,
    SettlementNotReversible,
    SettlementRequestReused,
)
from gongji.settlement.service import settlement_notices
from gongji.settlement.service.settlement_quote import Quote, first_reads, quote
from gongji.settlement.store import settlements_repo as rows
from gongji.settlement.store.settlements_repo import DrawRow, ItemRow, SettlementRow
from gongji.store.raw import Read
from gongji.store.records import PersonRecord
from gongji.store.uow import UnitOfWork

OK = CreateTransferResult.OK
_DRAW_CODES = {
    "own": chart.TransferCode.SETTLEMENT_OWN,
    "grant": chart.TransferCode.SETTLEMENT_GRANT,
    "authorization": chart.TransferCode.SETTLEMENT_AUTHORIZATION,
}


def request_hash(request: SettleRequest) -> str:
    return hashlib.sha256(request.fingerprint().encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Settled:
    """A settlement with its bill lines and draws: as just written, or as read back when the
    request was already settled. Answering from what was written spares a settlement the two
    reads its answer would otherwise make."""

    row: SettlementRow
    items: list[ItemRow]
    draws: list[DrawRow]


def settle(
    ctx: Context, uow: UnitOfWork, request: SettleRequest, patient: PersonRecord | None = None
) -> SettlementRow:
    """Settle ``request`` (once per institution request id): the settlement's row.
    ``patient``: the person the caller identified in this transaction, so that quoting does
    not read them again."""
    return settle_with_lines(ctx, uow, request, patient).row


@dataclass(frozen=True, slots=True)
class Resent:
    """The settlement already under the request's id, as the caller read it in this
    transaction (``row`` None: there is none), so that settling does not read it again."""

    row: SettlementRow | None


def settle_with_lines(
    ctx: Context,
    uow: UnitOfWork,
    request: SettleRequest,
    patient: PersonRecord | None = None,
    resent: Resent | None = None,
) -> Settled:
    """As :func:`settle`, with the settlement's bill lines and draws, for an answer that
    shows them. ``resent``: what the caller read under the request's id (a visit's lines to
    settle, which are those of a settlement already made under it)."""
    if patient is not None and patient.psn_no != request.psn_no:
        patient = None  # someone else's record: the patient is read as usual
    if uow.reads_ahead:  # PostgreSQL: the reads that need no earlier answer, in one round trip
        known = patient is not None
        resent_known = resent is not None
        uow.prefetch(
            settle_reads(ctx, request, patient_known=known, resent_known=resent_known, uow=uow)
        )
    fingerprint = request_hash(request)  # the resent request's check, and the new row's
    existing = _same_request(uow, request.institution_code, request.request_id, fingerprint, resent)
    if existing is not None:
        uow.prefetch([rows.items_read(existing.setl_id), rows.draws_read(existing.setl_id)])
        items = rows.items_of(uow.connection, existing.setl_id)
        return Settled(existing, items, rows.draws_of(uow.connection, existing.setl_id))
    planned = quote(ctx, uow, request, lock=True, patient=patient)
    check_settlement(planned.figures)
    at_us = planned.at_us  # the one instant of this settlement: its id, rows, events
    # The rows below answer nothing the settlement reads back: on PostgreSQL they go with the
    # ledger's first statement and the COMMIT instead of a round trip each.
    uow.defer_writes()
    setl_id = new_id("S", at_us)
    row = _settlement_row(setl_id, planned, fingerprint)
    items = item_rows(planned, setl_id)
    draws = [_draw_row(setl_id, n, d, planned) for n, d in enumerate(planned.draws)]
    rows.insert_settlement(uow.connection, row)
    rows.insert_items(uow.connection, items)
    rows.insert_draws(uow.connection, draws)
    after = planned.figures.year_to_date_after
    rows.set_accumulator(
        uow.connection,
        request.psn_no,
        planned.year,
        planned.enrolment.insutype,
        planned.benefit_pool,
        after.deductible_used_fen,
        after.fund_paid_fen,
        at_us,
    )
    _use_authorizations(uow, planned.draws, sign=1)
    registry.record_event(
        uow.connection,
        request.psn_no,
        "settled",
        f"institution:{request.institution_code}",
        at_us,
        setl_id=setl_id,
        medfee_sumamt=row.medfee_sumamt,
        acct_pay=row.acct_pay,
        acct_mulaid_pay=row.acct_mulaid_pay,
    )
    for draw in planned.draws:
        if draw.kind != "own":
            registry.record_event(
                uow.connection,
                draw.contributor,
                "shared_money_spent",
                f"institution:{request.institution_code}",
                at_us,
                setl_id=setl_id,
                source_id=draw.source_id,
                amount_fen=draw.amount_fen,
                recipient=request.psn_no,
            )
    settlement_notices.tell_contributors(ctx, uow, setl_id, planned)
    accounts, transfers = _money(setl_id, planned)
    if row.acct_mulaid_pay and ctx.screens:  # risk's write-time checks (docs/rules.md §12.4)
        spent = SharedMoneySpent(
            setl_id, request.psn_no, request.institution_code, row.acct_mulaid_pay, ctx.now_us()
        )
        # The screen's reads see the rows above; on PostgreSQL they go with the ledger's first
        # read (and the rows, deferred): one round trip, where the screen took one of its own.
        if uow.reads_ahead:
            ledger_reads = ctx.ledger.minted_transfers_reads(transfers)
            uow.prefetch([*ledger_reads, *screening.reads_ahead(ctx, spent)])
        screening.screen(ctx, uow, spent)
    _post(ctx, uow, setl_id, accounts, transfers)  # last: see _post
    return Settled(row, items, draws)


def settle_reads(
    ctx: Context,
    request: SettleRequest,
    *,
    patient_known: bool,
    resent_known: bool = False,
    uow: UnitOfWork | None = None,
) -> list[Read]:
    """What :func:`settle_with_lines` reads first, none needing another's answer: a settlement
    under the request id (unless the caller read it: ``resent_known``), then what quoting
    reads first with the person's lock (``settlement_quote.first_reads``). A caller may make
    them ahead with others."""
    quoting = first_reads(ctx, request, lock=True, patient_known=patient_known, uow=uow)
    if resent_known:
        return quoting
    return [rows.by_request_read(request.institution_code, request.request_id), *quoting]


def _same_request(
    uow: UnitOfWork,
    institution_code: str,
    request_id: str,
    fingerprint: str,
    resent: Resent | None = None,
) -> SettlementRow | None:
    """The settlement already under the request's id, if any (read, unless the caller has):
    the same request again, whose answer is given back, or another under a spent id, refused."""
    if resent is None:
        existing = rows.by_request(uow.connection, institution_code, request_id)
    else:
        existing = resent.row
    if existing is not None and existing.request_hash != fingerprint:
        raise SettlementRequestReused(request_id=request_id)
    return existing


def _money(setl_id: str, planned: Quote) -> tuple[list[NewAccount], list[Transfer]]:
    """The settlement's money as one ledger batch: the accounts it may open (the institution's,
    the fund's) and its transfers, whose ids are minted from the settlement's."""
    institution, enrolment = planned.institution, planned.enrolment
    payable = chart.institution_payable(institution.code)
    accounts: list[NewAccount] = [
        chart.institution_payable_account(institution.code, institution.region)
    ]
    transfers: list[Transfer] = []
    fund = planned.figures.fund_pay_sumamt
    if fund > 0:
        accounts.append(chart.fund_expense_account(enrolment.region, enrolment.insutype))
        transfers.append(
            Transfer(
                f"{setl_id}:fund",
                chart.fund_expense(enrolment.region, enrolment.insutype),
                payable,
                fund,
                chart.LEDGER_CNY,
                chart.TransferCode.SETTLEMENT_FUND,
                ref=setl_id,
            )
        )
    transfers += [
        Transfer(
            f"{setl_id}:{n}",
            draw.account_id,
            payable,
            draw.amount_fen,
            chart.LEDGER_CNY,
            _DRAW_CODES[draw.kind],
            ref=setl_id,
        )
        for n, draw in enumerate(planned.draws)
    ]
    return accounts, transfers


def _post(
    ctx: Context,
    uow: UnitOfWork,
    setl_id: str,
    accounts: list[NewAccount],
    transfers: list[Transfer],
) -> None:
    """The settlement's money (:func:`_money`), in one ledger batch: the transaction's last
    statements.

    Every settlement of an institution (and of an insured region's fund) credits (debits) the
    same account, so on PostgreSQL its row lock is what concurrent settlements queue for; taken
    last, it is held only until the commit. (The person's own accounts and quotas were locked
    while quoting, so the amounts cannot change in between.)
    """
    ctx.ledger.ensure_accounts_in(uow, accounts)
    results = ctx.ledger.create_minted_transfers_in(uow, transfers)  # ids minted above
    if any(result is not OK for result in results):
        raise LedgerRefused(f"settlement {setl_id}", results)


def quoted_amounts(planned: Quote) -> dict[str, int]:
    """A quote's amounts in fen under the national names: what settling it would record."""
    figures, plan = planned.figures, planned.plan
    return {
        "medfee_sumamt": figures.medfee_sumamt,
        "fulamt_ownpay_amt": figures.fulamt_ownpay_amt,
        "overlmt_selfpay": figures.overlmt_selfpay,
        "preselfpay_amt": figures.preselfpay_amt,
        "inscp_scp_amt": figures.inscp_scp_amt,
        "act_pay_dedc": figures.act_pay_dedc,
        "hifp_pay": figures.hifp_pay,
        "fund_pay_sumamt": figures.fund_pay_sumamt,
        "hosp_part_amt": figures.hosp_part_amt,
        "psn_part_amt": figures.psn_part_amt,
        "acct_pay": plan.acct_pay,
        "acct_mulaid_pay": plan.acct_mulaid_pay,
        "psn_cash_pay": plan.psn_cash_pay,
        "balc": planned.balc_fen,
    }


def _settlement_row(setl_id: str, planned: Quote, fingerprint: str) -> SettlementRow:
    request = planned.request
    amounts = quoted_amounts(planned)
    return SettlementRow(
        setl_id=setl_id,
        institution_code=request.institution_code,
        request_id=request.request_id,
        request_hash=fingerprint,
        kind="settlement",
        reverses=None,
        psn_no=request.psn_no,
        insutype=planned.enrolment.insutype,
        insured_region=planned.enrolment.region,
        treatment_region=planned.institution.region,
        med_type=request.med_type,
        benefit_pool=planned.benefit_pool,
        business_date=planned.business_date,
        year=planned.year,
        created_at_us=planned.at_us,
        **amounts,
    )


def item_rows(planned: Quote, setl_id: str = "") -> list[ItemRow]:
    """The planned bill lines as stored; a quote's lines carry no settlement id yet."""
    return [
        ItemRow(
            setl_id,
            n,
            item.figures.item_code,
            str(line.quantity),
            line.unit_price_fen,
            item.figures.det_item_fee_sumamt,
            item.figures.fulamt_ownpay_amt,
            item.figures.overlmt_amt,
            item.figures.preselfpay_amt,
            item.figures.inscp_scp_amt,
            item.account_payable_fen,
        )
        for n, (line, item) in enumerate(zip(planned.bill, planned.figures.items, strict=True))
    ]


def _draw_row(setl_id: str, seq: int, draw: PlannedDraw, planned: Quote) -> DrawRow:
    return DrawRow(
        setl_id,
        seq,
        draw.kind,
        draw.source_id,
        draw.account_id,
        draw.contributor,
        draw.contributor_region,
        draw.amount_fen,
        planned.business_date,
        planned.institution.region,
    )


def _use_authorizations(
    uow: UnitOfWork, draws: tuple[PlannedDraw, ...] | list[DrawRow], sign: int
) -> None:
    used: dict[str, int] = {}
    for draw in draws:
        if draw.kind == "authorization":
            used[draw.source_id] = used.get(draw.source_id, 0) + draw.amount_fen
    for authorization_id, amount in sorted(used.items()):
        found = aid_records.authorization(uow.connection, authorization_id, lock=True)
        if found is None:
            raise InvariantViolation(
                f"settlement drew from unknown authorization {authorization_id}"
            )
        aid_records.update_authorization(
            uow.connection, authorization_id, used_fen=found.used_fen + sign * amount
        )


def reverse(
    ctx: Context, uow: UnitOfWork, institution_code: str, setl_id: str, request_id: str
) -> SettlementRow:
    """Undo a settlement of this institution with a compensating one. Idempotent per request id."""
    fingerprint = hashlib.sha256(f"reverse|{setl_id}".encode()).hexdigest()
    existing = _same_request(uow, institution_code, request_id, fingerprint)
    if existing is not None:
        return existing
    original = rows.settlement(uow.connection, setl_id)
    if original is None or original.institution_code != institution_code:
        raise NotFound(what="结算记录")
    if original.kind != "settlement":
        raise SettlementNotReversible()
    if rows.reversal_of(uow.connection, setl_id) is not None:
        raise SettlementAlreadyReversed()
    at_us = ctx.now_us()  # the one instant of this reversal
    year_key = (original.psn_no, original.year, original.insutype, original.benefit_pool)
    used = rows.lock_accumulator(uow.connection, *year_key, at_us)
    uow.defer_writes()  # as in settle: the writes below travel with the next read
    reversal_id = new_id("S", at_us)
    draws = rows.draws_of(uow.connection, setl_id)
    _post_reversal(ctx, uow, reversal_id, original, draws)  # before balc is read
    row = _reversal_row(
        at_us, reversal_id, request_id, fingerprint, original, _balance(ctx, uow, original)
    )
    rows.insert_settlement(uow.connection, row)
    rows.set_accumulator(
        uow.connection,
        *year_key,
        used[0] - original.act_pay_dedc,
        used[1] - original.fund_pay_sumamt,
        at_us,
    )
    _use_authorizations(uow, draws, sign=-1)
    registry.record_event(
        uow.connection,
        original.psn_no,
        "settlement_reversed",
        f"institution:{institution_code}",
        at_us,
        setl_id=setl_id,
        reversal_id=reversal_id,
    )
    return row


def _post_reversal(
    ctx: Context, uow: UnitOfWork, reversal_id: str, original: SettlementRow, draws: list[DrawRow]
) -> None:
    payable = chart.institution_payable(original.institution_code)
    transfers = []
    if original.fund_pay_sumamt > 0:
        transfers.append(
            Transfer(
                f"{reversal_id}:fund",
                payable,
                chart.fund_expense(original.insured_region, original.insutype),
                original.fund_pay_sumamt,
                chart.LEDGER_CNY,
                chart.TransferCode.REVERSAL,
                ref=original.setl_id,
            )
        )
    for draw in draws:
        target = _reversal_target(uow, draw)
        transfers.append(
            Transfer(
                f"{reversal_id}:{draw.seq}",
                payable,
                target,
                draw.amount_fen,
                chart.LEDGER_CNY,
                chart.TransferCode.REVERSAL,
                ref=original.setl_id,
            )
        )
    results = ctx.ledger.create_transfers_in(uow, transfers)
    if any(result is not OK for result in results):
        raise LedgerRefused(f"reversal {reversal_id}", results)


def _reversal_target(uow: UnitOfWork, draw: DrawRow) -> str:
    """Shared money goes back to its grant while the grant is active, else to the contributor."""
    if draw.kind != "grant":
        return draw.account_id
    grant = aid_records.grant(uow.connection, draw.source_id)
    if grant is not None and grant.state == "active":
        return draw.account_id
    return chart.personal_current(draw.contributor_region, draw.contributor)


def _balance(ctx: Context, uow: UnitOfWork, original: SettlementRow) -> int:
    """The own account's available balance now (``balc`` of the reversal)."""
    if original.insutype != INSUTYPE_EMPLOYEE:
        return 0
    parts = parts_available(ctx, uow, original.insured_region, original.psn_no)
    return parts.current_fen + parts.earlier_fen


def _reversal_row(
    at_us: int,
    reversal_id: str,
    request_id: str,
    fingerprint: str,
    original: SettlementRow,
    balc_fen: int,
) -> SettlementRow:
    negated = {name: -value for name, value in original.amounts().items()}
    negated["balc"] = balc_fen
    local_today = from_us(at_us).astimezone(BUSINESS_TZ).date()
    return SettlementRow(
        setl_id=reversal_id,
        institution_code=original.institution_code,
        request_id=request_id,
        request_hash=fingerprint,
        kind="reversal",
        reverses=original.setl_id,
        psn_no=original.psn_no,
        insutype=original.insutype,
        insured_region=original.insured_region,
        treatment_region=original.treatment_region,
        med_type=original.med_type,
        benefit_pool=original.benefit_pool,
        business_date=local_today.isoformat(),
        year=original.year,
        created_at_us=at_us,
        **negated,
    )
