"""How a grant's money moves in the ledger: reserve on offer, post on accept, void on reject or
relationship end, and move back what a quota still holds.

Transfer ids are derived from the grant id (``G…:offer:cur``), so every movement is idempotent
and a grant's whole story can be read back from the ledger by its id.
"""

from __future__ import annotations

from gongji.core.clock import from_us
from gongji.core.errors import InvariantViolation
from gongji.kernel import chart
from gongji.kernel.context import BUSINESS_TZ, Context
from gongji.kernel.errors import LedgerRefused
from gongji.ledger.types import (
    AMOUNT_MAX,
    CreateAccountResult,
    CreateTransferResult,
    Transfer,
    TransferFlags,
)
from gongji.store.raw import DriverRead
from gongji.store.records import GrantRecord
from gongji.store.uow import UnitOfWork

OK = CreateTransferResult.OK
_PARTS = ("cur", "old")


def _parts(grant: GrantRecord) -> list[tuple[str, int]]:
    amounts = (grant.from_current_fen, grant.from_earlier_fen)
    return [(part, amount) for part, amount in zip(_PARTS, amounts, strict=True) if amount > 0]


def personal_part(grant: GrantRecord, part: str) -> str:
    if part == "cur":
        return chart.personal_current(grant.contributor_region, grant.contributor)
    return chart.personal_earlier(grant.contributor_region, grant.contributor)


def _linked(index: int, count: int) -> TransferFlags:
    return TransferFlags.LINKED if index < count - 1 else TransferFlags.NONE


def open_quota(ctx: Context, uow: UnitOfWork, grant: GrantRecord) -> None:
    """The new grant's quota account (its id is the grant's, minted in this transaction)."""
    quota = chart.earmark_account(grant.id, grant.contributor_region)
    if ctx.ledger.create_minted_accounts_in(uow, [quota]) != [CreateAccountResult.OK]:
        raise InvariantViolation(f"the quota account of {grant.id} could not be opened")


def reserve(ctx: Context, uow: UnitOfWork, grant: GrantRecord, *, held: bool = False) -> None:
    """Pending transfers from the account parts into the grant's quota (:func:`open_quota`),
    expiring at the deadline.

    A held grant's reservation has no timeout: it waits for the risk officer, and after a
    release the 06:00 return voids it at the new deadline (``void_offer``) since the ledger
    cannot move a pending transfer's timeout."""
    transfers = _reservation(grant, held)
    _require_ok(ctx.ledger.create_minted_transfers_in(uow, transfers), f"the offer of {grant.id}")


def reserve_reads(ctx: Context, grant: GrantRecord) -> list[DriverRead]:
    """What :func:`reserve` reads first (the accounts' balances, locked), to make ahead."""
    return ctx.ledger.minted_transfers_reads(_reservation(grant, held=False))


def _reservation(grant: GrantRecord, held: bool) -> list[Transfer]:
    """The offer's pending transfers, one per account part, linked; their ids are the grant's."""
    parts = _parts(grant)
    return [
        Transfer(
            f"{grant.id}:offer:{part}",
            personal_part(grant, part),
            chart.earmark(grant.id),
            amount,
            chart.LEDGER_CNY,
            chart.TransferCode.GRANT_OFFER,
            TransferFlags.PENDING | _linked(index, len(parts)),
            expires_at_us=None if held else grant.expires_at_us,
            ref=grant.id,
        )
        for index, (part, amount) in enumerate(parts)
    ]


def resolve_offer(
    ctx: Context, uow: UnitOfWork, grant: GrantRecord, *, post: bool
) -> list[CreateTransferResult]:
    """Post (accept) or void (reject, relationship ended) the offer's pending transfers."""
    return ctx.ledger.create_transfers_in(uow, _resolution(grant, post))


def resolve_reads(ctx: Context, grant: GrantRecord, *, post: bool) -> list[DriverRead]:
    """What :func:`resolve_offer` reads first (unlocked), to make ahead (``uow.prefetch``)."""
    return ctx.ledger.resolving_reads(_resolution(grant, post))


def _resolution(grant: GrantRecord, post: bool) -> list[Transfer]:
    verb, flag = (
        ("post", TransferFlags.POST_PENDING) if post else ("void", TransferFlags.VOID_PENDING)
    )
    parts = _parts(grant)
    return [
        Transfer(
            f"{grant.id}:{verb}:{part}",
            "",
            "",
            AMOUNT_MAX if post else 0,  # the whole reservation: posted, or released
            0,
            0,
            flag | _linked(index, len(parts)),
            pending_id=f"{grant.id}:offer:{part}",
            ref=grant.id,
        )
        for index, (part, _) in enumerate(parts)
    ]


def void_offer(ctx: Context, uow: UnitOfWork, grant: GrantRecord) -> None:
    """Release an offer's reservation, whether by void or, past its deadline, by expiry."""
    results = resolve_offer(ctx, uow, grant, post=False)
    if CreateTransferResult.PENDING_TRANSFER_EXPIRED in results:
        ctx.ledger.expire_pending_in(uow)
        return
    _require_ok(results, f"the void of {grant.id}")


def void_at_deadline(ctx: Context, uow: UnitOfWork, grant: GrantRecord) -> None:
    """At the 06:00 return, after the ledger expired what timed out: void the reservation of an
    offer whose pending transfers carry no timeout (a released held grant); for any other
    offer the void finds them expired already and changes nothing."""
    results = resolve_offer(ctx, uow, grant, post=False)
    voided = all(result is OK for result in results)
    expired = CreateTransferResult.PENDING_TRANSFER_EXPIRED in results and all(
        result in _EXPIRED_CHAIN for result in results
    )  # the first part's expiry fails the linked rest
    if not (voided or expired):
        raise LedgerRefused(f"the void at the deadline of {grant.id}", results)


_EXPIRED_CHAIN = (
    CreateTransferResult.PENDING_TRANSFER_EXPIRED,
    CreateTransferResult.LINKED_EVENT_FAILED,
)


def return_left(ctx: Context, uow: UnitOfWork, grant: GrantRecord) -> int:
    """Move what the quota still holds back to the contributor; returns the amount.

    Within the year of the offer, earlier years' money goes back to earlier years; after a
    year-end rollover, everything goes to earlier years, where this year's money now is too.

    The ledger decides the amounts, not a balance read first: a linked chain of balancing
    transfers, earlier years' part capped at what the grant took from it, then the rest without
    a cap (money a pending transfer reserves counted as spent). The amount returned is what the
    recorded transfers moved.
    """
    quota_id = chart.earmark(grant.id)
    same_year = from_us(grant.offered_at_us).astimezone(BUSINESS_TZ).year == ctx.today().year
    caps = (
        (("old", grant.from_earlier_fen), ("cur", AMOUNT_MAX))
        if same_year
        else (("old", AMOUNT_MAX),)
    )
    parts = [(part, cap) for part, cap in caps if cap > 0]
    transfers = [
        Transfer(
            f"{grant.id}:return:{part}",
            quota_id,
            personal_part(grant, part),
            cap,
            chart.LEDGER_CNY,
            chart.TransferCode.GRANT_RETURN,
            TransferFlags.BALANCING_DEBIT | _linked(index, len(parts)),
            ref=grant.id,
        )
        for index, (part, cap) in enumerate(parts)
    ]
    outcomes = ctx.ledger.create_transfers_recorded_in(uow, transfers)
    _require_ok([outcome.result for outcome in outcomes], f"the return of {grant.id}")
    return sum(outcome.moved for outcome in outcomes)


def _require_ok(results: list[CreateTransferResult], what: str) -> None:
    if any(result is not OK for result in results):
        raise LedgerRefused(what, results)
