"""The incremental ledger check on both databases: it reads only the transfers after the last
passing check's watermark and the accounts they touch, catches a tampered new transfer or
balance, keeps reporting a fault until it is mended, and the scheduler's choice of kind.

Tampering needs what someone with the database could do: the append-only triggers dropped.
These tests use their own engines (not the ``engine`` fixture, which fails any test that leaves
the ledger unbalanced).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from gongji.core.clock import ManualClock
from gongji.jobs import ledger_check
from gongji.jobs.ledger_check import FULL, INCREMENTAL, run_if_due, run_ledger_check
from gongji.kernel.context import Context
from gongji.ledger.book import Ledger
from gongji.ledger.types import CreateTransferResult, NewAccount, Transfer, TransferFlags
from support.world import build_context


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest) -> Engine:
    fixture = "sqlite_engine" if request.param == "sqlite" else "pg_engine"
    engine: Engine = request.getfixturevalue(fixture)
    return engine


@pytest.fixture
def world(db: Engine, clock: ManualClock) -> Context:
    ctx = build_context(db, clock)
    ctx.ledger.create_accounts([NewAccount(id=name, ledger=1, code=1) for name in "abcd"])
    return ctx


def move(ledger: Ledger, id: str, debit: str, credit: str, amount: int, **kw: Any) -> None:
    assert ledger.create_transfers([Transfer(id, debit, credit, amount, 1, 1, **kw)]) == [
        CreateTransferResult.OK
    ]


def drop_guards(engine: Engine) -> None:
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER ledger_transfers_no_update"))
        else:
            connection.execute(
                text("DROP TRIGGER ledger_transfers_no_update_delete ON ledger_transfers")
            )


def tamper(engine: Engine, statement: str) -> None:
    with engine.begin() as connection:
        connection.execute(text(statement))


def test_it_reads_only_the_transfers_since_the_last_pass(world: Context) -> None:
    move(world.ledger, "t1", "a", "b", 500)
    first = run_ledger_check(world)
    assert (first.kind, first.report.ok, first.report.transfers) == (FULL, True, 1)
    drop_guards(world.engine)
    tamper(world.engine, "UPDATE ledger_transfers SET amount = 499 WHERE id = 't1'")  # verified
    move(world.ledger, "t2", "c", "d", 70)
    statements: list[str] = []
    event.listen(world.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    checked = run_ledger_check(world)
    assert (checked.kind, checked.report.ok) == (INCREMENTAL, True), checked.report.violations
    assert (checked.report.transfers, checked.report.accounts) == (1, 2)  # t2; c and d
    reads = [s for s in statements if "FROM ledger_transfers" in s and "max(" not in s]
    assert reads and all("seq >" in s for s in reads)  # besides max(seq), only new rows
    full = run_ledger_check(world, full=True)  # the daily full check finds the old tampering
    assert not full.report.ok
    assert any("account a: debits_posted 500 ≠ 499" in v for v in full.report.violations)


def test_a_tampered_new_transfer_is_caught_and_reported_until_mended(world: Context) -> None:
    move(world.ledger, "t1", "a", "b", 500)
    assert run_ledger_check(world).report.ok
    move(world.ledger, "t2", "a", "c", 30)
    move(world.ledger, "t3", "d", "b", 5)
    drop_guards(world.engine)
    tamper(world.engine, "UPDATE ledger_transfers SET amount = 3 WHERE id = 't2'")
    checked = run_ledger_check(world)
    assert checked.kind == INCREMENTAL and not checked.report.ok
    assert "account a: debits_posted 530 ≠ 503, the verified sum" in checked.report.violations[0]
    again = run_ledger_check(world)  # the watermark did not move past the fault
    assert not again.report.ok and again.report.transfers == 2
    tamper(world.engine, "UPDATE ledger_transfers SET amount = 30 WHERE id = 't2'")
    mended = run_ledger_check(world)
    assert mended.report.ok and mended.report.transfers == 2
    move(world.ledger, "t4", "a", "b", 1)
    assert run_ledger_check(world).report.transfers == 1  # the watermark moved on


def test_a_tampered_balance_of_a_touched_account_is_caught(world: Context) -> None:
    move(world.ledger, "t1", "a", "b", 500)
    assert run_ledger_check(world).report.ok
    move(world.ledger, "t2", "b", "a", 20)
    tamper(world.engine, "UPDATE ledger_accounts SET credits_posted = credits_posted + 1000 "
           "WHERE id = 'a'")  # fmt: skip
    checked = run_ledger_check(world)
    assert not checked.report.ok
    assert checked.report.violations == ["account a: credits_posted 1020 ≠ 20, the verified sum "
                                         "and the transfers since"]  # fmt: skip


def test_a_bad_new_transfer_shape_is_caught(world: Context) -> None:
    assert run_ledger_check(world).report.ok  # an empty ledger passes, through seq 0
    move(world.ledger, "t1", "a", "b", 500)
    drop_guards(world.engine)
    tamper(world.engine, "UPDATE ledger_transfers SET amount = -500 WHERE id = 't1'")
    tamper(world.engine, "UPDATE ledger_accounts SET debits_posted = -500 WHERE id = 'a'")
    tamper(world.engine, "UPDATE ledger_accounts SET credits_posted = -500 WHERE id = 'b'")
    checked = run_ledger_check(world)
    assert "transfer t1: amount -500 is negative" in checked.report.violations


def test_pending_transfers_posted_later_add_up(world: Context) -> None:
    move(world.ledger, "p1", "a", "b", 100, flags=TransferFlags.PENDING)
    assert run_ledger_check(world).report.ok
    post = Transfer("p1-post", "", "", 60, 0, 0, TransferFlags.POST_PENDING, pending_id="p1")
    assert world.ledger.create_transfers([post]) == [CreateTransferResult.OK]
    move(world.ledger, "p2", "c", "d", 40, flags=TransferFlags.PENDING)
    checked = run_ledger_check(world)
    assert checked.report.ok, checked.report.violations
    assert run_ledger_check(world, full=True).report.ok


def test_the_scheduler_runs_incremental_hourly_and_full_daily(
    world: Context, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (run_if_due(world) or pytest.fail("no first run")).kind == FULL
    assert run_if_due(world) is None
    clock.advance(timedelta(hours=1))
    assert (run_if_due(world) or pytest.fail("not due")).kind == INCREMENTAL
    clock.advance(timedelta(hours=23))
    assert (run_if_due(world) or pytest.fail("not due")).kind == FULL
    last = ledger_check.last_verdict(world.engine)
    assert last is not None and last.kind == FULL
