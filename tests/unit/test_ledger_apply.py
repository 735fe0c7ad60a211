"""The ledger's rule book, applied in memory: :func:`gongji.ledger.apply.apply_batch` on a
``BatchState`` (no database). One scenario per result code, then the rules that need a closer
look: chains and the journal that undoes them, two-phase transfers, expiry, bounds, overflow and
closed accounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from gongji.ledger.apply import Balances, BatchState, apply_batch, expire
from gongji.ledger.types import (
    AMOUNT_MAX,
    BALANCE_MAX,
    ID_LENGTH_MAX,
    AccountFlags,
    CreateTransferResult,
    PendingOutcome,
    Transfer,
    TransferFlags,
)

R = CreateTransferResult
F = TransferFlags
NOW = 1_772_416_800_000_000  # 2026-03-02 02:00 UTC, in microseconds
LATER = NOW + 60_000_000
LINKED = F.LINKED


def _balances(
    ledger: int = 1,
    flags: AccountFlags = AccountFlags.NONE,
    *,
    debits_posted: int = 0,
    credits_posted: int = 0,
) -> Balances:
    return Balances(
        ledger=ledger,
        flags=flags,
        debits_pending=0,
        debits_posted=debits_posted,
        credits_pending=0,
        credits_posted=credits_posted,
    )


def fresh_state(now_us: int = NOW) -> BatchState:
    """A small chart: free accounts, two bounded ones, another ledger, a closed one, full ones."""
    return BatchState(
        now_us=now_us,
        accounts={
            "a": _balances(),
            "b": _balances(),
            "c": _balances(),
            "saver": _balances(
                flags=AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS, credits_posted=100
            ),
            "capped": _balances(
                flags=AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS, debits_posted=100
            ),
            "yen": _balances(ledger=2),
            "yen2": _balances(ledger=2),
            "shut": _balances(flags=AccountFlags.CLOSED),
            "full_credits": _balances(credits_posted=BALANCE_MAX - 10),
            "full_debits": _balances(debits_posted=BALANCE_MAX - 10),
        },
        transfers={},
        resolutions={},
    )


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
    expires_at_us: int | None = None,
    ref: str | None = None,
) -> Transfer:
    return Transfer(
        id=id,
        debit_account_id=debit,
        credit_account_id=credit,
        amount=amount,
        ledger=ledger,
        code=code,
        flags=flags,
        pending_id=pending_id,
        expires_at_us=expires_at_us,
        ref=ref,
    )


def pending(
    id: str,
    debit: str = "a",
    credit: str = "b",
    amount: int = 30,
    *,
    flags: TransferFlags = F.NONE,
    expires_at_us: int | None = LATER,
) -> Transfer:
    return t(id, debit, credit, amount, flags=F.PENDING | flags, expires_at_us=expires_at_us)


def post(
    id: str,
    pending_id: str,
    amount: int = AMOUNT_MAX,
    *,
    flags: TransferFlags = F.NONE,
    ledger: int = 0,
    code: int = 0,
    expires_at_us: int | None = None,
) -> Transfer:
    """A post that leaves accounts (and by default ledger and code) to the pending transfer; by
    default of the whole pending amount."""
    return t(
        id,
        "",
        "",
        amount,
        ledger=ledger,
        code=code,
        flags=F.POST_PENDING | flags,
        pending_id=pending_id,
        expires_at_us=expires_at_us,
    )


def void(id: str, pending_id: str, amount: int = 0) -> Transfer:
    return t(id, "", "", amount, ledger=0, code=0, flags=F.VOID_PENDING, pending_id=pending_id)


def given(state: BatchState, *events: Transfer) -> BatchState:
    """Apply set-up events one batch each; each must succeed."""
    for event in events:
        assert apply_batch(state, [event]) == [R.OK], event
    return state


def balances(state: BatchState, account_id: str) -> tuple[int, int, int, int]:
    """(debits_pending, debits_posted, credits_pending, credits_posted)."""
    return state.accounts[account_id].snapshot()


def everything(state: BatchState) -> object:
    """All a batch may change, for comparing before and after."""
    return (
        {k: v.snapshot() for k, v in state.accounts.items()},
        dict(state.transfers),
        dict(state.resolutions),
        list(state.new_transfers),
        [(r.pending_id, r.outcome, r.transfer_id) for r in state.new_resolutions],
    )


# --- one scenario per result code -----------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    rule: str
    batch: Sequence[Transfer]
    expected: Sequence[CreateTransferResult]
    before: Sequence[Transfer] = field(default_factory=tuple)
    now_us: int = NOW


TOO_LONG = "x" * (ID_LENGTH_MAX + 1)
P = pending("p")
P_FOREVER = pending("p_forever", expires_at_us=None)

SCENARIOS = [
    Scenario("a valid transfer is ok", [t("t1")], [R.OK]),
    Scenario("the same id with the same fields exists", [t("t1")], [R.EXISTS], [t("t1")]),
    Scenario(
        "a chain fails as a whole",
        [t("t1", flags=LINKED), t("t2", "saver", "a", 101)],
        [R.LINKED_EVENT_FAILED, R.EXCEEDS_CREDITS],
    ),
    Scenario("a chain left open fails", [t("t1", flags=LINKED)], [R.LINKED_EVENT_CHAIN_OPEN]),
    Scenario(
        "same id, other flags",
        [pending("t1", expires_at_us=None)],
        [R.EXISTS_WITH_DIFFERENT_FLAGS],
        [t("t1")],
    ),
    Scenario(
        "same id, the same post: its defaults are filled from the pending transfer",
        [post("x", "p"), post("x", "p", 30)],
        [R.EXISTS, R.EXISTS],
        [P, post("x", "p")],
    ),
    Scenario(
        "same id, other pending id",
        [post("x", "p_forever")],
        [R.EXISTS_WITH_DIFFERENT_PENDING_ID],
        [P, P_FOREVER, post("x", "p")],
    ),
    Scenario(
        "same id, other deadline",
        [pending("p", expires_at_us=LATER + 1)],
        [R.EXISTS_WITH_DIFFERENT_EXPIRES_AT],
        [P],
    ),
    Scenario(
        "same id, other debit account",
        [t("t1", "c", "b")],
        [R.EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID],
        [t("t1")],
    ),
    Scenario(
        "same id, other credit account",
        [t("t1", "a", "c")],
        [R.EXISTS_WITH_DIFFERENT_CREDIT_ACCOUNT_ID],
        [t("t1")],
    ),
    Scenario(
        "same id, other amount",
        [t("t1", amount=11)],
        [R.EXISTS_WITH_DIFFERENT_AMOUNT],
        [t("t1")],
    ),
    Scenario(
        "same id, other fields: the first difference is named",
        [t("t1", "yen", "yen2", 11, ledger=2)],
        [R.EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID],
        [t("t1")],
    ),
    Scenario(
        "same id, other ledger",
        [t("t1", ledger=2)],
        [R.EXISTS_WITH_DIFFERENT_LEDGER],
        [t("t1")],
    ),
    Scenario("same id, other code", [t("t1", code=2)], [R.EXISTS_WITH_DIFFERENT_CODE], [t("t1")]),
    Scenario("same id, other ref", [t("t1", ref="r")], [R.EXISTS_WITH_DIFFERENT_REF], [t("t1")]),
    Scenario("an id is required", [t("")], [R.ID_MUST_NOT_BE_EMPTY]),
    Scenario("an id has at most 64 characters", [t(TOO_LONG)], [R.ID_TOO_LONG]),
    Scenario("a ref has at most 64 characters", [t("t1", ref=TOO_LONG)], [R.REF_TOO_LONG]),
    Scenario("unknown flag bits are refused", [t("t1", flags=F(64))], [R.FLAGS_INVALID]),
    Scenario(
        "an id refused for a reason of the moment stays refused",
        [t("t1", "nobody"), t("t1")],
        [R.DEBIT_ACCOUNT_NOT_FOUND, R.ID_ALREADY_FAILED],
    ),
    Scenario(
        "pending and post are exclusive",
        [t("t1", flags=F.PENDING | F.POST_PENDING, pending_id="p")],
        [R.FLAGS_ARE_MUTUALLY_EXCLUSIVE],
    ),
    Scenario(
        "post and void are exclusive",
        [t("t1", flags=F.POST_PENDING | F.VOID_PENDING, pending_id="p")],
        [R.FLAGS_ARE_MUTUALLY_EXCLUSIVE],
    ),
    Scenario("a zero amount is an amount", [t("t1", amount=0)], [R.OK]),
    Scenario("amounts are positive", [t("t1", amount=-1)], [R.AMOUNT_MUST_NOT_BE_NEGATIVE]),
    Scenario("amounts are bounded", [t("t1", amount=AMOUNT_MAX + 1)], [R.AMOUNT_TOO_LARGE]),
    Scenario("a ledger is required", [t("t1", ledger=0)], [R.LEDGER_MUST_NOT_BE_ZERO]),
    Scenario("a code is required", [t("t1", code=0)], [R.CODE_MUST_NOT_BE_ZERO]),
    Scenario("a debit account is required", [t("t1", "")], [R.DEBIT_ACCOUNT_ID_MUST_NOT_BE_EMPTY]),
    Scenario(
        "a credit account is required",
        [t("t1", "a", "")],
        [R.CREDIT_ACCOUNT_ID_MUST_NOT_BE_EMPTY],
    ),
    Scenario(
        "money moves between two accounts", [t("t1", "a", "a")], [R.ACCOUNTS_MUST_BE_DIFFERENT]
    ),
    Scenario("the debit account must exist", [t("t1", "nobody")], [R.DEBIT_ACCOUNT_NOT_FOUND]),
    Scenario(
        "the credit account must exist",
        [t("t1", "a", "nobody")],
        [R.CREDIT_ACCOUNT_NOT_FOUND],
    ),
    Scenario(
        "both accounts keep one ledger",
        [t("t1", "a", "yen")],
        [R.ACCOUNTS_MUST_HAVE_THE_SAME_LEDGER],
    ),
    Scenario(
        "the transfer keeps its accounts' ledger",
        [t("t1", "yen", "yen2", ledger=1)],
        [R.TRANSFER_MUST_HAVE_THE_SAME_LEDGER_AS_ACCOUNTS],
    ),
    Scenario("a closed account is not debited", [t("t1", "shut", "a")], [R.DEBIT_ACCOUNT_CLOSED]),
    Scenario("a closed account is not credited", [t("t1", "a", "shut")], [R.CREDIT_ACCOUNT_CLOSED]),
    Scenario(
        "a plain transfer names no pending transfer",
        [t("t1", pending_id="p")],
        [R.PENDING_ID_MUST_BE_EMPTY],
    ),
    Scenario("a post names its pending transfer", [post("x", "")], [R.PENDING_ID_REQUIRED]),
    Scenario("a post does not resolve itself", [post("x", "x")], [R.PENDING_ID_MUST_BE_DIFFERENT]),
    Scenario(
        "only a pending transfer has a deadline",
        [t("t1", expires_at_us=LATER)],
        [R.EXPIRES_AT_RESERVED_FOR_PENDING_TRANSFER],
    ),
    Scenario(
        "a post has no deadline of its own",
        [post("x", "p", expires_at_us=LATER)],
        [R.EXPIRES_AT_RESERVED_FOR_PENDING_TRANSFER],
        [P],
    ),
    Scenario(
        "a deadline lies in the future",
        [pending("t1", expires_at_us=NOW)],
        [R.EXPIRES_AT_MUST_BE_IN_THE_FUTURE],
    ),
    Scenario("a post needs its pending transfer", [post("x", "p")], [R.PENDING_TRANSFER_NOT_FOUND]),
    Scenario(
        "only a pending transfer is posted",
        [post("x", "t1")],
        [R.PENDING_TRANSFER_NOT_PENDING],
        [t("t1")],
    ),
    Scenario(
        "a post keeps the pending debit account",
        [t("x", "c", "", 0, ledger=0, code=0, flags=F.POST_PENDING, pending_id="p")],
        [R.PENDING_TRANSFER_HAS_DIFFERENT_DEBIT_ACCOUNT_ID],
        [P],
    ),
    Scenario(
        "a post keeps the pending credit account",
        [t("x", "a", "c", 0, ledger=0, code=0, flags=F.POST_PENDING, pending_id="p")],
        [R.PENDING_TRANSFER_HAS_DIFFERENT_CREDIT_ACCOUNT_ID],
        [P],
    ),
    Scenario(
        "a post keeps the pending ledger",
        [post("x", "p", ledger=2)],
        [R.PENDING_TRANSFER_HAS_DIFFERENT_LEDGER],
        [P],
    ),
    Scenario(
        "a post keeps the pending code",
        [post("x", "p", code=2)],
        [R.PENDING_TRANSFER_HAS_DIFFERENT_CODE],
        [P],
    ),
    Scenario(
        "a void releases all or nothing",
        [void("x", "p", 29)],
        [R.PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT],
        [P],
    ),
    Scenario(
        "a post moves at most what was reserved",
        [post("x", "p", 31)],
        [R.EXCEEDS_PENDING_TRANSFER_AMOUNT],
        [P],
    ),
    Scenario(
        "a posted transfer is not posted again",
        [post("y", "p")],
        [R.PENDING_TRANSFER_ALREADY_POSTED],
        [P, post("x", "p")],
    ),
    Scenario(
        "a voided transfer is not posted",
        [post("y", "p")],
        [R.PENDING_TRANSFER_ALREADY_VOIDED],
        [P, void("x", "p")],
    ),
    Scenario(
        "after its deadline a pending transfer is not posted",
        [post("x", "p")],
        [R.PENDING_TRANSFER_EXPIRED],
        [P],
        now_us=LATER,
    ),
    Scenario(
        "the debit account keeps its bound",
        [t("t1", "saver", "a", 101)],
        [R.EXCEEDS_CREDITS],
    ),
    Scenario(
        "the credit account keeps its bound",
        [t("t1", "a", "capped", 101)],
        [R.EXCEEDS_DEBITS],
    ),
    Scenario("no balance overflows", [t("t1", "a", "full_credits", 11)], [R.OVERFLOWS_BALANCE]),
]


def _run(scenario: Scenario) -> list[CreateTransferResult]:
    state = given(fresh_state(), *scenario.before)
    state.now_us = scenario.now_us
    return apply_batch(state, scenario.batch)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.rule for s in SCENARIOS])
def test_rule(scenario: Scenario) -> None:
    assert _run(scenario) == list(scenario.expected)


def test_every_result_code_has_a_scenario() -> None:
    reached = {code for s in SCENARIOS for code in s.expected}
    assert reached == set(CreateTransferResult)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.rule for s in SCENARIOS])
def test_a_refused_event_leaves_no_trace(scenario: Scenario) -> None:
    state = given(fresh_state(), *scenario.before)
    state.now_us = scenario.now_us
    mark = state.mark()
    before = everything(state)
    results = apply_batch(state, scenario.batch)
    if all(r in (R.OK, R.EXISTS) for r in results):
        return
    assert state.mark() == mark
    assert everything(state) == before


# --- balances -------------------------------------------------------------------------------


def test_a_plain_transfer_moves_posted_balances() -> None:
    state = given(fresh_state(), t("t1", amount=7))
    assert balances(state, "a") == (0, 7, 0, 0)
    assert balances(state, "b") == (0, 0, 0, 7)
    assert state.new_transfers == [t("t1", amount=7)]  # the writer stamps it with NOW
    assert state.touched == {"a", "b"}


def test_a_pending_transfer_reserves_pending_balances() -> None:
    state = given(fresh_state(), pending("p", amount=30))
    assert balances(state, "a") == (30, 0, 0, 0)
    assert balances(state, "b") == (0, 0, 30, 0)


def test_a_repeated_transfer_moves_money_once() -> None:
    state = given(fresh_state(), t("t1"))
    assert apply_batch(state, [t("t1"), t("t1")]) == [R.EXISTS, R.EXISTS]
    assert balances(state, "a") == (0, 10, 0, 0)


def test_the_same_id_twice_in_one_batch_is_recorded_once() -> None:
    state = fresh_state()
    assert apply_batch(state, [t("t1"), t("t1", amount=11)]) == [
        R.OK,
        R.EXISTS_WITH_DIFFERENT_AMOUNT,
    ]
    assert [x.id for x in state.new_transfers] == ["t1"]


# --- two-phase transfers --------------------------------------------------------------------


def test_posting_the_maximum_amount_posts_the_whole_pending_amount() -> None:
    state = given(fresh_state(), pending("p", amount=30), post("x", "p"))
    assert balances(state, "a") == (0, 30, 0, 0)
    assert balances(state, "b") == (0, 0, 0, 30)
    recorded = state.transfers["x"]
    assert (recorded.debit_account_id, recorded.credit_account_id) == ("a", "b")
    assert (recorded.amount, recorded.ledger, recorded.code) == (30, 1, 1)
    assert state.resolutions == {"p": PendingOutcome.POSTED}


def test_posting_amount_zero_posts_nothing_and_releases_the_reservation() -> None:
    state = given(fresh_state(), pending("p", amount=30), post("x", "p", 0))
    assert balances(state, "a") == (0, 0, 0, 0)
    assert balances(state, "b") == (0, 0, 0, 0)
    assert state.transfers["x"].amount == 0
    assert state.resolutions == {"p": PendingOutcome.POSTED}


def test_a_partial_post_posts_part_and_releases_the_rest() -> None:
    state = given(fresh_state(), pending("p", amount=30), post("x", "p", 12))
    assert balances(state, "a") == (0, 12, 0, 0)
    assert balances(state, "b") == (0, 0, 0, 12)
    assert state.transfers["x"].amount == 12
    assert apply_batch(state, [post("y", "p", 18)]) == [R.PENDING_TRANSFER_ALREADY_POSTED]


def test_a_post_may_repeat_the_pending_accounts_ledger_and_code() -> None:
    state = given(fresh_state(), pending("p"))
    explicit = t("x", "a", "b", 30, flags=F.POST_PENDING, pending_id="p")
    assert apply_batch(state, [explicit]) == [R.OK]


def test_a_void_releases_the_whole_pending_amount() -> None:
    state = given(fresh_state(), pending("p", amount=30), void("x", "p"))
    assert balances(state, "a") == (0, 0, 0, 0)
    assert balances(state, "b") == (0, 0, 0, 0)
    assert state.transfers["x"].amount == 30
    assert state.resolutions == {"p": PendingOutcome.VOIDED}


def test_a_void_may_name_the_exact_pending_amount() -> None:
    state = given(fresh_state(), pending("p", amount=30))
    assert apply_batch(state, [void("x", "p", 30)]) == [R.OK]


@pytest.mark.parametrize(
    ("amount", "expected"),
    [(1, R.PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT), (31, R.EXCEEDS_PENDING_TRANSFER_AMOUNT)],
)
def test_a_void_with_the_wrong_amount_is_refused(
    amount: int, expected: CreateTransferResult
) -> None:
    state = given(fresh_state(), pending("p", amount=30))
    assert apply_batch(state, [void("x", "p", amount)]) == [expected]
    assert balances(state, "a") == (30, 0, 0, 0)


def test_a_repeated_full_post_with_the_maximum_amount_exists() -> None:
    state = given(fresh_state(), pending("p", amount=30), post("x", "p"))
    assert apply_batch(state, [post("x", "p"), post("x", "p", 30)]) == [R.EXISTS, R.EXISTS]


def test_a_partial_post_repeated_with_the_maximum_amount_differs_in_amount() -> None:
    state = given(fresh_state(), pending("p", amount=30), post("x", "p", 12))
    assert apply_batch(state, [post("x", "p", 12), post("x", "p")]) == [
        R.EXISTS,
        R.EXISTS_WITH_DIFFERENT_AMOUNT,
    ]


def test_a_pending_transfer_may_be_posted_in_its_own_batch() -> None:
    state = fresh_state()
    assert apply_batch(state, [pending("p"), post("x", "p", 5)]) == [R.OK, R.OK]
    assert balances(state, "a") == (0, 5, 0, 0)


# --- expiry ---------------------------------------------------------------------------------


def test_a_pending_transfer_expiring_exactly_now_is_expired() -> None:
    state = given(fresh_state(), pending("p", expires_at_us=LATER))
    state.now_us = LATER
    assert apply_batch(state, [post("x", "p"), void("y", "p")]) == [
        R.PENDING_TRANSFER_EXPIRED,
        R.PENDING_TRANSFER_EXPIRED,
    ]


def test_one_microsecond_before_its_deadline_a_pending_transfer_still_posts() -> None:
    state = given(fresh_state(), pending("p", expires_at_us=LATER))
    state.now_us = LATER - 1
    assert apply_batch(state, [post("x", "p")]) == [R.OK]


def test_a_deadline_of_now_is_not_in_the_future_but_one_microsecond_later_is() -> None:
    state = fresh_state()
    assert apply_batch(state, [pending("p1", expires_at_us=NOW)]) == [
        R.EXPIRES_AT_MUST_BE_IN_THE_FUTURE
    ]
    assert apply_batch(state, [pending("p2", expires_at_us=NOW + 1)]) == [R.OK]


def test_expiry_releases_a_pending_transfer_whose_deadline_is_exactly_now() -> None:
    state = given(fresh_state(), pending("p", amount=30, expires_at_us=LATER))
    state.now_us = LATER
    assert expire(state, state.transfers["p"]) is True
    assert balances(state, "a") == (0, 0, 0, 0)
    assert balances(state, "b") == (0, 0, 0, 0)
    assert state.resolutions == {"p": PendingOutcome.EXPIRED}
    assert [(r.pending_id, r.outcome, r.transfer_id) for r in state.new_resolutions] == [
        ("p", PendingOutcome.EXPIRED, None)
    ]
    assert apply_batch(state, [void("y", "p")]) == [R.PENDING_TRANSFER_EXPIRED]


def test_expiry_leaves_a_pending_transfer_before_its_deadline() -> None:
    state = given(fresh_state(), pending("p", expires_at_us=LATER))
    state.now_us = LATER - 1
    assert expire(state, state.transfers["p"]) is False
    assert balances(state, "a") == (30, 0, 0, 0)


def test_expiry_leaves_a_pending_transfer_without_deadline() -> None:
    state = given(fresh_state(), pending("p", expires_at_us=None))
    state.now_us = LATER * 2
    assert expire(state, state.transfers["p"]) is False
    assert apply_batch(state, [post("x", "p")]) == [R.OK]


def test_expiry_leaves_a_resolved_pending_transfer() -> None:
    state = given(fresh_state(), pending("p", expires_at_us=LATER), post("x", "p"))
    state.now_us = LATER
    assert expire(state, state.transfers["p"]) is False
    assert balances(state, "a") == (0, 30, 0, 0)


def test_an_expired_transfer_is_expired_again_even_when_asked_differently() -> None:
    state = given(fresh_state(), pending("p", expires_at_us=LATER))
    state.now_us = LATER
    assert expire(state, state.transfers["p"]) is True
    assert apply_batch(state, [post("x", "p", 5)]) == [R.PENDING_TRANSFER_EXPIRED]


# --- linked chains and the journal ----------------------------------------------------------


def test_a_linked_chain_succeeds_as_a_whole() -> None:
    state = fresh_state()
    chain = [t("t1", "a", "saver", 50, flags=LINKED), t("t2", "saver", "b", 150)]
    assert apply_batch(state, chain) == [R.OK, R.OK]
    assert balances(state, "saver") == (0, 150, 0, 150)


def test_a_linked_chain_with_a_failing_member_changes_nothing() -> None:
    state = given(fresh_state(), pending("p"))
    before = everything(state)
    chain = [
        t("t1", "a", "saver", 50, flags=LINKED),
        post("x", "p", 10, flags=LINKED),
        pending("p2", "c", "b", 5, flags=LINKED),
        t("t2", "saver", "b", 151, flags=LINKED),
        t("t3"),
    ]
    assert apply_batch(state, chain) == [
        R.LINKED_EVENT_FAILED,
        R.LINKED_EVENT_FAILED,
        R.LINKED_EVENT_FAILED,
        R.EXCEEDS_CREDITS,
        R.LINKED_EVENT_FAILED,
    ]
    assert everything(state) == before


def test_the_journal_undoes_a_post_so_the_pending_transfer_can_be_posted_again() -> None:
    state = given(fresh_state(), pending("p", amount=30))
    chain = [post("x", "p", 10, flags=LINKED), t("t1", "a", "nobody")]
    assert apply_batch(state, chain) == [R.LINKED_EVENT_FAILED, R.CREDIT_ACCOUNT_NOT_FOUND]
    assert "p" not in state.resolutions
    assert "x" not in state.transfers
    assert balances(state, "a") == (30, 0, 0, 0)
    assert apply_batch(state, [post("x", "p", 20)]) == [R.OK]
    assert balances(state, "a") == (0, 20, 0, 0)


def test_the_journal_undoes_repeated_changes_of_one_account_in_order() -> None:
    state = fresh_state()
    chain = [t(f"t{i}", "a", "b", i, flags=LINKED) for i in range(1, 6)] + [t("bad", amount=-1)]
    results = apply_batch(state, chain)
    assert results == [R.LINKED_EVENT_FAILED] * 5 + [R.AMOUNT_MUST_NOT_BE_NEGATIVE]
    assert balances(state, "a") == (0, 0, 0, 0)
    assert balances(state, "b") == (0, 0, 0, 0)


def test_a_failed_chain_is_forgotten_by_the_events_after_it() -> None:
    state = fresh_state()
    batch = [t("t1", flags=LINKED), t("t2", amount=-1), t("t1", amount=99)]
    assert apply_batch(state, batch) == [
        R.LINKED_EVENT_FAILED,
        R.AMOUNT_MUST_NOT_BE_NEGATIVE,
        R.OK,
    ]
    assert state.transfers["t1"].amount == 99


def test_chains_in_one_batch_succeed_or_fail_independently() -> None:
    state = fresh_state()
    batch = [
        t("t1", flags=LINKED),
        t("t2"),
        t("t3", flags=LINKED),
        t("t4", "saver", "a", 500),
        t("t5"),
    ]
    assert apply_batch(state, batch) == [
        R.OK,
        R.OK,
        R.LINKED_EVENT_FAILED,
        R.EXCEEDS_CREDITS,
        R.OK,
    ]
    assert sorted(state.transfers) == ["t1", "t2", "t5"]


def test_a_chain_sees_its_own_earlier_events() -> None:
    state = fresh_state()
    chain = [pending("p", flags=LINKED), post("x", "p", flags=LINKED), t("t1", "b", "c", 30)]
    assert apply_batch(state, chain) == [R.OK, R.OK, R.OK]


def test_exists_counts_as_success_inside_a_chain() -> None:
    state = fresh_state()
    assert apply_batch(state, [t("t1", flags=LINKED), t("t0")]) == [R.OK, R.OK]
    assert apply_batch(state, [t("t1", flags=LINKED), t("t2")]) == [R.EXISTS, R.OK]
    assert "t2" in state.transfers


def test_exists_with_different_fields_breaks_a_chain() -> None:
    state = given(fresh_state(), t("t1"))
    # t1 was recorded without LINKED: asking for it with LINKED is asking for another transfer.
    assert apply_batch(state, [t("t1", flags=LINKED), t("t2")]) == [
        R.EXISTS_WITH_DIFFERENT_FLAGS,
        R.LINKED_EVENT_FAILED,
    ]
    assert "t2" not in state.transfers


def test_an_open_chain_changes_nothing_and_reports_chain_open() -> None:
    state = fresh_state()
    before = everything(state)
    batch = [t("t1", flags=LINKED), t("t2", flags=LINKED)]
    assert apply_batch(state, batch) == [R.LINKED_EVENT_FAILED, R.LINKED_EVENT_CHAIN_OPEN]
    assert everything(state) == before


def test_an_open_chain_with_a_failing_member_reports_the_failure_and_chain_open() -> None:
    state = fresh_state()
    batch = [
        t("t1", flags=LINKED),
        t("t2", "saver", "a", 101, flags=LINKED),
        t("t3", flags=LINKED),
    ]
    assert apply_batch(state, batch) == [
        R.LINKED_EVENT_FAILED,
        R.EXCEEDS_CREDITS,
        R.LINKED_EVENT_CHAIN_OPEN,
    ]
    assert state.transfers == {}


def test_an_open_chain_whose_last_event_fails_reports_chain_open() -> None:
    state = fresh_state()
    batch = [t("t1", flags=LINKED), t("t2", amount=0, flags=LINKED)]
    assert apply_batch(state, batch) == [R.LINKED_EVENT_FAILED, R.LINKED_EVENT_CHAIN_OPEN]
    assert apply_batch(state, [t("t3", amount=0, flags=LINKED)]) == [R.LINKED_EVENT_CHAIN_OPEN]
    assert state.transfers == {}


def test_a_closed_chain_after_a_complete_one_is_unaffected_by_an_open_tail() -> None:
    state = fresh_state()
    batch = [t("t1", flags=LINKED), t("t2"), t("t3", flags=LINKED)]
    assert apply_batch(state, batch) == [R.OK, R.OK, R.LINKED_EVENT_CHAIN_OPEN]
    assert sorted(state.transfers) == ["t1", "t2"]


# --- bounds, overflow and closed accounts ---------------------------------------------------


def test_a_bounded_account_may_spend_exactly_what_it_holds() -> None:
    state = fresh_state()
    assert apply_batch(state, [t("t1", "saver", "a", 100)]) == [R.OK]
    assert apply_batch(state, [t("t2", "saver", "a", 1)]) == [R.EXCEEDS_CREDITS]


def test_pending_debits_count_against_the_bound() -> None:
    state = given(fresh_state(), pending("p", "saver", "a", 60))
    assert apply_batch(state, [t("t1", "saver", "a", 41)]) == [R.EXCEEDS_CREDITS]
    assert apply_batch(state, [pending("p2", "saver", "a", 41)]) == [R.EXCEEDS_CREDITS]
    assert apply_batch(state, [t("t2", "saver", "a", 40)]) == [R.OK]


def test_pending_credits_count_against_the_credit_bound() -> None:
    state = given(fresh_state(), pending("p", "a", "capped", 60))
    assert apply_batch(state, [t("t1", "a", "capped", 41)]) == [R.EXCEEDS_DEBITS]


def test_voiding_returns_what_the_bound_reserved() -> None:
    state = given(fresh_state(), pending("p", "saver", "a", 100), void("x", "p"))
    assert apply_batch(state, [t("t1", "saver", "a", 100)]) == [R.OK]


def test_a_balance_may_reach_but_not_pass_its_maximum() -> None:
    state = fresh_state()
    assert apply_batch(state, [t("t1", "a", "full_credits", 11)]) == [R.OVERFLOWS_BALANCE]
    assert apply_batch(state, [t("t2", "full_debits", "a", 11)]) == [R.OVERFLOWS_BALANCE]
    assert apply_batch(state, [pending("p", "full_debits", "a", 11)]) == [R.OVERFLOWS_BALANCE]
    assert apply_batch(state, [t("t3", "a", "full_credits", 10)]) == [R.OK]
    assert state.accounts["full_credits"].credits_posted == BALANCE_MAX


def test_two_largest_amounts_overflow_one_account() -> None:
    state = given(fresh_state(), t("t1", "a", "b", AMOUNT_MAX))
    assert apply_batch(state, [t("t2", "c", "b", AMOUNT_MAX)]) == [R.OVERFLOWS_BALANCE]
    assert apply_batch(state, [t("t3", "c", "b", AMOUNT_MAX - 1)]) == [R.OK]


def test_a_pending_transfer_on_a_closed_account_may_be_voided_but_not_posted() -> None:
    state = given(fresh_state(), pending("p1", "a", "b"), pending("p2", "a", "b"))
    state.accounts["a"].flags |= AccountFlags.CLOSED
    assert apply_batch(state, [post("x", "p1")]) == [R.DEBIT_ACCOUNT_CLOSED]
    assert apply_batch(state, [void("y", "p1")]) == [R.OK]
    state.accounts["a"].flags &= ~AccountFlags.CLOSED
    state.accounts["b"].flags |= AccountFlags.CLOSED
    assert apply_batch(state, [post("x2", "p2")]) == [R.CREDIT_ACCOUNT_CLOSED]


def test_a_closed_account_refuses_pending_transfers_too() -> None:
    state = fresh_state()
    assert apply_batch(state, [pending("p", "shut", "a")]) == [R.DEBIT_ACCOUNT_CLOSED]
    assert apply_batch(state, [pending("p2", "a", "shut")]) == [R.CREDIT_ACCOUNT_CLOSED]
