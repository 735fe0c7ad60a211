"""The ledger against TigerBeetle's reference, on SQLite and PostgreSQL: the cases of
:mod:`support.conformance`, each a rule of the reference restated in gongji's terms, and the
deliberate differences, reported as skipped with their reason.

All cases of one database share it (a fresh one per module), each with its own accounts and ids
(see :func:`_prefixed`); the ledger must check clean at the end.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest
from sqlalchemy import Engine

from conftest import PostgresSchema, require_postgres, sqlite_url
from gongji.core.clock import ManualClock, to_us
from gongji.ledger.book import Ledger
from gongji.ledger.check import check_ledger
from gongji.ledger.types import NewAccount, Transfer
from gongji.store.engine import make_engine
from gongji.store.migrate import upgrade
from support.conformance import (
    CASES,
    CHART,
    DIFFERENCES,
    FUNDING,
    Advance,
    Balances,
    Case,
    Close,
    Difference,
    Recorded,
    Step,
)

START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
_numbers = count()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def shared_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    schema = None
    if request.param == "sqlite":
        engine = make_engine(sqlite_url(tmp_path_factory.mktemp("conformance")))
    else:
        require_postgres()
        schema = PostgresSchema()
        engine = schema.engine(pool_size=4)
    upgrade(engine)
    yield engine
    report = check_ledger(engine)
    engine.dispose()
    if schema is not None:
        schema.drop()
    assert report.ok, report.verdict()


def _prefixed(prefix: str, event: Any) -> Any:
    """An event with every id of the case made its own: ``c12.a``; empty and overlong stay so."""

    def own(name: str | None) -> str | None:
        return f"{prefix}{name}" if name else name

    if isinstance(event, NewAccount):
        return replace(event, id=own(event.id))
    expires = event.expires_at_us
    return replace(
        event,
        id=own(event.id),
        debit_account_id=own(event.debit_account_id),
        credit_account_id=own(event.credit_account_id),
        pending_id=own(event.pending_id),
        expires_at_us=None if expires is None else to_us(START) + expires,
    )


def _run(engine: Engine, steps: Sequence[Step]) -> None:
    prefix = f"c{next(_numbers)}."
    clock = ManualClock(START)
    ledger = Ledger(engine, clock)
    chart = [_prefixed(prefix, account) for account in CHART]
    assert set(ledger.create_accounts(chart)) == {"ok"}
    assert set(ledger.create_transfers([_prefixed(prefix, f) for f in FUNDING])) == {"ok"}
    for number, step in enumerate(steps):
        _step(ledger, clock, prefix, step, number)


def _step(ledger: Ledger, clock: ManualClock, prefix: str, step: Step, number: int) -> None:
    if isinstance(step, Balances):
        account = ledger.lookup_accounts([prefix + step.account])[prefix + step.account]
        held = (
            account.debits_pending,
            account.debits_posted,
            account.credits_pending,
            account.credits_posted,
        )
        assert held == step.expected, f"step {number}: balances of {step.account}"
    elif isinstance(step, Recorded):
        recorded = ledger.lookup_transfers([prefix + step.transfer])[prefix + step.transfer]
        assert (recorded.amount, recorded.ref) == (step.amount, step.ref), f"step {number}"
    elif isinstance(step, Advance):
        clock.advance(timedelta(microseconds=step.microseconds))
    elif isinstance(step, Close):
        assert ledger.set_account_closed(prefix + step.account, True)
    else:
        batch, expected = step
        events = [_prefixed(prefix, event) for event in batch]
        if events and isinstance(events[0], Transfer):
            results: list[Any] = list(ledger.create_transfers(events))
        else:
            results = list(ledger.create_accounts(events))
        assert results == list(expected), f"step {number}: {batch}"


def _id(case: Case | Difference) -> str:
    return f"{case.section}: {case.rule}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_as_the_reference_says(shared_engine: Engine, case: Case) -> None:
    _run(shared_engine, case.steps)


@pytest.mark.parametrize(
    "difference",
    [
        pytest.param(d, marks=pytest.mark.skip(reason=f"deliberate difference: {d.reason}"))
        for d in DIFFERENCES
    ],
    ids=[_id(d) for d in DIFFERENCES],
)
def test_deliberate_difference(shared_engine: Engine, difference: Difference) -> None:
    _run(shared_engine, difference.steps)  # pragma: no cover - skipped: the reason says why


def test_gongjis_side_of_each_difference_holds(shared_engine: Engine) -> None:
    """Where a difference has steps, they show what gongji does instead; they must hold."""
    for difference in DIFFERENCES:
        if difference.steps:
            _run(shared_engine, difference.steps)


def test_every_result_code_is_reached() -> None:
    from gongji.ledger.types import CreateAccountResult, CreateTransferResult

    reached = {
        code for case in CASES for step in case.steps if isinstance(step, tuple) for code in step[1]
    }
    assert reached == set(CreateTransferResult) | set(CreateAccountResult)
