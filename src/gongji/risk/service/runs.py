"""The scheduled rule run: full over a window, or incremental over what changed.

A full run reads every fact of the window and judges everyone. An incremental run asks the
database who changed since the last run's watermark (the person events after it: a grant
offered or accepted, a relationship made or ended, a settlement, a death, a move), widens that
to their counterparts (a loop or a fan passes through them), reads only their facts and judges
only the changed persons, so its cost follows the change, not the population
(docs/benchmarks.md, risk). The institution rule compares an institution with all its peers
and runs in full runs only. Alerts are kept by fingerprint: a rule that sees the same rows
again raises nothing new.

A full run reads its facts through SQL on the operational connection (``FACTS_DEFAULT``) or
through DuckDB reading the same database (``facts="duckdb"``, the ``analytics`` extra): the same
statements, the same facts; docs/benchmarks.md (risk) measures both and says why SQL is the
default.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy import Connection, Engine

from gongji.kernel.context import Context
from gongji.people.service.persons import birth_date_from_enc
from gongji.risk.domain.alerts import RuleCode
from gongji.risk.domain.engine import RULES, run_rules
from gongji.risk.domain.facts import US_PER_DAY, History
from gongji.risk.domain.rules_people import whose_birth_dates
from gongji.risk.service.access import shipped_policy
from gongji.risk.store import alerts_repo, facts_duckdb, facts_repo
from gongji.risk.store.alerts_repo import RunRow
from gongji.risk.store.facts_repo import WholeWindow
from gongji.store.uow import UnitOfWork, run_in_transaction

WINDOW_DAYS_DEFAULT = 90
FactEngine = Literal["sql", "duckdb"]
FACT_ENGINES: tuple[FactEngine, ...] = ("sql", "duckdb")
FACTS_DEFAULT: FactEngine = "sql"


@dataclass(frozen=True, slots=True)
class RunResult:
    run_id: int
    mode: str
    persons_judged: int
    grants_read: int
    alerts_found: int
    alerts_new: int


def run(ctx: Context, *, full: bool = False, window_days: int = WINDOW_DAYS_DEFAULT) -> RunResult:
    """One run, in one transaction of its own (read the facts, write the alerts and the run)."""
    return run_at(ctx.engine, ctx.now_us, full=full, window_days=window_days, born=_born(ctx))


def run_at(
    engine: Engine,
    now_us: Callable[[], int],
    *,
    full: bool,
    window_days: int,
    born: Callable[[str], date],
    facts: FactEngine = FACTS_DEFAULT,
) -> RunResult:
    """``run`` on an engine, a clock and a reader of birth dates from ``persons.id_enc`` alone
    (the benchmark runs it on its own database, under a key of its own). Birth dates are read
    only for the persons a rule needs them of (``rules_people.whose_birth_dates``). ``facts``
    names the engine a full run reads its facts with."""

    def work(uow: UnitOfWork) -> RunResult:
        with _without_cycle_collector():
            result = _run(now_us, uow, full, window_days, born, facts)
        uow.commit()
        return result

    return run_in_transaction(engine, work)


@contextmanager
def _without_cycle_collector() -> Iterator[None]:
    """Pause Python's cycle collector for the run. A full run holds a million small facts
    (tuples and slotted objects that reference no cycle: reference counting frees them), and
    every few thousand allocations the collector would walk all of them again for nothing —
    the largest single cost of a full run before (docs/benchmarks.md, risk). The pause is
    process-wide: inside ``gongji serve`` the requests' cyclic garbage waits for the run's end,
    seconds for an incremental run, and is collected then."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _run(
    now_us: Callable[[], int],
    uow: UnitOfWork,
    full: bool,
    window_days: int,
    born: Callable[[str], date],
    facts: FactEngine,
) -> RunResult:
    started = now_us()
    end = started + 1
    start = end - window_days * US_PER_DAY
    connection = uow.connection
    after = None if full else alerts_repo.watermark(connection)
    if after is None:
        watermark = facts_repo.last_event(connection)
        with _whole_window(connection, facts) as window:
            history = _full(window, start, end, born)
        judged, rules = None, list(RULES)
    else:
        found_changes, watermark = facts_repo.changes(connection, after, started)
        changed = sorted(found_changes)
        history = _partial(connection, start, end, changed, born)
        judged, rules = changed, [r for r in RULES if r is not RuleCode.INSTITUTION]
    found = run_rules(history, shipped_policy(), persons=judged, only=rules)
    fresh = alerts_repo.not_raised(connection, found)
    row = RunRow(
        "full" if after is None else "incremental", start, end, after, watermark,
        len(history.persons) if judged is None else len(judged), len(history.grants),
        len(fresh), started, now_us(),
    )  # fmt: skip
    run_id = alerts_repo.insert_run(connection, row)
    alerts_repo.insert_alerts(connection, fresh, now_us(), run_id)
    return RunResult(run_id, row.mode, row.persons_judged, row.grants_read, len(found), len(fresh))


def full_history(
    engine: Engine,
    end: int,
    *,
    window_days: int,
    born: Callable[[str], date],
    facts: FactEngine = FACTS_DEFAULT,
) -> History:
    """What a full run ending at ``end`` reads, and nothing else (the benchmark times the read
    apart from the rules, and the tests compare the engines' facts)."""

    def work(uow: UnitOfWork) -> History:
        with _without_cycle_collector(), _whole_window(uow.connection, facts) as window:
            return _full(window, end - window_days * US_PER_DAY, end, born)

    return run_in_transaction(engine, work)


@contextmanager
def _whole_window(connection: Connection, facts: FactEngine) -> Iterator[WholeWindow]:
    if facts == "duckdb":
        with facts_duckdb.whole_window(connection) as window:
            yield window
    else:
        yield WholeWindow.on_connection(connection)


def _full(window: WholeWindow, start: int, end: int, born: Callable[[str], date]) -> History:
    relations = window.relationships(end)
    dated = whose_birth_dates(relations, start, end)
    return History.build(
        start,
        end,
        persons=window.persons(born, dated),
        institutions=window.institutions(),
        grants=window.grants(start, end),
        settlements=window.settlements(start, end),
        relationships=relations,
    )


def _partial(
    connection: Connection, start: int, end: int, changed: list[str], born: Callable[[str], date]
) -> History:
    wider = sorted(set(changed) | facts_repo.counterparts(connection, changed, start, end))
    relations = facts_repo.relationships(connection, start, end, wider)
    dated = whose_birth_dates(relations, start, end)
    return History.build(
        start,
        end,
        persons=facts_repo.persons(connection, wider, born, dated),
        institutions=facts_repo.institutions(connection),
        grants=facts_repo.grants(connection, start, end, wider),
        settlements=facts_repo.settlements(connection, start, end, wider),
        relationships=relations,
    )


def _born(ctx: Context) -> Callable[[str], date]:
    return lambda id_enc: birth_date_from_enc(ctx, id_enc)
