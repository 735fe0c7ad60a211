"""Values of the ledger: accounts, transfers, flags and result codes.

Amounts are integer minor units (fen). A transfer's ``timestamp_us`` is set by the ledger when it
is recorded; callers leave it 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntFlag, StrEnum

ID_LENGTH_MAX = 64
AMOUNT_MAX = 2**62
"""The largest amount, which leaves head-room so that no BIGINT balance can overflow. As
TigerBeetle's ``AMOUNT_MAX`` it also means "all there is": a post of the whole pending amount,
a balancing transfer without a cap."""
BALANCE_MAX = 2**63 - 1


class AccountFlags(IntFlag):
    NONE = 0
    DEBITS_MUST_NOT_EXCEED_CREDITS = 1
    CREDITS_MUST_NOT_EXCEED_DEBITS = 2
    CLOSED = 4


class TransferFlags(IntFlag):
    NONE = 0
    LINKED = 1
    PENDING = 2
    POST_PENDING = 4
    VOID_PENDING = 8
    BALANCING_DEBIT = 16
    BALANCING_CREDIT = 32


TWO_PHASE_FLAGS = TransferFlags.PENDING | TransferFlags.POST_PENDING | TransferFlags.VOID_PENDING
BALANCING_FLAGS = TransferFlags.BALANCING_DEBIT | TransferFlags.BALANCING_CREDIT
_PENDING_BIT = int(TransferFlags.PENDING)
_RESOLVING_BITS = int(TransferFlags.POST_PENDING | TransferFlags.VOID_PENDING)


class PendingOutcome(StrEnum):
    POSTED = "posted"
    VOIDED = "voided"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class NewAccount:
    """What a client asks for; the ledger adds zero balances and its timestamp."""

    id: str
    ledger: int
    code: int
    region: str = ""
    flags: AccountFlags = AccountFlags.NONE
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    ledger: int
    code: int
    region: str
    flags: AccountFlags
    debits_pending: int
    debits_posted: int
    credits_pending: int
    credits_posted: int
    ref: str | None
    timestamp_us: int

    @property
    def credit_balance(self) -> int:
        """Posted credits less posted debits: what a credit-normal account holds."""
        return self.credits_posted - self.debits_posted

    @property
    def credit_available(self) -> int:
        """Credit balance less what pending debits reserve."""
        return self.credits_posted - self.debits_posted - self.debits_pending

    @property
    def debit_balance(self) -> int:
        return self.debits_posted - self.credits_posted


@dataclass(frozen=True, slots=True)
class Transfer:
    """A transfer as asked for, or as recorded.

    For ``POST_PENDING`` and ``VOID_PENDING``, empty accounts, a zero ledger or code and no
    ``ref`` mean "as the pending transfer". A post moves ``amount`` (0 is an amount: it posts
    nothing and releases the reservation) or, with :data:`AMOUNT_MAX`, the whole pending amount;
    a void releases the whole pending amount and takes 0 or that amount.

    With ``BALANCING_DEBIT`` (``BALANCING_CREDIT``), ``amount`` is a cap: the transfer moves as
    much as the debit account's credits still cover (the credit account's debits still allow),
    up to it, and is recorded with what it moved.
    """

    id: str
    debit_account_id: str
    credit_account_id: str
    amount: int
    ledger: int
    code: int
    flags: TransferFlags = TransferFlags.NONE
    pending_id: str | None = None
    expires_at_us: int | None = None
    ref: str | None = None
    timestamp_us: int = 0

    @property
    def is_pending(self) -> bool:
        return bool(int(self.flags) & _PENDING_BIT)  # int(): an IntFlag operator costs ~2 µs

    @property
    def resolves_pending(self) -> bool:
        return bool(int(self.flags) & _RESOLVING_BITS)

    @property
    def posts_amount(self) -> bool:
        """True when the transfer moves posted balances (plain or post-pending)."""
        return not self.flags & (TransferFlags.PENDING | TransferFlags.VOID_PENDING)


class CreateAccountResult(StrEnum):
    OK = "ok"
    EXISTS = "exists"
    EXISTS_WITH_DIFFERENT_FLAGS = "exists_with_different_flags"
    EXISTS_WITH_DIFFERENT_LEDGER = "exists_with_different_ledger"
    EXISTS_WITH_DIFFERENT_CODE = "exists_with_different_code"
    EXISTS_WITH_DIFFERENT_REGION = "exists_with_different_region"
    EXISTS_WITH_DIFFERENT_REF = "exists_with_different_ref"
    ID_MUST_NOT_BE_EMPTY = "id_must_not_be_empty"
    ID_TOO_LONG = "id_too_long"
    FLAGS_ARE_MUTUALLY_EXCLUSIVE = "flags_are_mutually_exclusive"
    FLAGS_INVALID = "flags_invalid"
    LEDGER_MUST_NOT_BE_ZERO = "ledger_must_not_be_zero"
    CODE_MUST_NOT_BE_ZERO = "code_must_not_be_zero"
    REGION_TOO_LONG = "region_too_long"
    REF_TOO_LONG = "ref_too_long"


class CreateTransferResult(StrEnum):
    OK = "ok"
    EXISTS = "exists"
    LINKED_EVENT_FAILED = "linked_event_failed"
    LINKED_EVENT_CHAIN_OPEN = "linked_event_chain_open"
    EXISTS_WITH_DIFFERENT_FLAGS = "exists_with_different_flags"
    EXISTS_WITH_DIFFERENT_PENDING_ID = "exists_with_different_pending_id"
    EXISTS_WITH_DIFFERENT_EXPIRES_AT = "exists_with_different_expires_at"
    EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID = "exists_with_different_debit_account_id"
    EXISTS_WITH_DIFFERENT_CREDIT_ACCOUNT_ID = "exists_with_different_credit_account_id"
    EXISTS_WITH_DIFFERENT_AMOUNT = "exists_with_different_amount"
    EXISTS_WITH_DIFFERENT_LEDGER = "exists_with_different_ledger"
    EXISTS_WITH_DIFFERENT_CODE = "exists_with_different_code"
    EXISTS_WITH_DIFFERENT_REF = "exists_with_different_ref"
    ID_ALREADY_FAILED = "id_already_failed"
    ID_MUST_NOT_BE_EMPTY = "id_must_not_be_empty"
    ID_TOO_LONG = "id_too_long"
    REF_TOO_LONG = "ref_too_long"
    FLAGS_ARE_MUTUALLY_EXCLUSIVE = "flags_are_mutually_exclusive"
    FLAGS_INVALID = "flags_invalid"
    AMOUNT_MUST_NOT_BE_NEGATIVE = "amount_must_not_be_negative"
    AMOUNT_TOO_LARGE = "amount_too_large"
    LEDGER_MUST_NOT_BE_ZERO = "ledger_must_not_be_zero"
    CODE_MUST_NOT_BE_ZERO = "code_must_not_be_zero"
    DEBIT_ACCOUNT_ID_MUST_NOT_BE_EMPTY = "debit_account_id_must_not_be_empty"
    CREDIT_ACCOUNT_ID_MUST_NOT_BE_EMPTY = "credit_account_id_must_not_be_empty"
    ACCOUNTS_MUST_BE_DIFFERENT = "accounts_must_be_different"
    DEBIT_ACCOUNT_NOT_FOUND = "debit_account_not_found"
    CREDIT_ACCOUNT_NOT_FOUND = "credit_account_not_found"
    ACCOUNTS_MUST_HAVE_THE_SAME_LEDGER = "accounts_must_have_the_same_ledger"
    TRANSFER_MUST_HAVE_THE_SAME_LEDGER_AS_ACCOUNTS = (
        "transfer_must_have_the_same_ledger_as_accounts"
    )
    DEBIT_ACCOUNT_CLOSED = "debit_account_closed"
    CREDIT_ACCOUNT_CLOSED = "credit_account_closed"
    PENDING_ID_MUST_BE_EMPTY = "pending_id_must_be_empty"
    PENDING_ID_REQUIRED = "pending_id_required"
    PENDING_ID_MUST_BE_DIFFERENT = "pending_id_must_be_different"
    EXPIRES_AT_RESERVED_FOR_PENDING_TRANSFER = "expires_at_reserved_for_pending_transfer"
    EXPIRES_AT_MUST_BE_IN_THE_FUTURE = "expires_at_must_be_in_the_future"
    PENDING_TRANSFER_NOT_FOUND = "pending_transfer_not_found"
    PENDING_TRANSFER_NOT_PENDING = "pending_transfer_not_pending"
    PENDING_TRANSFER_HAS_DIFFERENT_DEBIT_ACCOUNT_ID = (
        "pending_transfer_has_different_debit_account_id"
    )
    PENDING_TRANSFER_HAS_DIFFERENT_CREDIT_ACCOUNT_ID = (
        "pending_transfer_has_different_credit_account_id"
    )
    PENDING_TRANSFER_HAS_DIFFERENT_LEDGER = "pending_transfer_has_different_ledger"
    PENDING_TRANSFER_HAS_DIFFERENT_CODE = "pending_transfer_has_different_code"
    PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT = "pending_transfer_has_different_amount"
    EXCEEDS_PENDING_TRANSFER_AMOUNT = "exceeds_pending_transfer_amount"
    PENDING_TRANSFER_ALREADY_POSTED = "pending_transfer_already_posted"
    PENDING_TRANSFER_ALREADY_VOIDED = "pending_transfer_already_voided"
    PENDING_TRANSFER_EXPIRED = "pending_transfer_expired"
    EXCEEDS_CREDITS = "exceeds_credits"
    EXCEEDS_DEBITS = "exceeds_debits"
    OVERFLOWS_BALANCE = "overflows_balance"


SUCCESS_RESULTS = frozenset({CreateTransferResult.OK, CreateTransferResult.EXISTS})

TRANSIENT_RESULTS = frozenset(
    {
        CreateTransferResult.DEBIT_ACCOUNT_NOT_FOUND,
        CreateTransferResult.CREDIT_ACCOUNT_NOT_FOUND,
        CreateTransferResult.PENDING_TRANSFER_NOT_FOUND,
        CreateTransferResult.DEBIT_ACCOUNT_CLOSED,
        CreateTransferResult.CREDIT_ACCOUNT_CLOSED,
        CreateTransferResult.EXCEEDS_CREDITS,
        CreateTransferResult.EXCEEDS_DEBITS,
    }
)
"""Refusals that depend on the ledger's state at the time, so that the same transfer sent again
might succeed. The ledger remembers an id refused with one of them and answers
``id_already_failed`` ever after: a retry never turns a refusal into a success (TigerBeetle
0.16.4 and later). Every other refusal follows from the transfer itself and repeats anyway."""


@dataclass(frozen=True, slots=True)
class TransferOutcome:
    """One event's result and, when it succeeded (``ok``) or was already recorded (``exists``),
    the transfer as the ledger recorded it: a balancing transfer with the amount it moved, a
    post of :data:`AMOUNT_MAX` with the amount it posted. ``recorded`` is None for a refusal.

    So a caller that lets the ledger decide an amount (move what is left, post the whole) learns
    it from the transfer itself instead of reading a balance before it."""

    result: CreateTransferResult
    recorded: Transfer | None

    @property
    def moved(self) -> int:
        """What the recorded transfer moved; 0 for a refusal."""
        return self.recorded.amount if self.recorded is not None else 0
