"""The ledger on both databases: what the database itself refuses, paging, look-ups, batch limits,
refused batches, and resolutions racing for one pending transfer.

The ``engine`` fixture checks the whole ledger (``check_ledger``) after every test.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.exc import DBAPIError

from gongji.core.clock import ManualClock, to_us
from gongji.ledger import rows
from gongji.ledger.book import BATCH_SIZE_MAX, BatchTooLarge, Ledger
from gongji.ledger.check import check_ledger
from gongji.ledger.types import (
    AMOUNT_MAX,
    AccountFlags,
    CreateAccountResult,
    CreateTransferResult,
    NewAccount,
    Transfer,
    TransferFlags,
)
from gongji.store.tables import ledger_pending_resolutions, ledger_transfers
from gongji.store.uow import UnitOfWork, run_in_transaction

R = CreateTransferResult
F = TransferFlags


def open_accounts(ledger: Ledger, *ids: str) -> None:
    results = ledger.create_accounts([NewAccount(id=i, ledger=1, code=1) for i in ids])
    assert results == [CreateAccountResult.OK] * len(ids)


def plain(id: str, debit: str = "a", credit: str = "b", amount: int = 10, **kw: Any) -> Transfer:
    return Transfer(id, debit, credit, amount, ledger=1, code=1, **kw)


def pending(id: str, amount: int = 100, expires_at_us: int | None = None) -> Transfer:
    return Transfer(id, "a", "b", amount, 1, 1, F.PENDING, expires_at_us=expires_at_us)


def post(id: str, pending_id: str, *, linked: bool = False) -> Transfer:
    """A post of the whole pending amount."""
    flags = F.POST_PENDING | (F.LINKED if linked else F.NONE)
    return Transfer(id, "", "", AMOUNT_MAX, 0, 0, flags, pending_id=pending_id)


def void(id: str, pending_id: str) -> Transfer:
    return Transfer(id, "", "", 0, 0, 0, F.VOID_PENDING, pending_id=pending_id)


def count_rows(engine: Engine, table: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


# --- append-only, enforced by the database --------------------------------------------------

RAW_CHANGES = [
    "UPDATE ledger_transfers SET amount = amount + 1",
    "UPDATE ledger_transfers SET ref = 'edited' WHERE id = 't1'",
    "DELETE FROM ledger_transfers",
    "DELETE FROM ledger_transfers WHERE id = 'x'",
    "UPDATE ledger_pending_resolutions SET outcome = 'voided'",
    "DELETE FROM ledger_pending_resolutions",
]


@pytest.mark.parametrize("statement", RAW_CHANGES)
def test_the_database_refuses_to_edit_or_delete_what_was_posted(
    engine: Engine, clock: ManualClock, statement: str
) -> None:
    ledger = Ledger(engine, clock)
    open_accounts(ledger, "a", "b")
    assert ledger.create_transfers([plain("t1"), pending("p"), post("x", "p")]) == [R.OK] * 3
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text(statement))
    assert count_rows(engine, ledger_transfers) == 3
    assert count_rows(engine, ledger_pending_resolutions) == 1
    assert ledger.lookup_transfers(["t1"])["t1"].amount == 10


@pytest.mark.postgres
@pytest.mark.parametrize("table", ["ledger_transfers", "ledger_pending_resolutions"])
def test_postgres_refuses_to_truncate_what_was_posted(
    pg_engine: Engine, clock: ManualClock, table: str
) -> None:
    ledger = Ledger(pg_engine, clock)
    open_accounts(ledger, "a", "b")
    assert ledger.create_transfers([pending("p"), post("x", "p")]) == [R.OK] * 2
    with pytest.raises(DBAPIError, match="append-only"), pg_engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {table}"))
    assert count_rows(pg_engine, ledger_transfers) == 2
    assert count_rows(pg_engine, ledger_pending_resolutions) == 1


# --- history and look-ups -------------------------------------------------------------------


def test_account_history_pages_through_every_transfer_once_in_order(
    engine: Engine, clock: ManualClock
) -> None:
    ledger = Ledger(engine, clock)
    open_accounts(ledger, "a", "b", "c")
    batch: list[Transfer] = []
    for i in range(11):
        batch += [plain(f"ab{i}", "a", "b", 1), plain(f"bc{i}", "b", "c", 1)]
        batch += [plain(f"ca{i}", "c", "a", 2)]
    batch += [pending("p", 3), post("x", "p")]
    assert ledger.create_transfers(batch) == [R.OK] * len(batch)
    clock.advance(timedelta(seconds=1))
    assert ledger.create_transfers([plain("late", "b", "a", 1)]) == [R.OK]
    touching_a = [t.id for t in batch if "a" in (t.debit_account_id, t.credit_account_id)]
    expected = [*touching_a, "x", "late"]  # the post names no accounts: it takes the pending's

    for limit in (1, 4, len(expected), 1_000):
        seen: list[str] = []
        cursor: str | None = None
        while True:
            page = ledger.account_history("a", cursor=cursor, limit=limit)
            assert len(page.transfers) <= limit
            seen += [t.id for t in page.transfers]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert seen == expected, limit


def test_a_poller_resumes_from_the_last_page(engine: Engine, clock: ManualClock) -> None:
    ledger = Ledger(engine, clock)
    open_accounts(ledger, "a", "b", "c")
    assert ledger.create_transfers([plain("t1", "a", "b", 1), plain("t2", "b", "a", 1)]) == [
        R.OK, R.OK,
    ]  # fmt: skip
    last = ledger.account_history("a", limit=10)
    assert ([t.id for t in last.transfers], last.next_cursor) == (["t1", "t2"], None)
    quiet = ledger.account_history("a", cursor=last.resume_cursor)
    assert (quiet.transfers, quiet.resume_cursor) == ([], last.resume_cursor)
    assert ledger.create_transfers([plain("t3", "b", "c", 1), plain("t4", "a", "c", 1)]) == [
        R.OK, R.OK,
    ]  # fmt: skip
    later = ledger.account_history("a", cursor=quiet.resume_cursor)
    assert [t.id for t in later.transfers] == ["t4"]


def test_an_account_without_transfers_has_an_empty_history(
    engine: Engine, clock: ManualClock
) -> None:
    ledger = Ledger(engine, clock)
    open_accounts(ledger, "a", "b", "c")
    assert ledger.create_transfers([plain("t1")]) == [R.OK]
    for account_id in ("c", "nobody"):
        page = ledger.account_history(account_id)
        assert (page.transfers, page.next_cursor) == ([], None)


def test_looking_up_unknown_ids_finds_nothing(engine: Engine, clock: ManualClock) -> None:
    ledger = Ledger(engine, clock)
    assert ledger.lookup_accounts(["a"]) == {}
    assert ledger.lookup_transfers(["t1"]) == {}
    open_accounts(ledger, "a", "b")
    assert ledger.create_transfers([plain("t1")]) == [R.OK]
    assert ledger.lookup_accounts(["nobody", "", "x" * 65]) == {}
    assert ledger.lookup_transfers(["nothing", "", "x" * 65]) == {}
    assert ledger.lookup_accounts([]) == {}
    assert set(ledger.lookup_accounts(["a", "nobody"])) == {"a"}
    assert set(ledger.lookup_transfers(["t1", "t2"])) == {"t1"}


# --- batches --------------------------------------------------------------------------------


def _count_statements(engine: Engine) -> tuple[list[str], Callable[[], None]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    return statements, lambda: event.remove(engine, "before_cursor_execute", record)


def test_a_batch_larger_than_the_limit_is_refused_before_touching_the_database(
    engine: Engine, clock: ManualClock
) -> None:
    ledger = Ledger(engine, clock)
    too_many = BATCH_SIZE_MAX + 1
    statements, stop = _count_statements(engine)
    try:
        with pytest.raises(BatchTooLarge):
            ledger.create_transfers([plain(f"t{i}") for i in range(too_many)])
        with pytest.raises(BatchTooLarge):
            ledger.create_accounts([NewAccount(f"a{i}", 1, 1) for i in range(too_many)])
    finally:
        stop()
    assert statements == []


def test_a_batch_at_the_limit_is_accepted(engine: Engine, clock: ManualClock) -> None:
    ledger = Ledger(engine, clock)
    batch = [plain(f"t{i}", "nobody") for i in range(BATCH_SIZE_MAX)]
    assert ledger.create_transfers(batch) == [R.DEBIT_ACCOUNT_NOT_FOUND] * BATCH_SIZE_MAX


def test_a_refused_batch_writes_nothing(engine: Engine, clock: ManualClock) -> None:
    ledger = Ledger(engine, clock)
    open_accounts(ledger, "a", "b")
    assert ledger.create_transfers([plain("t1", amount=50), pending("p", 20)]) == [R.OK, R.OK]
    before_count = ledger.transfer_count()
    before_accounts = ledger.lookup_accounts(["a", "b"])
    refused = [
        # a chain whose last member fails: the post and the plain transfer before it go too
        post("x", "p", linked=True),
        plain("t2", flags=F.LINKED),
        plain("t3", "a", "nobody"),
        plain("t4", "nobody", "b"),
        plain("t1", amount=51),
        pending("p2", 5, expires_at_us=to_us(clock.now())),
        # an open chain at the end of the batch
        plain("t5", flags=F.LINKED),
    ]
    results = ledger.create_transfers(refused)
    assert results == [
        R.LINKED_EVENT_FAILED,
        R.LINKED_EVENT_FAILED,
        R.CREDIT_ACCOUNT_NOT_FOUND,
        R.DEBIT_ACCOUNT_NOT_FOUND,
        R.EXISTS_WITH_DIFFERENT_AMOUNT,
        R.EXPIRES_AT_MUST_BE_IN_THE_FUTURE,
        R.LINKED_EVENT_CHAIN_OPEN,
    ]
    assert ledger.transfer_count() == before_count == count_rows(engine, ledger_transfers) == 2
    assert count_rows(engine, ledger_pending_resolutions) == 0
    assert ledger.lookup_accounts(["a", "b"]) == before_accounts
    assert ledger.create_transfers([post("x", "p")]) == [R.OK]


def test_a_recorded_id_answers_exists_even_where_a_new_transfer_would_be_refused(
    engine: Engine, clock: ManualClock
) -> None:
    # create_transfers first applies a batch as if its ids were new, without reading them.
    # "a" cannot pay 30 twice: a retry of t1 decided as new would say exceeds_credits.
    ledger = Ledger(engine, clock)
    bounded = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
    accounts = [NewAccount("a", 1, 1, flags=bounded), NewAccount("b", 1, 1), NewAccount("c", 1, 1)]
    assert set(ledger.create_accounts(accounts)) == {CreateAccountResult.OK}
    assert ledger.create_transfers([plain("fund", "c", "a", 40)]) == [R.OK]
    assert ledger.create_transfers([plain("t1", amount=30)]) == [R.OK]

    assert ledger.create_transfers([plain("t1", amount=30)]) == [R.EXISTS]
    assert ledger.create_transfers([plain("t2", amount=5), plain("t1", amount=30)]) == [
        R.OK,
        R.EXISTS,
    ]
    assert ledger.create_transfers([plain("t3", amount=5), plain("t1", amount=31)]) == [
        R.OK,
        R.EXISTS_WITH_DIFFERENT_AMOUNT,
    ]
    assert ledger.create_transfers([plain("t4", amount=5), plain("t4", amount=5)]) == [
        R.EXCEEDS_CREDITS,
        R.ID_ALREADY_FAILED,  # refused for want of credits: remembered, so never retried
    ]
    assert ledger.create_transfers([plain("t5", "c", "b", 5), plain("t5", "c", "b", 5)]) == [
        R.OK,
        R.EXISTS,
    ]
    assert ledger.transfer_count() == count_rows(engine, ledger_transfers) == 5
    balances = ledger.lookup_accounts(["a", "b"])
    assert balances["a"].debits_posted == 40
    assert balances["b"].credits_posted == 45


def test_a_batch_of_minted_ids_answers_as_a_batch_read_first(
    engine: Engine, clock: ManualClock
) -> None:
    """``create_minted_transfers_in`` skips reading its ids; what it answers and records is what
    ``create_transfers_in`` would, refusals included (decided again reading them, where an
    ``id_already_failed`` must come first)."""
    ledger = Ledger(engine, clock)
    bounded = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
    accounts = [NewAccount("a", 1, 1, flags=bounded), NewAccount("b", 1, 1), NewAccount("c", 1, 1)]
    assert set(ledger.create_accounts(accounts)) == {CreateAccountResult.OK}
    assert ledger.create_transfers([plain("fund", "c", "a", 40)]) == [R.OK]
    assert ledger.create_transfers([plain("t0", amount=50)]) == [R.EXCEEDS_CREDITS]  # remembered

    def minted(batch: list[Transfer]) -> list[CreateTransferResult]:
        def work(uow: UnitOfWork) -> list[CreateTransferResult]:
            results = ledger.create_minted_transfers_in(uow, batch)
            uow.commit()
            return results

        return run_in_transaction(engine, work)

    assert minted([plain("m1", amount=25), plain("m2", "c", "b", 5)]) == [R.OK, R.OK]
    assert minted([plain("m3", amount=25)]) == [R.EXCEEDS_CREDITS]
    assert minted([plain("t0", amount=1)]) == [R.ID_ALREADY_FAILED]
    assert ledger.transfer_count() == count_rows(engine, ledger_transfers) == 3
    balances = ledger.lookup_accounts(["a", "b"])
    assert balances["a"].debits_posted == 25
    assert balances["b"].credits_posted == 30


def test_a_minted_batch_read_ahead_answers_as_if_read_in_its_turn(
    engine: Engine, clock: ManualClock
) -> None:
    """``minted_transfers_reads``, made ahead (``uow.prefetch``: with a caller's other reads on
    PostgreSQL), answer the batch as its own read would; a write in between makes the batch
    read again, so it decides against the balance the write left, not the one read ahead."""
    ledger = Ledger(engine, clock)
    bounded = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
    accounts = [NewAccount("a", 1, 1, flags=bounded), NewAccount("b", 1, 1), NewAccount("c", 1, 1)]
    assert set(ledger.create_accounts(accounts)) == {CreateAccountResult.OK}
    assert ledger.create_transfers([plain("fund", "c", "a", 40)]) == [R.OK]

    def read_ahead_then(
        batch: list[Transfer], before: list[Transfer] | None = None
    ) -> list[CreateTransferResult]:
        def work(uow: UnitOfWork) -> list[CreateTransferResult]:
            uow.prefetch(ledger.minted_transfers_reads(batch))
            if before is not None:
                assert ledger.create_transfers_in(uow, before) == [R.OK] * len(before)
            results = ledger.create_minted_transfers_in(uow, batch)
            uow.commit()
            return results

        return run_in_transaction(engine, work)

    assert read_ahead_then([plain("m1", amount=15), plain("m2", "c", "b", 5)]) == [R.OK, R.OK]
    # 25 of 40 left when read ahead; the transfer before the batch leaves 5.
    assert read_ahead_then([plain("m3", amount=20)], [plain("x", amount=20)]) == [R.EXCEEDS_CREDITS]
    assert ledger.create_transfers([plain("m3", amount=5)]) == [R.ID_ALREADY_FAILED]
    balances = ledger.lookup_accounts(["a", "b"])
    assert balances["a"].debits_posted == 35
    assert balances["b"].credits_posted == 40


def test_transfer_count_counts_rows_even_after_a_rolled_back_insert(
    engine: Engine, clock: ManualClock
) -> None:
    # On PostgreSQL a rolled-back insert still consumes sequence numbers; counting the last
    # seq said 2 here.
    ledger = Ledger(engine, clock)
    open_accounts(ledger, "a", "b")
    with UnitOfWork(engine) as uow:  # never committed
        assert ledger.create_transfers_in(uow, [plain("t1")]) == [R.OK]
    assert ledger.create_transfers([plain("t2")]) == [R.OK]
    assert ledger.transfer_count() == 1


def test_a_caller_learns_what_each_transfer_recorded(engine: Engine, clock: ManualClock) -> None:
    """``create_transfers_recorded_in``: the amount a balancing transfer moved and a post of
    ``AMOUNT_MAX`` posted, as written, with its time; the recorded transfer for ``exists``;
    nothing for a refusal, nor for the chain it broke."""
    ledger = Ledger(engine, clock)
    bounded = NewAccount("src", 1, 1, flags=AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS)
    open_accounts(ledger, "a", "b")
    assert ledger.create_accounts([bounded]) == [CreateAccountResult.OK]
    assert ledger.create_transfers([plain("fund", "a", "src", 700), pending("p1", 100)]) == [
        R.OK,
        R.OK,
    ]
    rest = plain("rest", "src", "b", AMOUNT_MAX, flags=F.BALANCING_DEBIT)
    batch = [
        plain("fund", "a", "src", 700),  # recorded before: exists
        rest,
        post("post", "p1"),
        plain("broken", "src", "b", 1, flags=F.LINKED),  # src is empty now: the chain fails
        plain("after", "a", "b", 5),
    ]
    with UnitOfWork(engine) as uow:
        outcomes = ledger.create_transfers_recorded_in(uow, batch)
        uow.commit()

    now_us = to_us(clock.now())
    assert [o.result for o in outcomes] == [
        R.EXISTS,
        R.OK,
        R.OK,
        R.EXCEEDS_CREDITS,
        R.LINKED_EVENT_FAILED,
    ]
    assert [o.moved for o in outcomes] == [700, 700, 100, 0, 0]
    assert [o.recorded is None for o in outcomes] == [False, False, False, True, True]
    recorded = ledger.lookup_transfers(["rest", "post", "fund"])
    assert outcomes[1].recorded == recorded["rest"]
    assert outcomes[2].recorded == recorded["post"]
    assert outcomes[0].recorded == recorded["fund"]
    assert outcomes[1].recorded is not None and outcomes[1].recorded.timestamp_us == now_us
    with UnitOfWork(engine) as uow:  # a retry: the balancing transfer exists, as recorded
        (again,) = ledger.create_transfers_recorded_in(uow, [rest])
    assert (again.result, again.recorded) == (R.EXISTS, recorded["rest"])


def test_flags_outside_the_known_ones_are_refused(engine: Engine, clock: ManualClock) -> None:
    ledger = Ledger(engine, clock)
    open_accounts(ledger, "a", "b")
    unknown_bit = NewAccount("x", 1, 1, flags=AccountFlags(8))
    assert ledger.create_accounts([unknown_bit]) == [CreateAccountResult.FLAGS_INVALID]
    assert ledger.create_transfers([plain("t1", flags=F(64))]) == [R.FLAGS_INVALID]
    assert ledger.lookup_accounts(["x"]) == {}
    assert ledger.transfer_count() == 0


def test_an_account_may_be_created_closed(engine: Engine, clock: ManualClock) -> None:
    ledger = Ledger(engine, clock)
    open_accounts(ledger, "a")
    closed_at_birth = NewAccount("y", 1, 1, flags=AccountFlags.CLOSED)
    assert ledger.create_accounts([closed_at_birth]) == [CreateAccountResult.OK]
    assert ledger.lookup_accounts(["y"])["y"].flags == AccountFlags.CLOSED
    assert ledger.create_transfers([plain("t1", "a", "y")]) == [R.CREDIT_ACCOUNT_CLOSED]
    assert ledger.set_account_closed("y", False)
    # Closed is the account's state, not part of what was asked: the retry still exists.
    assert ledger.create_accounts([closed_at_birth]) == [CreateAccountResult.EXISTS]
    assert ledger.create_transfers([plain("t2", "a", "y")]) == [R.OK]


def test_an_overlong_ref_is_refused_with_a_code_not_an_error(
    engine: Engine, clock: ManualClock
) -> None:
    # PostgreSQL used to fail the whole batch on the VARCHAR(64); SQLite stored the text.
    ledger = Ledger(engine, clock)
    open_accounts(ledger, "a", "b")
    overlong = "r" * 65
    assert ledger.create_transfers([plain("t1"), plain("t2", ref=overlong)]) == [
        R.OK,
        R.REF_TOO_LONG,
    ]
    assert ledger.create_accounts([NewAccount("c", 1, 1, ref=overlong)]) == [
        CreateAccountResult.REF_TOO_LONG
    ]
    assert ledger.transfer_count() == 1
    assert ledger.lookup_accounts(["c"]) == {}


# --- racing resolutions ---------------------------------------------------------------------

RACERS = 8


def _race(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run the jobs at once (a barrier lines them up); return results or raised errors."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = jobs[index]()
        except Exception as error:  # reported by the assertion below
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    return results


def _outcomes_of(engine: Engine, pending_id: str) -> list[str]:
    statement = select(ledger_pending_resolutions.c.outcome).where(
        ledger_pending_resolutions.c.pending_id == pending_id
    )
    with engine.connect() as connection:
        return [row.outcome for row in connection.execute(statement)]


@pytest.mark.parametrize("round_", range(3))
def test_racing_posts_and_voids_resolve_a_pending_transfer_once(
    engine: Engine, clock: ManualClock, round_: int
) -> None:
    ledger = Ledger(engine, clock)
    open_accounts(ledger, "a", "b")
    assert ledger.create_transfers([pending("p", 100)]) == [R.OK]
    jobs: list[Callable[[], Any]] = [
        (lambda i=i: ledger.create_transfers([post(f"post{i}", "p")]))
        if i % 2 == round_ % 2
        else (lambda i=i: ledger.create_transfers([void(f"void{i}", "p")]))
        for i in range(RACERS)
    ]
    codes = [result[0] for result in _race(jobs)]

    assert codes.count(R.OK) == 1
    outcomes = _outcomes_of(engine, "p")
    assert len(outcomes) == 1
    loser = {
        "posted": R.PENDING_TRANSFER_ALREADY_POSTED,
        "voided": R.PENDING_TRANSFER_ALREADY_VOIDED,
    }
    assert sorted(codes) == sorted([R.OK] + [loser[outcomes[0]]] * (RACERS - 1))
    a = ledger.lookup_accounts(["a"])["a"]
    posted = 100 if outcomes[0] == "posted" else 0
    assert (a.debits_pending, a.debits_posted) == (0, posted)
    assert check_ledger(engine).ok


@pytest.mark.parametrize("round_", range(3))
def test_racing_posts_and_the_expiry_resolve_a_pending_transfer_once(
    engine: Engine, clock: ManualClock, round_: int
) -> None:
    deadline = clock.now() + timedelta(minutes=1)
    ledger = Ledger(engine, clock)  # the posters' clock: still before the deadline
    open_accounts(ledger, "a", "b")
    assert ledger.create_transfers([pending("p", 100, to_us(deadline))]) == [R.OK]
    late = Ledger(engine, ManualClock(deadline))  # the expiry job's clock: at the deadline
    jobs: list[Callable[[], Any]] = [
        (lambda i=i: ledger.create_transfers([post(f"post{i}", "p")])[0]) for i in range(RACERS)
    ]
    jobs.insert(round_ * 3, late.expire_pending)
    results = _race(jobs)
    expired = results.pop(round_ * 3)
    codes = results

    outcomes = _outcomes_of(engine, "p")
    assert len(outcomes) == 1
    if outcomes == ["expired"]:
        assert expired == 1
        assert codes == [R.PENDING_TRANSFER_EXPIRED] * RACERS
    else:
        assert outcomes == ["posted"]
        assert expired == 0
        assert sorted(codes) == sorted([R.OK] + [R.PENDING_TRANSFER_ALREADY_POSTED] * (RACERS - 1))
    a = ledger.lookup_accounts(["a"])["a"]
    assert (a.debits_pending, a.debits_posted) == (0, 100 if outcomes == ["posted"] else 0)
    assert check_ledger(engine).ok


def test_once_the_deadline_passed_racing_posts_and_voids_lose_to_the_expiry(
    engine: Engine, clock: ManualClock
) -> None:
    ledger = Ledger(engine, clock)
    open_accounts(ledger, "a", "b")
    deadline = to_us(clock.now() + timedelta(minutes=1))
    assert ledger.create_transfers([pending("p", 100, deadline)]) == [R.OK]
    clock.advance(timedelta(minutes=1))  # exactly at the deadline: expired
    jobs: list[Callable[[], Any]] = [
        (lambda i=i: ledger.create_transfers([(post if i % 2 else void)(f"r{i}", "p")])[0])
        for i in range(RACERS)
    ]
    jobs.append(ledger.expire_pending)
    results = _race(jobs)

    assert results.pop() == 1
    assert results == [R.PENDING_TRANSFER_EXPIRED] * RACERS
    assert _outcomes_of(engine, "p") == ["expired"]
    a = ledger.lookup_accounts(["a"])["a"]
    assert (a.debits_pending, a.debits_posted) == (0, 0)
    assert ledger.expire_pending() == 0


# --- accounts ensured (a settlement's institution and fund accounts) --------------------------


def test_ensured_accounts_are_read_once_then_remembered(
    engine: Engine, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = Ledger(engine, clock)
    wanted = [NewAccount(id=i, ledger=1, code=1) for i in ("payable", "fund")]
    run_in_transaction_committed(engine, lambda uow: ledger.ensure_accounts_in(uow, wanted))
    assert ledger.lookup_accounts(["payable", "fund"]).keys() == {"payable", "fund"}
    reads: list[object] = []
    load = rows.load_accounts
    monkeypatch.setattr(rows, "load_accounts", lambda *a, **k: reads.append(a) or load(*a, **k))
    run_in_transaction_committed(engine, lambda uow: ledger.ensure_accounts_in(uow, wanted))
    run_in_transaction_committed(engine, lambda uow: ledger.ensure_accounts_in(uow, wanted))
    assert len(reads) == 1  # created by the first ensure: read back once, then remembered


def test_an_account_ensured_in_a_rolled_back_transaction_is_ensured_again(
    engine: Engine, clock: ManualClock
) -> None:
    ledger = Ledger(engine, clock)
    wanted = [NewAccount(id="payable", ledger=1, code=1)]

    def rolled_back(uow: UnitOfWork) -> None:
        ledger.ensure_accounts_in(uow, wanted)  # leaves without committing

    run_in_transaction(engine, rolled_back)
    assert ledger.lookup_accounts(["payable"]) == {}
    run_in_transaction_committed(engine, lambda uow: ledger.ensure_accounts_in(uow, wanted))
    assert list(ledger.lookup_accounts(["payable"])) == ["payable"]


def run_in_transaction_committed(engine: Engine, work: Callable[[UnitOfWork], None]) -> None:
    def committed(uow: UnitOfWork) -> None:
        work(uow)
        uow.commit()

    run_in_transaction(engine, committed)
