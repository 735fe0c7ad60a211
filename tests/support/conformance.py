"""TigerBeetle's documented behaviour, case by case, as gongji's ledger must show it.

Each case restates one rule of TigerBeetle's reference (create_accounts and create_transfers:
their result codes and the order in which they take precedence; two-phase transfers; linked
events; balancing transfers; the recipes) in gongji's terms: text ids, ``ref`` for
``user_data_128``, ``expires_at_us`` for ``timeout``, an empty id or account for a zero one.
Where gongji differs on purpose, the case is a :class:`Difference` that names the reason
(docs/ledger.md has the table); the suite reports it as skipped, so the list of differences is
part of every run.

A case runs its steps in order on one database, each step asserting its results; every case
starts with its own chart of accounts (see :data:`CHART`), its ids prefixed so that all cases
share one database. Steps:

- ``[transfers] -> [results]`` and ``[accounts] -> [results]``;
- :class:`Balances` — an account's (debits_pending, debits_posted, credits_pending,
  credits_posted);
- :class:`Recorded` — the amount and ref recorded for a transfer id;
- :class:`Advance` — the case's clock moves on;
- :class:`Close` — an account is closed (gongji's ``set_account_closed``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from gongji.ledger.types import (
    AMOUNT_MAX,
    AccountFlags,
    CreateAccountResult,
    CreateTransferResult,
    NewAccount,
    Transfer,
    TransferFlags,
)

R = CreateTransferResult
A = CreateAccountResult
F = TransferFlags
LINKED = F.LINKED
MINUTE_US = 60_000_000
TOO_LONG = "x" * 70

CHART = (
    NewAccount("a", 1, 1),
    NewAccount("b", 1, 1),
    NewAccount("c", 1, 1),
    NewAccount("dr", 1, 1, flags=AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS),
    NewAccount("cr", 1, 1, flags=AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS),
    NewAccount("x", 2, 1),
    NewAccount("y", 2, 1),
    NewAccount("shut", 1, 1, flags=AccountFlags.CLOSED),
)
"""Every case's accounts: free ones, ``dr`` (100 of credits to spend) and ``cr`` (room for 100
of credits), another ledger's, and one created closed."""
FUNDING = (
    Transfer("fund-dr", "c", "dr", 100, 1, 1),
    Transfer("fund-cr", "cr", "c", 100, 1, 1),
)


@dataclass(frozen=True)
class Balances:
    account: str
    expected: tuple[int, int, int, int]


@dataclass(frozen=True)
class Recorded:
    transfer: str
    amount: int
    ref: str | None = None


@dataclass(frozen=True)
class Advance:
    microseconds: int


@dataclass(frozen=True)
class Close:
    account: str


Step = tuple[Sequence[Any], Sequence[Any]] | Balances | Recorded | Advance | Close


@dataclass(frozen=True)
class Case:
    section: str  # where the rule is written: the reference page and its heading
    rule: str
    steps: Sequence[Step]


@dataclass(frozen=True)
class Difference:
    """A documented behaviour gongji does not follow, on purpose."""

    section: str
    rule: str
    reason: str
    steps: Sequence[Step] = field(default_factory=tuple)


def t(
    id: str,
    debit: str = "a",
    credit: str = "b",
    amount: int = 10,
    *,
    ledger: int = 1,
    code: int = 1,
    flags: TransferFlags = F.NONE,
    pending_id: str | None = None,
    expires_in: int | None = None,
    ref: str | None = None,
) -> Transfer:
    """A transfer; ``expires_in`` minutes after the case's start (made absolute when run)."""
    return Transfer(
        id,
        debit,
        credit,
        amount,
        ledger,
        code,
        flags,
        pending_id=pending_id,
        expires_at_us=None if expires_in is None else expires_in * MINUTE_US,
        ref=ref,
    )


def pending(id: str, debit: str = "a", credit: str = "b", amount: int = 30, **kw: Any) -> Transfer:
    flags = F.PENDING | kw.pop("flags", F.NONE)
    return t(id, debit, credit, amount, flags=flags, **kw)


def post(id: str, pending_id: str, amount: int = AMOUNT_MAX, **kw: Any) -> Transfer:
    """A post naming only its pending transfer (accounts, ledger and code left to it)."""
    flags = F.POST_PENDING | kw.pop("flags", F.NONE)
    kw.setdefault("ledger", 0)
    kw.setdefault("code", 0)
    debit, credit = kw.pop("debit", ""), kw.pop("credit", "")
    return t(id, debit, credit, amount, flags=flags, pending_id=pending_id, **kw)


def void(id: str, pending_id: str, amount: int = 0, **kw: Any) -> Transfer:
    flags = F.VOID_PENDING | kw.pop("flags", F.NONE)
    kw.setdefault("ledger", 0)
    kw.setdefault("code", 0)
    return t(id, "", "", amount, flags=flags, pending_id=pending_id, **kw)


def one(*events: Transfer | NewAccount) -> Sequence[Transfer | NewAccount]:
    return list(events)


# --- create_accounts ------------------------------------------------------------------------

ACC = "create_accounts"
CLOSED = AccountFlags.CLOSED
BOUNDS = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS | AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS

ACCOUNT_CASES = [
    Case(ACC, "ok: a new account", [(one(NewAccount("n", 1, 1)), [A.OK])]),
    Case(
        ACC,
        "reserved_flag: unknown flag bits",
        [(one(NewAccount("n", 1, 1, flags=AccountFlags(64))), [A.FLAGS_INVALID])],
    ),
    Case(
        ACC,
        "id_must_not_be_zero: an empty id",
        [(one(NewAccount("", 1, 1)), [A.ID_MUST_NOT_BE_EMPTY])],
    ),
    Case(
        ACC,
        "id_must_not_be_int_max: an id past the limit",
        [(one(NewAccount(TOO_LONG, 1, 1)), [A.ID_TOO_LONG])],
    ),
    Case(
        ACC,
        "reserved_flag takes precedence over the id",
        [(one(NewAccount("", 1, 1, flags=AccountFlags(64))), [A.FLAGS_INVALID])],
    ),
    Case(
        ACC,
        "flags_are_mutually_exclusive: both balance bounds",
        [(one(NewAccount("n", 1, 1, flags=BOUNDS)), [A.FLAGS_ARE_MUTUALLY_EXCLUSIVE])],
    ),
    Case(
        ACC, "ledger_must_not_be_zero", [(one(NewAccount("n", 0, 1)), [A.LEDGER_MUST_NOT_BE_ZERO])]
    ),
    Case(ACC, "code_must_not_be_zero", [(one(NewAccount("n", 1, 0)), [A.CODE_MUST_NOT_BE_ZERO])]),
    Case(ACC, "ledger before code", [(one(NewAccount("n", 0, 0)), [A.LEDGER_MUST_NOT_BE_ZERO])]),
    Case(ACC, "exists: the same account again", [(one(NewAccount("a", 1, 1)), [A.EXISTS])]),
    Case(
        ACC,
        "exists within one batch",
        [(one(NewAccount("n", 1, 1), NewAccount("n", 1, 1)), [A.OK, A.EXISTS])],
    ),
    Case(
        ACC,
        "exists_with_different_flags",
        [
            (
                one(NewAccount("a", 1, 1, flags=AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS)),
                [A.EXISTS_WITH_DIFFERENT_FLAGS],
            )
        ],
    ),
    Case(
        ACC,
        "exists_with_different_user_data_128: another ref",
        [(one(NewAccount("a", 1, 1, ref="r")), [A.EXISTS_WITH_DIFFERENT_REF])],
    ),
    Case(
        ACC,
        "exists_with_different_user_data_32: another region",
        [(one(NewAccount("a", 1, 1, region="110000")), [A.EXISTS_WITH_DIFFERENT_REGION])],
    ),
    Case(
        ACC,
        "exists_with_different_ledger",
        [(one(NewAccount("a", 2, 1)), [A.EXISTS_WITH_DIFFERENT_LEDGER])],
    ),
    Case(
        ACC,
        "exists_with_different_code",
        [(one(NewAccount("a", 1, 2)), [A.EXISTS_WITH_DIFFERENT_CODE])],
    ),
    Case(
        ACC,
        "flags are compared before user data, user data before ledger and code",
        [
            (
                one(
                    NewAccount(
                        "a", 2, 2, ref="r", flags=AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS
                    )
                ),
                [A.EXISTS_WITH_DIFFERENT_FLAGS],
            ),
            (one(NewAccount("a", 2, 2, ref="r")), [A.EXISTS_WITH_DIFFERENT_REF]),
        ],
    ),
    Case(
        ACC,
        "an existing id with mutually exclusive flags: a retry, compared",
        [(one(NewAccount("a", 1, 1, flags=BOUNDS)), [A.EXISTS_WITH_DIFFERENT_FLAGS])],
    ),
    Case(
        ACC,
        "an existing id with ledger 0: a retry, compared",
        [(one(NewAccount("a", 0, 1)), [A.EXISTS_WITH_DIFFERENT_LEDGER])],
    ),
    Case(
        ACC,
        "an existing id with code 0: a retry, compared",
        [(one(NewAccount("a", 1, 0)), [A.EXISTS_WITH_DIFFERENT_CODE])],
    ),
    Case(
        ACC,
        "flags.closed: an account may be created closed",
        [
            (one(NewAccount("n", 1, 1, flags=CLOSED)), [A.OK]),
            (one(t("t1", "a", "n")), [R.CREDIT_ACCOUNT_CLOSED]),
        ],
    ),
]


# --- create_transfers: the event itself ------------------------------------------------------

TR = "create_transfers"
TR_CASES = [
    Case(
        TR,
        "ok: a single-phase transfer",
        [(one(t("t1")), [R.OK]), Balances("a", (0, 10, 0, 0)), Balances("b", (0, 0, 0, 10))],
    ),
    Case(TR, "reserved_flag: unknown flag bits", [(one(t("t1", flags=F(64))), [R.FLAGS_INVALID])]),
    Case(
        TR,
        "reserved_flag takes precedence over the id",
        [(one(t("", flags=F(128))), [R.FLAGS_INVALID])],
    ),
    Case(TR, "id_must_not_be_zero: an empty id", [(one(t("")), [R.ID_MUST_NOT_BE_EMPTY])]),
    Case(TR, "id_must_not_be_int_max: an id past the limit", [(one(t(TOO_LONG)), [R.ID_TOO_LONG])]),
    Case(
        TR,
        "flags_are_mutually_exclusive: post and void",
        [
            (
                one(t("t1", flags=F.POST_PENDING | F.VOID_PENDING, pending_id="p")),
                [R.FLAGS_ARE_MUTUALLY_EXCLUSIVE],
            )
        ],
    ),
    Case(
        TR,
        "flags_are_mutually_exclusive: pending and post",
        [
            (
                one(t("t1", flags=F.PENDING | F.POST_PENDING, pending_id="p")),
                [R.FLAGS_ARE_MUTUALLY_EXCLUSIVE],
            )
        ],
    ),
    Case(
        TR,
        "flags_are_mutually_exclusive: pending and void",
        [
            (
                one(t("t1", flags=F.PENDING | F.VOID_PENDING, pending_id="p")),
                [R.FLAGS_ARE_MUTUALLY_EXCLUSIVE],
            )
        ],
    ),
    Case(
        TR,
        "flags_are_mutually_exclusive: post and balancing_debit",
        [(one(post("t1", "p", flags=F.BALANCING_DEBIT)), [R.FLAGS_ARE_MUTUALLY_EXCLUSIVE])],
    ),
    Case(
        TR,
        "flags_are_mutually_exclusive: void and balancing_credit",
        [(one(void("t1", "p", flags=F.BALANCING_CREDIT)), [R.FLAGS_ARE_MUTUALLY_EXCLUSIVE])],
    ),
    Case(
        TR,
        "pending is compatible with balancing_debit and balancing_credit",
        [
            (
                one(pending("p", "dr", "cr", 500, flags=F.BALANCING_DEBIT | F.BALANCING_CREDIT)),
                [R.OK],
            ),
            Recorded("p", 100),
        ],
    ),
    Case(
        TR,
        "debit_account_id_must_not_be_zero",
        [(one(t("t1", "")), [R.DEBIT_ACCOUNT_ID_MUST_NOT_BE_EMPTY])],
    ),
    Case(
        TR,
        "credit_account_id_must_not_be_zero",
        [(one(t("t1", "a", "")), [R.CREDIT_ACCOUNT_ID_MUST_NOT_BE_EMPTY])],
    ),
    Case(
        TR, "accounts_must_be_different", [(one(t("t1", "a", "a")), [R.ACCOUNTS_MUST_BE_DIFFERENT])]
    ),
    Case(
        TR,
        "pending_id_must_be_zero: a single-phase transfer names no pending transfer",
        [(one(t("t1", pending_id="p")), [R.PENDING_ID_MUST_BE_EMPTY])],
    ),
    Case(
        TR,
        "pending_id_must_not_be_zero: a post names its pending transfer",
        [(one(post("t1", "")), [R.PENDING_ID_REQUIRED])],
    ),
    Case(
        TR,
        "pending_id_must_be_different",
        [(one(post("t1", "t1")), [R.PENDING_ID_MUST_BE_DIFFERENT])],
    ),
    Case(
        TR,
        "timeout_reserved_for_pending_transfer: single-phase",
        [(one(t("t1", expires_in=5)), [R.EXPIRES_AT_RESERVED_FOR_PENDING_TRANSFER])],
    ),
    Case(
        TR,
        "timeout_reserved_for_pending_transfer: a post",
        [
            (one(pending("p")), [R.OK]),
            (one(post("t1", "p", expires_in=5)), [R.EXPIRES_AT_RESERVED_FOR_PENDING_TRANSFER]),
        ],
    ),
    Case(
        TR,
        "amount 0 is an amount (amount_must_not_be_zero is gone since 0.16)",
        [(one(t("t1", amount=0)), [R.OK]), Balances("a", (0, 0, 0, 0)), Recorded("t1", 0)],
    ),
    Case(
        TR,
        "a pending transfer of 0",
        [(one(pending("p", amount=0)), [R.OK]), (one(post("x", "p")), [R.OK]), Recorded("x", 0)],
    ),
    Case(TR, "ledger_must_not_be_zero", [(one(t("t1", ledger=0)), [R.LEDGER_MUST_NOT_BE_ZERO])]),
    Case(TR, "code_must_not_be_zero", [(one(t("t1", code=0)), [R.CODE_MUST_NOT_BE_ZERO])]),
    Case(TR, "debit_account_not_found", [(one(t("t1", "nobody")), [R.DEBIT_ACCOUNT_NOT_FOUND])]),
    Case(
        TR,
        "credit_account_not_found",
        [(one(t("t1", "a", "nobody")), [R.CREDIT_ACCOUNT_NOT_FOUND])],
    ),
    Case(
        TR,
        "accounts_must_have_the_same_ledger",
        [(one(t("t1", "a", "x")), [R.ACCOUNTS_MUST_HAVE_THE_SAME_LEDGER])],
    ),
    Case(
        TR,
        "transfer_must_have_the_same_ledger_as_accounts",
        [(one(t("t1", "x", "y", ledger=1)), [R.TRANSFER_MUST_HAVE_THE_SAME_LEDGER_AS_ACCOUNTS])],
    ),
    Case(
        TR, "debit_account_already_closed", [(one(t("t1", "shut", "a")), [R.DEBIT_ACCOUNT_CLOSED])]
    ),
    Case(
        TR,
        "credit_account_already_closed",
        [(one(t("t1", "a", "shut")), [R.CREDIT_ACCOUNT_CLOSED])],
    ),
    Case(
        TR,
        "a closed account refuses pending transfers too",
        [(one(pending("p", "shut", "a")), [R.DEBIT_ACCOUNT_CLOSED])],
    ),
    Case(
        TR,
        "exceeds_credits: debits_must_not_exceed_credits",
        [
            (one(t("t1", "dr", "a", 101)), [R.EXCEEDS_CREDITS]),
            (one(t("t2", "dr", "a", 100)), [R.OK]),
        ],
    ),
    Case(
        TR,
        "exceeds_debits: credits_must_not_exceed_debits",
        [
            (one(t("t1", "a", "cr", 101)), [R.EXCEEDS_DEBITS]),
            (one(t("t2", "a", "cr", 100)), [R.OK]),
        ],
    ),
    Case(
        TR,
        "pending debits count against the bound",
        [
            (one(pending("p", "dr", "a", 60)), [R.OK]),
            (one(t("t1", "dr", "a", 41)), [R.EXCEEDS_CREDITS]),
            (one(t("t2", "dr", "a", 40)), [R.OK]),
        ],
    ),
    Case(
        TR,
        "exceeds_credits before exceeds_debits",
        [(one(t("t1", "dr", "cr", 101)), [R.EXCEEDS_CREDITS])],
    ),
    Case(
        TR,
        "overflows: a balance may reach its maximum, not pass it",
        [
            (
                one(
                    t("t1", "a", "b", AMOUNT_MAX),
                    t("t2", "c", "b", AMOUNT_MAX - 1),
                    t("t3", "a", "b", 1),
                ),
                [R.OK, R.OK, R.OVERFLOWS_BALANCE],
            )
        ],
    ),
]


# --- precedence: a retry is recognised before the event is judged ----------------------------

PR = "create_transfers: precedence"
PRECEDENCE_CASES = [
    Case(
        PR,
        "exists_with_different_credit_account_id, not accounts_must_be_different",
        [
            (one(t("t1")), [R.OK]),
            (one(t("t1", "a", "a")), [R.EXISTS_WITH_DIFFERENT_CREDIT_ACCOUNT_ID]),
        ],
    ),
    Case(
        PR,
        "exists_with_different_ledger, not ledger_must_not_be_zero",
        [(one(t("t1")), [R.OK]), (one(t("t1", ledger=0)), [R.EXISTS_WITH_DIFFERENT_LEDGER])],
    ),
    Case(
        PR,
        "exists_with_different_flags, not flags_are_mutually_exclusive",
        [
            (one(t("t1")), [R.OK]),
            (
                one(t("t1", flags=F.PENDING | F.VOID_PENDING, pending_id="p")),
                [R.EXISTS_WITH_DIFFERENT_FLAGS],
            ),
        ],
    ),
    Case(
        PR,
        "exists_with_different_pending_id, not pending_id_must_be_zero",
        [
            (one(t("t1")), [R.OK]),
            (one(t("t1", pending_id="p")), [R.EXISTS_WITH_DIFFERENT_PENDING_ID]),
        ],
    ),
    Case(
        PR,
        "exists_with_different_debit_account_id, not debit_account_id_must_not_be_zero",
        [(one(t("t1")), [R.OK]), (one(t("t1", "")), [R.EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID])],
    ),
    Case(
        PR,
        "exists_with_different_amount, not amount_too_large",
        [
            (one(t("t1")), [R.OK]),
            (one(t("t1", amount=AMOUNT_MAX + 1)), [R.EXISTS_WITH_DIFFERENT_AMOUNT]),
        ],
    ),
    Case(
        PR,
        "exists, even where a new transfer would exceed the credits",
        [(one(t("t1", "dr", "a", 100)), [R.OK]), (one(t("t1", "dr", "a", 100)), [R.EXISTS])],
    ),
    Case(
        PR,
        "debit_account_id_must_not_be_zero before pending_id_must_be_zero",
        [(one(t("t1", "", pending_id="p")), [R.DEBIT_ACCOUNT_ID_MUST_NOT_BE_EMPTY])],
    ),
    Case(
        PR,
        "accounts_must_be_different before timeout_reserved_for_pending_transfer",
        [(one(t("t1", "a", "a", expires_in=5)), [R.ACCOUNTS_MUST_BE_DIFFERENT])],
    ),
    Case(
        PR,
        "pending_id_must_be_zero before ledger_must_not_be_zero",
        [(one(t("t1", ledger=0, pending_id="p")), [R.PENDING_ID_MUST_BE_EMPTY])],
    ),
    Case(
        PR,
        "ledger_must_not_be_zero before debit_account_not_found",
        [(one(t("t1", "nobody", ledger=0)), [R.LEDGER_MUST_NOT_BE_ZERO])],
    ),
    Case(
        PR,
        "debit_account_not_found before credit_account_not_found",
        [(one(t("t1", "nobody", "none")), [R.DEBIT_ACCOUNT_NOT_FOUND])],
    ),
    Case(
        PR,
        "accounts_must_have_the_same_ledger before the closed accounts",
        [(one(t("t1", "shut", "x")), [R.ACCOUNTS_MUST_HAVE_THE_SAME_LEDGER])],
    ),
    Case(
        PR,
        "debit_account_already_closed before exceeds_credits",
        [(one(t("t1", "shut", "cr", 500)), [R.DEBIT_ACCOUNT_CLOSED])],
    ),
    Case(
        PR,
        "overflows before exceeds_credits",
        [
            (
                one(
                    t("t0", "a", "b", AMOUNT_MAX),
                    t("t1", "c", "b", AMOUNT_MAX - 1),
                    t("t2", "dr", "b", 101),
                ),
                [R.OK, R.OK, R.OVERFLOWS_BALANCE],
            )
        ],
    ),
]


# --- exists and the exists_with_different_* codes --------------------------------------------

EX = "create_transfers: exists"
EXISTS_CASES = [
    Case(
        EX,
        "exists",
        [
            (one(t("t1", ref="r")), [R.OK]),
            (one(t("t1", ref="r")), [R.EXISTS]),
            Balances("a", (0, 10, 0, 0)),
        ],
    ),
    Case(
        EX,
        "exists within one batch, the money moved once",
        [(one(t("t1"), t("t1")), [R.OK, R.EXISTS]), Balances("a", (0, 10, 0, 0))],
    ),
    Case(
        EX,
        "exists_with_different_flags",
        [(one(t("t1")), [R.OK]), (one(pending("t1", amount=10)), [R.EXISTS_WITH_DIFFERENT_FLAGS])],
    ),
    Case(
        EX,
        "exists_with_different_flags: linked is a flag",
        [
            (one(t("t1")), [R.OK]),
            (
                one(t("t1", flags=LINKED), t("t2")),
                [R.EXISTS_WITH_DIFFERENT_FLAGS, R.LINKED_EVENT_FAILED],
            ),
        ],
    ),
    Case(
        EX,
        "exists_with_different_pending_id",
        [
            (one(pending("p"), pending("q"), post("x", "p")), [R.OK] * 3),
            (one(post("x", "q")), [R.EXISTS_WITH_DIFFERENT_PENDING_ID]),
        ],
    ),
    Case(
        EX,
        "exists_with_different_timeout",
        [
            (one(pending("p", expires_in=5)), [R.OK]),
            (one(pending("p", expires_in=6)), [R.EXISTS_WITH_DIFFERENT_EXPIRES_AT]),
        ],
    ),
    Case(
        EX,
        "exists_with_different_debit_account_id",
        [
            (one(t("t1")), [R.OK]),
            (one(t("t1", "c", "b")), [R.EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID]),
        ],
    ),
    Case(
        EX,
        "exists_with_different_credit_account_id",
        [
            (one(t("t1")), [R.OK]),
            (one(t("t1", "a", "c")), [R.EXISTS_WITH_DIFFERENT_CREDIT_ACCOUNT_ID]),
        ],
    ),
    Case(
        EX,
        "exists_with_different_amount",
        [(one(t("t1")), [R.OK]), (one(t("t1", amount=11)), [R.EXISTS_WITH_DIFFERENT_AMOUNT])],
    ),
    Case(
        EX,
        "exists_with_different_user_data_128: another ref",
        [(one(t("t1")), [R.OK]), (one(t("t1", ref="r")), [R.EXISTS_WITH_DIFFERENT_REF])],
    ),
    Case(
        EX,
        "exists_with_different_ledger",
        [(one(t("t1")), [R.OK]), (one(t("t1", ledger=2)), [R.EXISTS_WITH_DIFFERENT_LEDGER])],
    ),
    Case(
        EX,
        "exists_with_different_code",
        [(one(t("t1")), [R.OK]), (one(t("t1", code=2)), [R.EXISTS_WITH_DIFFERENT_CODE])],
    ),
    Case(
        EX,
        "the order: flags, pending_id, timeout, accounts, amount, user data, ledger, code",
        [
            (one(t("t1")), [R.OK]),
            (
                one(t("t1", "c", "a", 11, ledger=2, code=2, ref="r")),
                [R.EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID],
            ),
            (
                one(t("t1", "a", "b", 11, ledger=2, code=2, ref="r")),
                [R.EXISTS_WITH_DIFFERENT_AMOUNT],
            ),
            (one(t("t1", ledger=2, code=2, ref="r")), [R.EXISTS_WITH_DIFFERENT_REF]),
            (one(t("t1", ledger=2, code=2)), [R.EXISTS_WITH_DIFFERENT_LEDGER]),
        ],
    ),
    Case(
        EX,
        "a post repeated as sent: exists",
        [
            (one(pending("p"), post("x", "p", 12)), [R.OK, R.OK]),
            (one(post("x", "p", 12)), [R.EXISTS]),
        ],
    ),
    Case(
        EX,
        "a post repeated naming the pending transfer's accounts, ledger and code: exists",
        [
            (one(pending("p"), post("x", "p")), [R.OK, R.OK]),
            (one(post("x", "p", 30, debit="a", credit="b", ledger=1, code=1)), [R.EXISTS]),
        ],
    ),
    Case(
        EX,
        "a full post repeated with the maximum amount or the pending amount: exists",
        [
            (one(pending("p"), post("x", "p")), [R.OK, R.OK]),
            (one(post("x", "p"), post("x", "p", 30)), [R.EXISTS, R.EXISTS]),
        ],
    ),
    Case(
        EX,
        "a partial post repeated with the maximum amount: exists_with_different_amount",
        [
            (one(pending("p"), post("x", "p", 12)), [R.OK, R.OK]),
            (one(post("x", "p")), [R.EXISTS_WITH_DIFFERENT_AMOUNT]),
        ],
    ),
    Case(
        EX,
        "a void repeated with 0 or the pending amount: exists",
        [
            (one(pending("p"), void("v", "p")), [R.OK, R.OK]),
            (one(void("v", "p"), void("v", "p", 30)), [R.EXISTS, R.EXISTS]),
        ],
    ),
    Case(
        EX,
        "a post repeated with another debit account",
        [
            (one(pending("p"), post("x", "p")), [R.OK, R.OK]),
            (one(post("x", "p", debit="c")), [R.EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID]),
        ],
    ),
    Case(
        EX,
        "a post repeated with another code",
        [
            (one(pending("p"), post("x", "p")), [R.OK, R.OK]),
            (one(post("x", "p", code=2)), [R.EXISTS_WITH_DIFFERENT_CODE]),
        ],
    ),
    Case(
        EX,
        "a post repeated without ref compares the pending transfer's",
        [
            (one(pending("p", ref="r"), post("x", "p")), [R.OK, R.OK]),
            (
                one(post("x", "p"), post("x", "p", ref="r"), post("x", "p", ref="s")),
                [R.EXISTS, R.EXISTS, R.EXISTS_WITH_DIFFERENT_REF],
            ),
        ],
    ),
]


# --- id_already_failed: a retry answers as the first attempt did -----------------------------

FA = "create_transfers: id_already_failed"


def _retried(rule: str, first: Transfer, refusal: CreateTransferResult, *before: Transfer) -> Case:
    steps: list[Step] = [(list(before), [R.OK] * len(before))] if before else []
    steps += [(one(first), [refusal]), (one(first), [R.ID_ALREADY_FAILED])]
    return Case(FA, rule, steps)


FAILED_CASES = [
    _retried("after debit_account_not_found", t("t1", "nobody"), R.DEBIT_ACCOUNT_NOT_FOUND),
    _retried("after credit_account_not_found", t("t1", "a", "nobody"), R.CREDIT_ACCOUNT_NOT_FOUND),
    _retried("after pending_transfer_not_found", post("x", "p"), R.PENDING_TRANSFER_NOT_FOUND),
    _retried("after exceeds_credits", t("t1", "dr", "a", 101), R.EXCEEDS_CREDITS),
    _retried("after exceeds_debits", t("t1", "a", "cr", 101), R.EXCEEDS_DEBITS),
    _retried("after debit_account_already_closed", t("t1", "shut", "a"), R.DEBIT_ACCOUNT_CLOSED),
    _retried("after credit_account_already_closed", t("t1", "a", "shut"), R.CREDIT_ACCOUNT_CLOSED),
    Case(
        FA,
        "even once the transfer would succeed",
        [
            (one(t("t1", "dr", "a", 150)), [R.EXCEEDS_CREDITS]),
            (one(t("f", "c", "dr", 100)), [R.OK]),
            (one(t("t1", "dr", "a", 150)), [R.ID_ALREADY_FAILED]),
            Balances("dr", (0, 0, 0, 200)),
        ],
    ),
    Case(
        FA,
        "even once the account exists",
        [
            (one(t("t1", "a", "late")), [R.CREDIT_ACCOUNT_NOT_FOUND]),
            (one(NewAccount("late", 1, 1)), [A.OK]),
            (one(t("t1", "a", "late")), [R.ID_ALREADY_FAILED]),
        ],
    ),
    Case(
        FA,
        "even once the pending transfer exists",
        [
            (one(post("x", "p")), [R.PENDING_TRANSFER_NOT_FOUND]),
            (one(pending("p")), [R.OK]),
            (one(post("x", "p")), [R.ID_ALREADY_FAILED]),
        ],
    ),
    Case(
        FA,
        "whatever the retry's fields",
        [
            (one(t("t1", "nobody")), [R.DEBIT_ACCOUNT_NOT_FOUND]),
            (one(t("t1", "a", "b", 1)), [R.ID_ALREADY_FAILED]),
        ],
    ),
    Case(
        FA,
        "within the batch that refused it",
        [
            (
                one(t("t1", "dr", "a", 101), t("t1", "dr", "a", 1)),
                [R.EXCEEDS_CREDITS, R.ID_ALREADY_FAILED],
            )
        ],
    ),
    Case(
        FA,
        "a refusal inside a linked chain is remembered, the chain's other ids are not",
        [
            (
                one(t("t1", flags=LINKED), t("t2", "dr", "a", 101)),
                [R.LINKED_EVENT_FAILED, R.EXCEEDS_CREDITS],
            ),
            (one(t("t1"), t("t2", "dr", "a", 101)), [R.OK, R.ID_ALREADY_FAILED]),
        ],
    ),
    Case(
        FA,
        "a refusal that follows from the transfer itself is not remembered: it repeats",
        [
            (one(t("t1", "a", "a")), [R.ACCOUNTS_MUST_BE_DIFFERENT]),
            (one(t("t1", "a", "a")), [R.ACCOUNTS_MUST_BE_DIFFERENT]),
            (one(t("t1")), [R.OK]),
        ],
    ),
    Case(
        FA,
        "an overflow is not remembered",
        [
            (
                one(t("t0", "a", "b", AMOUNT_MAX), t("t1", "c", "b", AMOUNT_MAX)),
                [R.OK, R.OVERFLOWS_BALANCE],
            ),
            (one(t("t1", "c", "b", 1)), [R.OK]),
        ],
    ),
    Case(
        FA,
        "exists takes precedence: a recorded id is never reported failed",
        [
            (one(t("t1")), [R.OK]),
            (one(t("t1", "nobody")), [R.EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID]),
            (one(t("t1")), [R.EXISTS]),
        ],
    ),
    Case(
        FA,
        "reserved_flag and the id come first",
        [
            (one(t("t1", "nobody")), [R.DEBIT_ACCOUNT_NOT_FOUND]),
            (one(t("t1", flags=F(64))), [R.FLAGS_INVALID]),
        ],
    ),
]


# --- two-phase transfers ---------------------------------------------------------------------

TP = "two-phase transfers"
TWO_PHASE_CASES = [
    Case(
        TP,
        "a pending transfer reserves",
        [(one(pending("p")), [R.OK]), Balances("a", (30, 0, 0, 0)), Balances("b", (0, 0, 30, 0))],
    ),
    Case(
        TP,
        "post the whole amount: amount_max",
        [
            (one(pending("p"), post("x", "p")), [R.OK, R.OK]),
            Balances("a", (0, 30, 0, 0)),
            Recorded("x", 30),
        ],
    ),
    Case(
        TP,
        "post part: the rest is released",
        [
            (one(pending("p"), post("x", "p", 12)), [R.OK, R.OK]),
            Balances("a", (0, 12, 0, 0)),
            Balances("b", (0, 0, 0, 12)),
        ],
    ),
    Case(
        TP,
        "post 0: nothing is posted, the whole reservation released",
        [
            (one(pending("p"), post("x", "p", 0)), [R.OK, R.OK]),
            Balances("a", (0, 0, 0, 0)),
            Recorded("x", 0),
        ],
    ),
    Case(
        TP,
        "void with 0: the whole reservation released",
        [
            (one(pending("p"), void("v", "p")), [R.OK, R.OK]),
            Balances("a", (0, 0, 0, 0)),
            Recorded("v", 30),
        ],
    ),
    Case(
        TP, "void with the pending amount", [(one(pending("p"), void("v", "p", 30)), [R.OK, R.OK])]
    ),
    Case(
        TP,
        "a post takes the pending transfer's accounts, ledger and code",
        [
            (one(pending("p", "a", "c"), post("x", "p")), [R.OK, R.OK]),
            Balances("c", (0, 100, 0, 130)),
        ],
    ),
    Case(
        TP,
        "a post may name the same accounts, ledger and code",
        [
            (
                one(pending("p"), post("x", "p", debit="a", credit="b", ledger=1, code=1)),
                [R.OK, R.OK],
            )
        ],
    ),
    Case(
        TP,
        "a post takes the pending transfer's user data when it has none",
        [(one(pending("p", ref="r"), post("x", "p")), [R.OK, R.OK]), Recorded("x", 30, "r")],
    ),
    Case(
        TP,
        "a post keeps user data of its own",
        [
            (one(pending("p", ref="r"), post("x", "p", ref="s")), [R.OK, R.OK]),
            Recorded("x", 30, "s"),
        ],
    ),
    Case(TP, "pending_transfer_not_found", [(one(post("x", "p")), [R.PENDING_TRANSFER_NOT_FOUND])]),
    Case(
        TP,
        "pending_transfer_not_pending",
        [(one(t("t1"), post("x", "t1")), [R.OK, R.PENDING_TRANSFER_NOT_PENDING])],
    ),
    Case(
        TP,
        "pending_transfer_has_different_debit_account_id",
        [
            (
                one(pending("p"), post("x", "p", debit="c")),
                [R.OK, R.PENDING_TRANSFER_HAS_DIFFERENT_DEBIT_ACCOUNT_ID],
            )
        ],
    ),
    Case(
        TP,
        "pending_transfer_has_different_credit_account_id",
        [
            (
                one(pending("p"), post("x", "p", credit="c")),
                [R.OK, R.PENDING_TRANSFER_HAS_DIFFERENT_CREDIT_ACCOUNT_ID],
            )
        ],
    ),
    Case(
        TP,
        "pending_transfer_has_different_ledger",
        [
            (
                one(pending("p"), post("x", "p", ledger=2)),
                [R.OK, R.PENDING_TRANSFER_HAS_DIFFERENT_LEDGER],
            )
        ],
    ),
    Case(
        TP,
        "pending_transfer_has_different_code",
        [
            (
                one(pending("p"), post("x", "p", code=2)),
                [R.OK, R.PENDING_TRANSFER_HAS_DIFFERENT_CODE],
            )
        ],
    ),
    Case(
        TP,
        "exceeds_pending_transfer_amount",
        [(one(pending("p"), post("x", "p", 31)), [R.OK, R.EXCEEDS_PENDING_TRANSFER_AMOUNT])],
    ),
    Case(
        TP,
        "exceeds_pending_transfer_amount: a void of more",
        [(one(pending("p"), void("v", "p", 31)), [R.OK, R.EXCEEDS_PENDING_TRANSFER_AMOUNT])],
    ),
    Case(
        TP,
        "pending_transfer_has_different_amount: a void of less",
        [(one(pending("p"), void("v", "p", 29)), [R.OK, R.PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT])],
    ),
    Case(
        TP,
        "pending_transfer_already_posted",
        [
            (
                one(pending("p"), post("x", "p"), post("y", "p")),
                [R.OK, R.OK, R.PENDING_TRANSFER_ALREADY_POSTED],
            )
        ],
    ),
    Case(
        TP,
        "pending_transfer_already_voided",
        [
            (
                one(pending("p"), void("v", "p"), post("y", "p")),
                [R.OK, R.OK, R.PENDING_TRANSFER_ALREADY_VOIDED],
            )
        ],
    ),
    Case(
        TP,
        "pending_transfer_expired: at its deadline",
        [
            (one(pending("p", expires_in=1)), [R.OK]),
            Advance(MINUTE_US),
            (one(post("x", "p"), void("v", "p")), [R.PENDING_TRANSFER_EXPIRED] * 2),
        ],
    ),
    Case(
        TP,
        "before its deadline a pending transfer still posts",
        [
            (one(pending("p", expires_in=1)), [R.OK]),
            Advance(MINUTE_US - 1),
            (one(post("x", "p")), [R.OK]),
        ],
    ),
    Case(
        TP,
        "the pending checks come before already_posted",
        [
            (one(pending("p"), post("x", "p")), [R.OK, R.OK]),
            (one(post("y", "p", code=2)), [R.PENDING_TRANSFER_HAS_DIFFERENT_CODE]),
        ],
    ),
    Case(
        TP,
        "a closed account: a void is allowed, a post is not",
        [
            (one(pending("p1", "a", "c"), pending("p2", "a", "c")), [R.OK, R.OK]),
            Close("a"),
            (one(post("x", "p1"), void("v", "p2")), [R.DEBIT_ACCOUNT_CLOSED, R.OK]),
        ],
    ),
    Case(
        TP,
        "pending balances count for the credit bound too",
        [
            (one(pending("p", "a", "cr", 60)), [R.OK]),
            (one(t("t1", "a", "cr", 41)), [R.EXCEEDS_DEBITS]),
        ],
    ),
    Case(
        TP,
        "a void gives back what the bound reserved",
        [(one(pending("p", "dr", "a", 100), void("v", "p"), t("t1", "dr", "a", 100)), [R.OK] * 3)],
    ),
]


# --- linked events ---------------------------------------------------------------------------

LK = "linked events"
LINKED_CASES = [
    Case(
        LK,
        "a chain succeeds as a whole",
        [(one(t("t1", "c", "dr", 50, flags=LINKED), t("t2", "dr", "a", 150)), [R.OK, R.OK])],
    ),
    Case(
        LK,
        "a chain fails as a whole: linked_event_failed for the others",
        [
            (
                one(t("t1", flags=LINKED), t("t2", "dr", "a", 101, flags=LINKED), t("t3")),
                [R.LINKED_EVENT_FAILED, R.EXCEEDS_CREDITS, R.LINKED_EVENT_FAILED],
            ),
            Balances("a", (0, 0, 0, 0)),
        ],
    ),
    Case(
        LK,
        "linked_event_chain_open",
        [(one(t("t1"), t("t2", flags=LINKED)), [R.OK, R.LINKED_EVENT_CHAIN_OPEN])],
    ),
    Case(
        LK,
        "an open chain fails whole",
        [
            (
                one(t("t1", flags=LINKED), t("t2", flags=LINKED)),
                [R.LINKED_EVENT_FAILED, R.LINKED_EVENT_CHAIN_OPEN],
            ),
            Balances("a", (0, 0, 0, 0)),
        ],
    ),
    Case(
        LK,
        "chains in one batch stand or fall independently",
        [
            (
                one(
                    t("t1", flags=LINKED),
                    t("t2"),
                    t("t3", flags=LINKED),
                    t("t4", "dr", "a", 500),
                    t("t5"),
                ),
                [R.OK, R.OK, R.LINKED_EVENT_FAILED, R.EXCEEDS_CREDITS, R.OK],
            )
        ],
    ),
    Case(
        LK,
        "a chain sees its own earlier events",
        [
            (
                one(
                    pending("p", flags=LINKED), post("x", "p", flags=LINKED), t("t1", "b", "c", 30)
                ),
                [R.OK] * 3,
            )
        ],
    ),
    Case(
        LK,
        "a failed chain undoes a post: the pending transfer may be posted again",
        [
            (one(pending("p")), [R.OK]),
            (
                one(post("x", "p", 10, flags=LINKED), t("t1", "a", "a")),
                [R.LINKED_EVENT_FAILED, R.ACCOUNTS_MUST_BE_DIFFERENT],
            ),
            (one(post("x", "p", 20)), [R.OK]),
            Balances("a", (0, 20, 0, 0)),
        ],
    ),
    Case(
        LK,
        "ids of a failed chain's other events may be sent again",
        [
            (
                one(t("t1", flags=LINKED), t("t2", "a", "a")),
                [R.LINKED_EVENT_FAILED, R.ACCOUNTS_MUST_BE_DIFFERENT],
            ),
            (one(t("t1"), t("t2")), [R.OK, R.OK]),
        ],
    ),
]


# --- balancing transfers ---------------------------------------------------------------------

BA = "balancing transfers"
BALANCING_CASES = [
    Case(
        BA,
        "balancing_debit moves what the debit account holds, at most the amount",
        [
            (one(t("t1", "dr", "a", 500, flags=F.BALANCING_DEBIT)), [R.OK]),
            Recorded("t1", 100),
            Balances("dr", (0, 100, 0, 100)),
        ],
    ),
    Case(
        BA,
        "balancing_debit under a smaller amount moves the amount",
        [(one(t("t1", "dr", "a", 30, flags=F.BALANCING_DEBIT)), [R.OK]), Recorded("t1", 30)],
    ),
    Case(
        BA,
        "balancing_debit with amount_max: all there is",
        [
            (one(t("t1", "dr", "a", AMOUNT_MAX, flags=F.BALANCING_DEBIT)), [R.OK]),
            Recorded("t1", 100),
        ],
    ),
    Case(
        BA,
        "balancing_debit counts pending debits as spent",
        [
            (
                one(
                    pending("p", "dr", "a", 60),
                    t("t1", "dr", "a", AMOUNT_MAX, flags=F.BALANCING_DEBIT),
                ),
                [R.OK, R.OK],
            ),
            Recorded("t1", 40),
        ],
    ),
    Case(
        BA,
        "balancing_debit of an account with nothing left moves 0",
        [
            (
                one(t("t0", "dr", "a", 100), t("t1", "dr", "a", 50, flags=F.BALANCING_DEBIT)),
                [R.OK, R.OK],
            ),
            Recorded("t1", 0),
        ],
    ),
    Case(
        BA,
        "balancing_debit of an account that owes moves 0",
        [(one(t("t1", "a", "b", AMOUNT_MAX, flags=F.BALANCING_DEBIT)), [R.OK]), Recorded("t1", 0)],
    ),
    Case(
        BA,
        "balancing_credit fills the room the credit account has",
        [
            (one(t("t1", "a", "cr", 500, flags=F.BALANCING_CREDIT)), [R.OK]),
            Recorded("t1", 100),
            Balances("cr", (0, 100, 0, 100)),
        ],
    ),
    Case(
        BA,
        "balancing_debit and balancing_credit: the smaller of the two",
        [
            (one(t("t0", "a", "cr", 70)), [R.OK]),
            (
                one(t("t1", "dr", "cr", AMOUNT_MAX, flags=F.BALANCING_DEBIT | F.BALANCING_CREDIT)),
                [R.OK],
            ),
            Recorded("t1", 30),
        ],
    ),
    Case(
        BA,
        "a pending balancing transfer reserves what it may",
        [
            (one(pending("p", "dr", "a", 500, flags=F.BALANCING_DEBIT)), [R.OK]),
            Recorded("p", 100),
            Balances("dr", (100, 0, 0, 100)),
        ],
    ),
    Case(
        BA,
        "exists: retried with the same cap, whatever it moved",
        [
            (one(t("t1", "dr", "a", 500, flags=F.BALANCING_DEBIT)), [R.OK]),
            (one(t("t1", "dr", "a", 500, flags=F.BALANCING_DEBIT)), [R.EXISTS]),
            Balances("dr", (0, 100, 0, 100)),
        ],
    ),
    Case(
        BA,
        "exists_with_different_amount: retried with a cap below what it moved",
        [
            (one(t("t1", "dr", "a", 500, flags=F.BALANCING_DEBIT)), [R.OK]),
            (
                one(t("t1", "dr", "a", 99, flags=F.BALANCING_DEBIT)),
                [R.EXISTS_WITH_DIFFERENT_AMOUNT],
            ),
        ],
    ),
    Case(
        BA,
        "a balancing transfer of a closed account is refused",
        [(one(t("t1", "shut", "a", 5, flags=F.BALANCING_DEBIT)), [R.DEBIT_ACCOUNT_CLOSED])],
    ),
]


# --- recipes ---------------------------------------------------------------------------------

RC = "recipes"
RECIPE_CASES = [
    Case(
        RC,
        "close an account: move what is left (balancing_debit), then close it",
        [
            (one(t("t1", "dr", "a", AMOUNT_MAX, flags=F.BALANCING_DEBIT)), [R.OK]),
            Close("dr"),
            (one(t("t2", "c", "dr", 5)), [R.CREDIT_ACCOUNT_CLOSED]),
            Balances("dr", (0, 100, 0, 100)),
        ],
    ),
    Case(
        RC,
        "balance-conditional transfer: reserve the threshold, release it, pay; one chain",
        [
            (
                one(
                    pending("check", "dr", "c", 90, flags=LINKED),
                    void("undo", "check", flags=LINKED),
                    t("pay", "a", "b", 60),
                ),
                [R.OK, R.OK, R.OK],
            ),
            Balances("b", (0, 0, 0, 60)),
            Balances("dr", (0, 0, 0, 100)),
        ],
    ),
    Case(
        RC,
        "balance-conditional transfer: below the threshold nothing moves",
        [
            (
                one(
                    pending("check", "dr", "c", 150, flags=LINKED),
                    void("undo", "check", flags=LINKED),
                    t("pay", "a", "b", 60),
                ),
                [R.EXCEEDS_CREDITS, R.LINKED_EVENT_FAILED, R.LINKED_EVENT_FAILED],
            ),
            Balances("b", (0, 0, 0, 0)),
        ],
    ),
    Case(
        RC,
        "balance bounds: an upper bound on an account through a control account",
        [
            (one(t("t1", "a", "cr", 80)), [R.OK]),
            (one(t("t2", "a", "cr", 30)), [R.EXCEEDS_DEBITS]),
            (one(t("t3", "a", "cr", 30, flags=F.BALANCING_CREDIT)), [R.OK]),
            Recorded("t3", 20),
        ],
    ),
    Case(
        RC,
        "rate limiting: an allowance spent by pending transfers that expire",
        [
            (one(pending("s1", "dr", "a", 70, expires_in=1)), [R.OK]),
            (one(pending("s2", "dr", "a", 40, expires_in=1)), [R.EXCEEDS_CREDITS]),
            (one(pending("s3", "dr", "a", 30, expires_in=1)), [R.OK]),
        ],
    ),
]


# --- gongji's own refusals, where TigerBeetle's types make the case impossible ---------------

GO = "gongji's own"
OWN_CASES = [
    Case(
        GO,
        "amount_must_not_be_negative",
        [(one(t("t1", amount=-1)), [R.AMOUNT_MUST_NOT_BE_NEGATIVE])],
    ),
    Case(
        GO,
        "amount_too_large: past amount_max",
        [(one(t("t1", amount=AMOUNT_MAX + 1)), [R.AMOUNT_TOO_LARGE])],
    ),
    Case(GO, "ref_too_long", [(one(t("t1", ref=TOO_LONG)), [R.REF_TOO_LONG])]),
    Case(
        GO,
        "expires_at_must_be_in_the_future",
        [
            Advance(MINUTE_US),
            (one(pending("p", expires_in=1)), [R.EXPIRES_AT_MUST_BE_IN_THE_FUTURE]),
        ],
    ),
    Case(
        GO,
        "an account's ref_too_long",
        [(one(NewAccount("n", 1, 1, ref=TOO_LONG)), [A.REF_TOO_LONG])],
    ),
    Case(
        GO,
        "an account's region_too_long",
        [(one(NewAccount("n", 1, 1, region="1234567")), [A.REGION_TOO_LONG])],
    ),
]

CASES: list[Case] = [
    *ACCOUNT_CASES,
    *TR_CASES,
    *PRECEDENCE_CASES,
    *EXISTS_CASES,
    *FAILED_CASES,
    *TWO_PHASE_CASES,
    *LINKED_CASES,
    *BALANCING_CASES,
    *RECIPE_CASES,
    *OWN_CASES,
]


# --- deliberate differences: named, skipped, with the reason ---------------------------------

DIFFERENCES = [
    Difference(
        LK,
        "exists fails a linked chain (the chain's other events: linked_event_failed)",
        "gongji counts exists as success inside a chain, so that a whole chain sent again after a"
        " lost answer reads exists for each event rather than failing; a chain is still"
        " all-or-nothing (docs/ledger.md, D1)",
        [
            (one(t("t1", flags=LINKED), t("t2")), [R.OK, R.OK]),
            (one(t("t1", flags=LINKED), t("t2")), [R.EXISTS, R.EXISTS]),
            (one(t("t1", flags=LINKED), t("t3")), [R.EXISTS, R.OK]),
            Balances("a", (0, 30, 0, 0)),
        ],
    ),
    Difference(
        TR,
        "timestamp_must_be_zero; flags.imported and the imported_event_* results",
        "gongji's transfers carry no client timestamp: the ledger stamps every event, and there"
        " is no import of historical events (D2)",
    ),
    Difference(
        TR,
        "flags.closing_debit / flags.closing_credit; closing_transfer_must_be_pending",
        "accounts are closed and reopened by an operation of their own (set_account_closed),"
        " which the wallet's lifecycle calls; there are no closing transfers (D3)",
    ),
    Difference(
        TR,
        "overflows_debits_pending, overflows_credits_pending, overflows_debits_posted,"
        " overflows_credits_posted, overflows_debits, overflows_credits",
        "balances are BIGINT and amounts at most 2^62: one code, overflows_balance, for a total"
        " of pending and posted past 2^63 - 1 on either side (D4)",
    ),
    Difference(
        TR,
        "overflows_timeout; timeout in seconds after the transfer's timestamp",
        "a pending transfer takes an absolute deadline, expires_at_us, refused when not in the"
        " future (expires_at_must_be_in_the_future); nothing can overflow (D5)",
    ),
    Difference(
        EX,
        "exists_with_different_user_data_64 / user_data_32 on transfers",
        "a transfer has one user field, ref (text of up to 64 characters), compared where"
        " user_data_128 is; an account's region stands where its user_data_32 is (D6)",
    ),
    Difference(
        ACC,
        "exists_with_different_flags when an account closed since its creation is created again",
        "closed is the account's state, changed by closing and reopening; a retried creation"
        " compares the flags that were asked for, without it (D7)",
        [
            (one(NewAccount("n", 1, 1)), [A.OK]),
            Close("n"),
            (one(NewAccount("n", 1, 1)), [A.EXISTS]),
        ],
    ),
    Difference(
        ACC,
        "flags.linked, flags.history, flags.imported on accounts; linked_event_* for accounts",
        "accounts are created one by one (each succeeds on its own); every account's history is"
        " kept, read by account_history (D8)",
    ),
    Difference(
        ACC,
        "debits_pending_must_be_zero and the other balance fields; reserved_field",
        "a new account is asked for without balances or reserved fields: nothing to check (D9)",
    ),
    Difference(
        TP,
        "a pending transfer expires at its deadline without a request",
        "gongji's expiry job (expire_pending) releases what expired; until it runs, the"
        " reservation still counts against the bound, though no post or void can resolve it"
        " (pending_transfer_expired) (D10)",
    ),
]
