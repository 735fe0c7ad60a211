"""Applying a batch of transfers to an in-memory view of the accounts it touches.

Pure: the caller loads (and locks) the accounts, the transfers and remembered refusals whose ids
appear in the batch and the resolutions of the pending transfers it names, then writes back what
this module decides.
Each event is validated completely before it changes anything, and a linked chain that fails is
undone through a journal, so a refused transfer or chain leaves no trace.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from gongji.ledger.types import (
    AMOUNT_MAX,
    BALANCE_MAX,
    BALANCING_FLAGS,
    ID_LENGTH_MAX,
    SUCCESS_RESULTS,
    TRANSIENT_RESULTS,
    TWO_PHASE_FLAGS,
    AccountFlags,
    CreateTransferResult,
    PendingOutcome,
    Transfer,
    TransferFlags,
)

R = CreateTransferResult
_KNOWN_TRANSFER_FLAGS = int(TransferFlags.LINKED | TWO_PHASE_FLAGS | BALANCING_FLAGS)
# Plain ints, tested against int(flags): an operator on an IntFlag builds a new member through
# Enum.__call__ (about 2 µs), a third of a 1000-transfer batch's time here if done per test.
_LINKED = int(TransferFlags.LINKED)
_PENDING = int(TransferFlags.PENDING)
_POST_PENDING = int(TransferFlags.POST_PENDING)
_VOID_PENDING = int(TransferFlags.VOID_PENDING)
_RESOLVING = _POST_PENDING | _VOID_PENDING
_BALANCING_DEBIT = int(TransferFlags.BALANCING_DEBIT)
_BALANCING_CREDIT = int(TransferFlags.BALANCING_CREDIT)
_BALANCING = _BALANCING_DEBIT | _BALANCING_CREDIT
_EXCLUSIVE_WITH_RESOLVING = int(TWO_PHASE_FLAGS) | _BALANCING
_CLOSED = int(AccountFlags.CLOSED)
_DEBITS_BOUNDED = int(AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS)
_CREDITS_BOUNDED = int(AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS)


@dataclass(slots=True)
class Balances:
    """Mutable balances of one account while a batch is applied. ``flags`` are
    :class:`AccountFlags` as a plain int (tested bit by bit, see ``_CLOSED``). ``num`` is the
    account's row number in the database, which the transfers written for it store; deciding
    ignores it."""

    ledger: int
    flags: int
    debits_pending: int
    debits_posted: int
    credits_pending: int
    credits_posted: int
    num: int = 0

    def snapshot(self) -> tuple[int, int, int, int]:
        return (self.debits_pending, self.debits_posted, self.credits_pending, self.credits_posted)

    def restore(self, saved: tuple[int, int, int, int]) -> None:
        (self.debits_pending, self.debits_posted, self.credits_pending, self.credits_posted) = saved


@dataclass(slots=True)
class Resolution:
    pending_id: str
    outcome: PendingOutcome
    transfer_id: str | None


@dataclass(slots=True)
class BatchState:
    """What a batch may read and change. ``transfers`` holds known transfers by id, ``failed``
    the ids refused before with a transient result (:data:`TRANSIENT_RESULTS`), which a batch
    adds to as it refuses more (``new_failures``): a chain that fails undoes its transfers but
    not the failure that broke it.

    New transfers are kept as their events came (``timestamp_us`` as the client left it): they
    are all recorded at ``now_us``, which the writer stamps. Copying each event to stamp it was
    a tenth of the time a large batch spent here."""

    now_us: int
    accounts: dict[str, Balances]
    transfers: dict[str, Transfer]
    resolutions: dict[str, PendingOutcome]
    new_transfers: list[Transfer] = field(default_factory=list)
    new_resolutions: list[Resolution] = field(default_factory=list)
    failed: dict[str, CreateTransferResult] = field(default_factory=dict)
    new_failures: list[tuple[str, CreateTransferResult]] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)
    journaling: bool = True  # off while a lone event is applied: it fails before it changes
    _journal: list[tuple[str, tuple[int, int, int, int]]] = field(default_factory=list)

    def mark(self) -> tuple[int, int, int]:
        return (len(self._journal), len(self.new_transfers), len(self.new_resolutions))

    def rollback(self, mark: tuple[int, int, int]) -> None:
        journal_at, transfers_at, resolutions_at = mark
        for account_id, saved in reversed(self._journal[journal_at:]):
            self.accounts[account_id].restore(saved)
        del self._journal[journal_at:]
        for transfer in self.new_transfers[transfers_at:]:
            del self.transfers[transfer.id]
        del self.new_transfers[transfers_at:]
        for resolution in self.new_resolutions[resolutions_at:]:
            del self.resolutions[resolution.pending_id]
        del self.new_resolutions[resolutions_at:]

    def change(self, account_id: str) -> Balances:
        balances = self.accounts[account_id]
        if self.journaling:
            self._journal.append((account_id, balances.snapshot()))
        self.touched.add(account_id)
        return balances

    def record(self, transfer: Transfer, resolution: Resolution | None = None) -> None:
        self.transfers[transfer.id] = transfer
        self.new_transfers.append(transfer)
        if resolution is not None:
            self.resolutions[resolution.pending_id] = resolution.outcome
            self.new_resolutions.append(resolution)

    def refused(self, event_id: str, result: CreateTransferResult) -> None:
        """Remember an id refused for a reason that might not hold later (a retry must not
        succeed where the first attempt failed)."""
        if result in TRANSIENT_RESULTS and event_id not in self.failed:
            self.failed[event_id] = result
            self.new_failures.append((event_id, result))


def apply_batch(state: BatchState, events: Sequence[Transfer]) -> list[CreateTransferResult]:
    """One result per event, in order; successful events are applied to ``state``."""
    results: list[CreateTransferResult] = []
    start = 0
    while start < len(events):
        if not int(events[start].flags) & _LINKED:
            results.append(_apply_lone(state, events[start]))
            start += 1
            continue
        end = start
        while end < len(events) - 1 and int(events[end].flags) & _LINKED:
            end += 1
        results.extend(_apply_chain(state, events[start : end + 1]))
        start = end + 1
    return results


def _apply_lone(state: BatchState, event: Transfer) -> CreateTransferResult:
    """An event outside any chain is refused before it changes anything, so it needs no
    journal (a journal per event would be a third of a batch's bookkeeping)."""
    state.journaling = False
    try:
        result = apply_one(state, event)
    finally:
        state.journaling = True
    if result is not R.OK and result is not R.EXISTS:
        state.refused(event.id, result)
    return result


def _apply_chain(state: BatchState, chain: Sequence[Transfer]) -> list[CreateTransferResult]:
    """Linked events: all succeed, or the journal undoes those that did."""
    chain_open = bool(int(chain[-1].flags) & _LINKED)
    mark = state.mark()
    codes: list[CreateTransferResult] = []
    for event in chain:
        codes.append(apply_one(state, event))
        if codes[-1] not in SUCCESS_RESULTS:
            break
    if not chain_open and codes[-1] in SUCCESS_RESULTS:
        return codes
    state.rollback(mark)
    state.refused(chain[len(codes) - 1].id, codes[-1])
    results = [R.LINKED_EVENT_FAILED] * len(chain)
    results[len(codes) - 1] = codes[-1]
    if chain_open:
        # As TigerBeetle: the batch's last event, still LINKED, reports the open chain whatever
        # became of the events before it (the first failure keeps its own code).
        results[-1] = R.LINKED_EVENT_CHAIN_OPEN
    return results


def apply_one(state: BatchState, event: Transfer) -> CreateTransferResult:
    """Validate one event against ``state`` and apply it when it is acceptable.

    The precedence is TigerBeetle's: the flags and the id first, then what the id is known as
    (a recorded transfer, compared field by field; or an id refused before), and only then the
    event's other fields. So a retry is recognised as one even when a field was changed into
    something malformed, and a remembered refusal answers the same however the retry looks.
    """
    refusal = _validate_id(event)
    if refusal is not None:
        return refusal
    existing = state.transfers.get(event.id)
    if existing is not None:
        return _compare_existing(state, event, existing)
    if event.id in state.failed:
        return R.ID_ALREADY_FAILED
    refusal = _validate_shape(event)
    if refusal is not None:
        return refusal
    if int(event.flags) & _RESOLVING:
        return _resolve_pending(state, event)
    return _create(state, event)


def _validate_id(event: Transfer) -> CreateTransferResult | None:
    if int(event.flags) & ~_KNOWN_TRANSFER_FLAGS:  # int: ~ on an IntFlag drops unknown bits
        return R.FLAGS_INVALID
    if not event.id:
        return R.ID_MUST_NOT_BE_EMPTY
    if len(event.id) > ID_LENGTH_MAX:
        return R.ID_TOO_LONG
    return None


def _validate_shape(event: Transfer) -> CreateTransferResult | None:
    if event.ref is not None and len(event.ref) > ID_LENGTH_MAX:
        return R.REF_TOO_LONG  # else PostgreSQL fails the whole batch and SQLite stores it
    flags = int(event.flags)
    if flags & _RESOLVING and bin(flags & _EXCLUSIVE_WITH_RESOLVING).count("1") > 1:
        return R.FLAGS_ARE_MUTUALLY_EXCLUSIVE
    if event.amount < 0:
        return R.AMOUNT_MUST_NOT_BE_NEGATIVE
    if event.amount > AMOUNT_MAX:
        return R.AMOUNT_TOO_LARGE
    if flags & _RESOLVING:
        return _validate_resolving_shape(event)
    return _validate_creating_shape(event)


def _validate_resolving_shape(event: Transfer) -> CreateTransferResult | None:
    if not event.pending_id:
        return R.PENDING_ID_REQUIRED
    if event.pending_id == event.id:
        return R.PENDING_ID_MUST_BE_DIFFERENT
    if event.expires_at_us is not None:
        return R.EXPIRES_AT_RESERVED_FOR_PENDING_TRANSFER
    return None


def _validate_creating_shape(event: Transfer) -> CreateTransferResult | None:
    if not event.debit_account_id:
        return R.DEBIT_ACCOUNT_ID_MUST_NOT_BE_EMPTY
    if not event.credit_account_id:
        return R.CREDIT_ACCOUNT_ID_MUST_NOT_BE_EMPTY
    if event.debit_account_id == event.credit_account_id:
        return R.ACCOUNTS_MUST_BE_DIFFERENT
    if event.pending_id:
        return R.PENDING_ID_MUST_BE_EMPTY
    if event.expires_at_us is not None and not int(event.flags) & _PENDING:
        return R.EXPIRES_AT_RESERVED_FOR_PENDING_TRANSFER
    if event.ledger == 0:
        return R.LEDGER_MUST_NOT_BE_ZERO
    if event.code == 0:
        return R.CODE_MUST_NOT_BE_ZERO
    return None


def _compare_existing(
    state: BatchState, event: Transfer, existing: Transfer
) -> CreateTransferResult:
    """Same id: ``exists`` when every field the client chose matches what was recorded."""
    if event.flags != existing.flags:
        return R.EXISTS_WITH_DIFFERENT_FLAGS
    if event.pending_id != existing.pending_id:
        return R.EXISTS_WITH_DIFFERENT_PENDING_ID
    if event.expires_at_us != existing.expires_at_us:
        return R.EXISTS_WITH_DIFFERENT_EXPIRES_AT
    if int(event.flags) & _RESOLVING:
        pending = state.transfers.get(event.pending_id or "")
        if pending is not None:  # what a post or void leaves out is compared as recorded
            event = _fill_from_pending(event, pending)
    if event.debit_account_id != existing.debit_account_id:
        return R.EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID
    if event.credit_account_id != existing.credit_account_id:
        return R.EXISTS_WITH_DIFFERENT_CREDIT_ACCOUNT_ID
    if event.amount != existing.amount and not (
        int(event.flags) & _BALANCING and event.amount > existing.amount
    ):
        # A balancing transfer records what it moved; its retry names the cap, which may be more.
        return R.EXISTS_WITH_DIFFERENT_AMOUNT
    return _compare_rest(event, existing)


def _compare_rest(event: Transfer, existing: Transfer) -> CreateTransferResult:
    if event.ref != existing.ref:
        return R.EXISTS_WITH_DIFFERENT_REF
    if event.ledger != existing.ledger:
        return R.EXISTS_WITH_DIFFERENT_LEDGER
    if event.code != existing.code:
        return R.EXISTS_WITH_DIFFERENT_CODE
    return R.EXISTS


def _fill_from_pending(event: Transfer, pending: Transfer) -> Transfer:
    """A post or void as recorded: the accounts, ledger, code and ``ref`` it leaves out are its
    pending transfer's, and ``amount`` is what it moves (see :class:`Transfer`)."""
    if int(event.flags) & _VOID_PENDING:
        amount = event.amount or pending.amount
    else:
        amount = pending.amount if event.amount == AMOUNT_MAX else event.amount
    return replace(
        event,
        debit_account_id=event.debit_account_id or pending.debit_account_id,
        credit_account_id=event.credit_account_id or pending.credit_account_id,
        ledger=event.ledger or pending.ledger,
        code=event.code or pending.code,
        amount=amount,
        ref=pending.ref if event.ref is None else event.ref,
    )


def _create(state: BatchState, event: Transfer) -> CreateTransferResult:
    refusal = _check_accounts(state, event)
    if refusal is not None:
        return refusal
    flags = int(event.flags)
    pending = bool(flags & _PENDING)
    if pending and event.expires_at_us is not None and event.expires_at_us <= state.now_us:
        return R.EXPIRES_AT_MUST_BE_IN_THE_FUTURE
    debit = state.accounts[event.debit_account_id]
    credit = state.accounts[event.credit_account_id]
    if flags & _BALANCING:
        event = replace(event, amount=_balancing_amount(debit, credit, event))
    refusal = _check_bounds(debit, credit, event.amount)
    if refusal is not None:
        return refusal
    debit = state.change(event.debit_account_id)
    credit = state.change(event.credit_account_id)
    if pending:
        debit.debits_pending += event.amount
        credit.credits_pending += event.amount
    else:
        debit.debits_posted += event.amount
        credit.credits_posted += event.amount
    state.record(event)
    return R.OK


def _balancing_amount(debit: Balances, credit: Balances, event: Transfer) -> int:
    """What a balancing transfer moves: at most its amount, and no more than the debit account's
    posted credits still cover (``BALANCING_DEBIT``) or the credit account's posted debits still
    allow (``BALANCING_CREDIT``), pending amounts counted as spent. Never negative."""
    amount = event.amount
    if int(event.flags) & _BALANCING_DEBIT:
        spent = debit.debits_posted + debit.debits_pending
        amount = min(amount, max(0, debit.credits_posted - spent))
    if int(event.flags) & _BALANCING_CREDIT:
        taken = credit.credits_posted + credit.credits_pending
        amount = min(amount, max(0, credit.debits_posted - taken))
    return amount


def _check_accounts(state: BatchState, event: Transfer) -> CreateTransferResult | None:
    debit = state.accounts.get(event.debit_account_id)
    credit = state.accounts.get(event.credit_account_id)
    if debit is None:
        return R.DEBIT_ACCOUNT_NOT_FOUND
    if credit is None:
        return R.CREDIT_ACCOUNT_NOT_FOUND
    if debit.ledger != credit.ledger:
        return R.ACCOUNTS_MUST_HAVE_THE_SAME_LEDGER
    if event.ledger != debit.ledger:
        return R.TRANSFER_MUST_HAVE_THE_SAME_LEDGER_AS_ACCOUNTS
    if debit.flags & _CLOSED:
        return R.DEBIT_ACCOUNT_CLOSED
    if credit.flags & _CLOSED:
        return R.CREDIT_ACCOUNT_CLOSED
    return None


def _check_bounds(debit: Balances, credit: Balances, amount: int) -> CreateTransferResult | None:
    debit_total = debit.debits_pending + debit.debits_posted + amount
    credit_total = credit.credits_pending + credit.credits_posted + amount
    if debit_total > BALANCE_MAX or credit_total > BALANCE_MAX:
        return R.OVERFLOWS_BALANCE
    if debit.flags & _DEBITS_BOUNDED and (debit_total > debit.credits_posted):
        return R.EXCEEDS_CREDITS
    if credit.flags & _CREDITS_BOUNDED and (credit_total > credit.debits_posted):
        return R.EXCEEDS_DEBITS
    return None


_ALREADY = {
    PendingOutcome.POSTED: R.PENDING_TRANSFER_ALREADY_POSTED,
    PendingOutcome.VOIDED: R.PENDING_TRANSFER_ALREADY_VOIDED,
    PendingOutcome.EXPIRED: R.PENDING_TRANSFER_EXPIRED,
}


def _resolve_pending(state: BatchState, event: Transfer) -> CreateTransferResult:
    pending = state.transfers.get(event.pending_id or "")
    if pending is None:
        return R.PENDING_TRANSFER_NOT_FOUND
    if not int(pending.flags) & _PENDING:
        return R.PENDING_TRANSFER_NOT_PENDING
    filled = _fill_from_pending(event, pending)
    refusal = _check_against_pending(event, filled, pending)
    if refusal is not None:
        return refusal
    outcome = state.resolutions.get(pending.id)
    if outcome is not None:
        return _ALREADY[outcome]
    if pending.expires_at_us is not None and pending.expires_at_us <= state.now_us:
        return R.PENDING_TRANSFER_EXPIRED
    if int(event.flags) & _POST_PENDING:
        closed = _closed_account(state, filled)
        if closed is not None:
            return closed
    _release_and_post(state, pending, filled)
    return R.OK


def _check_against_pending(
    event: Transfer, filled: Transfer, pending: Transfer
) -> CreateTransferResult | None:
    """``event`` as sent, ``filled`` as it would be recorded (its amount is what it moves)."""
    checks = (
        (
            event.debit_account_id,
            pending.debit_account_id,
            R.PENDING_TRANSFER_HAS_DIFFERENT_DEBIT_ACCOUNT_ID,
        ),
        (
            event.credit_account_id,
            pending.credit_account_id,
            R.PENDING_TRANSFER_HAS_DIFFERENT_CREDIT_ACCOUNT_ID,
        ),
        (event.ledger, pending.ledger, R.PENDING_TRANSFER_HAS_DIFFERENT_LEDGER),
        (event.code, pending.code, R.PENDING_TRANSFER_HAS_DIFFERENT_CODE),
    )
    for asked, recorded, code in checks:
        if asked and asked != recorded:
            return code
    if filled.amount > pending.amount:
        return R.EXCEEDS_PENDING_TRANSFER_AMOUNT
    if int(event.flags) & _VOID_PENDING and filled.amount < pending.amount:
        return R.PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT
    return None


def _closed_account(state: BatchState, event: Transfer) -> CreateTransferResult | None:
    if state.accounts[event.debit_account_id].flags & _CLOSED:
        return R.DEBIT_ACCOUNT_CLOSED
    if state.accounts[event.credit_account_id].flags & _CLOSED:
        return R.CREDIT_ACCOUNT_CLOSED
    return None


def _release_and_post(state: BatchState, pending: Transfer, event: Transfer) -> None:
    debit = state.change(pending.debit_account_id)
    credit = state.change(pending.credit_account_id)
    debit.debits_pending -= pending.amount
    credit.credits_pending -= pending.amount
    posting = bool(int(event.flags) & _POST_PENDING)
    if posting:
        debit.debits_posted += event.amount
        credit.credits_posted += event.amount
    outcome = PendingOutcome.POSTED if posting else PendingOutcome.VOIDED
    state.record(event, Resolution(pending.id, outcome, event.id))


def expire(state: BatchState, pending: Transfer) -> bool:
    """Release an unresolved pending transfer past its deadline; False if it had resolved."""
    if pending.id in state.resolutions:
        return False
    if pending.expires_at_us is None or pending.expires_at_us > state.now_us:
        return False
    debit = state.change(pending.debit_account_id)
    credit = state.change(pending.credit_account_id)
    debit.debits_pending -= pending.amount
    credit.credits_pending -= pending.amount
    resolution = Resolution(pending.id, PendingOutcome.EXPIRED, None)
    state.resolutions[pending.id] = resolution.outcome
    state.new_resolutions.append(resolution)
    return True
