"""Migration 0006 rebuilds the ledger's tables on integer keys: a database written before it
must come out with every account, transfer and resolution, the same history order, the
append-only triggers, and sequences that continue after the copied rows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from conftest import PostgresSchema, require_postgres, sqlite_url
from gongji.core.clock import ManualClock
from gongji.ledger.book import Ledger
from gongji.ledger.check import check_ledger
from gongji.ledger.types import AccountFlags, CreateTransferResult, NewAccount, Transfer
from gongji.store.engine import make_engine
from gongji.store.migrate import current_revision, upgrade

BEFORE = "0005_clearing_premiums"
ACCOUNT = (
    "INSERT INTO ledger_accounts (id, ledger, code, region, flags, debits_pending,"
    " debits_posted, credits_pending, credits_posted, ref, timestamp_us)"
    " VALUES (:id, 1, 1, '620100', :flags, :dp, :dpo, :cp, :cpo, NULL, :ts)"
)
TRANSFER = (
    "INSERT INTO ledger_transfers (id, debit_account_id, credit_account_id, amount, pending_id,"
    " ledger, code, flags, expires_at_us, ref, timestamp_us)"
    " VALUES (:id, :debit, :credit, :amount, :pending_id, 1, 2, :flags, :expires, NULL, :ts)"
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def old_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database at the revision before 0006."""
    schema = None
    if request.param == "sqlite":
        engine = make_engine(sqlite_url(tmp_path))
    else:
        require_postgres()
        schema = PostgresSchema()
        engine = schema.engine()
    upgrade(engine, BEFORE)
    yield engine
    engine.dispose()
    if schema is not None:
        schema.drop()


def _write_old_books(engine: Engine) -> None:
    """Source pays 700 to a (posted), holds 200 for b (posted later) and 50 for b (voided)."""
    accounts = [
        {"id": "source", "flags": 0, "dp": 0, "dpo": 900, "cp": 0, "cpo": 0, "ts": 1},
        {"id": "a", "flags": 1, "dp": 0, "dpo": 0, "cp": 0, "cpo": 700, "ts": 2},
        {"id": "b", "flags": 1, "dp": 0, "dpo": 0, "cp": 0, "cpo": 200, "ts": 3},
    ]
    base = {"pending_id": None, "flags": 0, "expires": None}
    transfers = [
        {**base, "id": "t1", "debit": "source", "credit": "a", "amount": 700, "ts": 10},
        {**base, "id": "p1", "debit": "source", "credit": "b", "amount": 200, "flags": 2,
         "expires": 10**15, "ts": 11},
        {**base, "id": "p2", "debit": "source", "credit": "b", "amount": 50, "flags": 2,
         "expires": 10**15, "ts": 12},
        {**base, "id": "post1", "debit": "source", "credit": "b", "amount": 200,
         "pending_id": "p1", "flags": 4, "ts": 13},
        {**base, "id": "void2", "debit": "source", "credit": "b", "amount": 50,
         "pending_id": "p2", "flags": 8, "ts": 14},
    ]  # fmt: skip
    resolutions = [
        {"pending_id": "p1", "outcome": "posted", "transfer_id": "post1", "ts": 13},
        {"pending_id": "p2", "outcome": "voided", "transfer_id": "void2", "ts": 14},
    ]
    with engine.begin() as connection:
        connection.execute(text(ACCOUNT), accounts)
        for transfer in transfers:  # one by one: seq follows the list
            connection.execute(text(TRANSFER), transfer)
        connection.execute(
            text(
                "INSERT INTO ledger_pending_resolutions (pending_id, outcome, transfer_id,"
                " timestamp_us) VALUES (:pending_id, :outcome, :transfer_id, :ts)"
            ),
            resolutions,
        )


def test_old_books_come_through_whole(old_engine: Engine) -> None:
    _write_old_books(old_engine)

    upgrade(old_engine)

    report = check_ledger(old_engine)
    assert report.ok, report.verdict()
    assert (report.accounts, report.transfers, report.debits_posted) == (3, 5, 900)
    ledger = Ledger(old_engine, ManualClock())
    found = ledger.lookup_transfers({"t1", "p1", "post1", "void2"})
    assert (found["t1"].debit_account_id, found["t1"].credit_account_id) == ("source", "a")
    assert (found["post1"].pending_id, found["post1"].amount) == ("p1", 200)
    history = ledger.account_history("b").transfers
    assert [t.id for t in history] == ["p1", "p2", "post1", "void2"]
    assert ledger.lookup_accounts({"a"})["a"].credits_posted == 700


def test_sequences_continue_after_the_copied_rows(old_engine: Engine) -> None:
    _write_old_books(old_engine)
    upgrade(old_engine)
    ledger = Ledger(old_engine, ManualClock())

    bounded = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
    assert ledger.create_accounts([NewAccount("c", 1, 1, flags=bounded)])
    results = ledger.create_transfers([Transfer("t2", "a", "c", 300, 1, 2)])

    assert results == [CreateTransferResult.OK]
    assert [t.id for t in ledger.account_history("a").transfers] == ["t1", "t2"]
    assert check_ledger(old_engine).ok


def test_transfers_stay_append_only(old_engine: Engine) -> None:
    _write_old_books(old_engine)
    upgrade(old_engine)

    for statement in ("UPDATE ledger_transfers SET amount = 1", "DELETE FROM ledger_transfers"):
        with pytest.raises(DBAPIError), old_engine.begin() as connection:
            connection.execute(text(statement))
    assert Ledger(old_engine, ManualClock()).transfer_count() == 5


def test_a_transfer_that_would_be_lost_stops_the_migration(tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path))
    upgrade(engine, BEFORE)
    _write_old_books(engine)
    with engine.begin() as connection:
        connection.execute(
            text(TRANSFER),
            {"id": "orphan", "debit": "nobody", "credit": "a", "amount": 1, "pending_id": None,
             "flags": 0, "expires": None, "ts": 20},
        )  # fmt: skip

    with pytest.raises(RuntimeError, match="6 rows, 5 copied"):
        upgrade(engine)

    assert current_revision(engine) == BEFORE
    with engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM ledger_transfers")).scalar_one()
        columns = connection.execute(text("SELECT debit_account_id FROM ledger_transfers"))
        assert count == 6 and "nobody" in {row[0] for row in columns}
    engine.dispose()
