"""`gongji bench risk`: the scheduled rule run on a real database, full and incremental.

The synthetic population (risk_population.py, risk_fraud.py) is written straight into the
operational tables of a fresh database, row for row as the services would leave them, in bulk,
because writing a million grants through the use cases would take hours and measure the use
cases, not the run. Each person's ID number is sealed as the importer seals it (encrypted, keyed
hash, masked), under a throw-away key of the bench's own, and the run reads birth dates by
decrypting it as production does, so the run pays production's cost; names and mobiles are
left out (no rule reads them). Then:
for each fact engine named (SQL on the operational connection, or DuckDB reading the same
database: ``risk.service.runs``), the full run's fact reading alone, then a full run over the
window; then ``change_pct`` % of the employees give once more (their grants and person events
written as the use cases would) and an incremental run reads and judges only them and their
counterparts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import Engine, Table

from gongji.core.ids import make_resident_id
from gongji.kernel.pii import Vault, new_key
from gongji.people.service.persons import birth_date_sealed
from gongji.risk.domain.facts import US_PER_DAY, US_PER_MINUTE, GrantFact, PersonFact
from gongji.risk.service.runs import FactEngine, RunResult, full_history, run_at
from gongji.sim.risk_eval import synthetic
from gongji.sim.risk_population import END_US, WINDOW_DAYS, Population, born_on
from gongji.store import raw
from gongji.store.tables_institutions import institutions as institutions_table
from gongji.store.tables_people import (
    enrolments,
    grants,
    person_events,
    persons,
    relationships,
)
from gongji.store.tables_settlements import settlement_draws, settlements

BATCH = 20_000
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class FullRun:
    """One engine's full run: its fact reading alone, then the whole run (reading included)."""

    facts: FactEngine
    read_s: float
    read_cpu_s: float
    facts_read: int
    run_s: float
    run_cpu_s: float
    result: RunResult


@dataclass(frozen=True, slots=True)
class RiskBench:
    persons: int
    grants: int
    settlements: int
    load_s: float
    full: list[FullRun]
    changed_persons: int
    incremental_s: float
    incremental_cpu_s: float
    incremental: RunResult


@cache
def _zeros(table: Table) -> dict[str, Any]:
    """A zero of the right type for every NOT NULL column."""
    return {
        column.name: 0 if column.type.python_type is int else ""
        for column in table.columns
        if not column.nullable and not column.primary_key
    }


def _filled(table: Table, values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` plus a zero for every other NOT NULL column."""
    return {**_zeros(table), **values}


def _write(engine: Engine, table: Table, rows: Iterable[Mapping[str, Any]]) -> None:
    """Through the driver's ``executemany``, one transaction per table (Core's per-row
    bookkeeping made loading a million grants take minutes)."""
    batch: list[dict[str, Any]] = []
    statement = ""
    with engine.begin() as connection:
        for row in rows:
            batch.append(_filled(table, row))
            statement = statement or raw.insert_statement(table.name, list(batch[0]))
            if len(batch) >= BATCH:
                raw.execute_many(connection, statement, batch)
                batch = []
        raw.execute_many(connection, statement, batch)


def _day(at_us: int) -> str:
    return date.fromordinal(_EPOCH.toordinal() + at_us // US_PER_DAY).isoformat()


def bench_vault() -> Vault:
    """A throw-away key for one bench database (never the bureau's)."""
    return Vault(new_key())


def born_reader(vault: Vault) -> Callable[[str], date]:
    """How the run reads a birth date: by decrypting the sealed ID number, as in production
    (``people.service.persons.birth_date_from_enc``), with the bench's key."""
    return lambda id_enc: birth_date_sealed(vault, id_enc)


def _sealed_ids(vault: Vault, people: Iterable[PersonFact]) -> Iterable[dict[str, Any]]:
    """Each person's row with a valid ID number of their region and birth date, sealed."""
    taken: dict[tuple[str, date], int] = {}
    for p in people:
        born = born_on(p)
        sequence = taken.get((p.region, born), 0)
        taken[(p.region, born)] = sequence + 1
        sealed = vault.id_number(make_resident_id(p.region, born, sequence))
        yield {
            "psn_no": p.psn_no, "id_hash": sealed.hash, "id_enc": sealed.enc,
            "id_masked": sealed.masked, "sex": "2" if sequence % 2 == 0 else "1",
            "death_date": _day(p.died_at) if p.died_at else None,
        }  # fmt: skip


def load(engine: Engine, population: Population, vault: Vault) -> None:
    """The population's rows, in the operational tables, ID numbers sealed under ``vault``."""
    _write(engine, institutions_table, (
        {"code": i.code[:12], "name": i.code, "region": i.region,
         "kind": "pharmacy" if i.pharmacy else "hospital", "level": "none", "status": "active"}
        for i in population.institutions
    ))  # fmt: skip
    _write(engine, persons, _sealed_ids(vault, population.persons))
    _write(engine, enrolments, (
        {"psn_no": p.psn_no, "insutype": "310" if p.employee else "390", "region": p.region,
         "status": "1", "employment": "employed", "start_date": "2020-01-01"}
        for p in population.persons
    ))  # fmt: skip
    _write(engine, relationships, (
        {"id": r.id, "proposer": r.holder, "relative": r.relative, "kind": r.kind,
         "status": "active", "verification": "registry", "created_at_us": r.created_at,
         "updated_at_us": r.created_at}
        for r in population.relationships
    ))  # fmt: skip
    _write(engine, grants, (_grant_row(g) for g in population.grants))
    _write(engine, settlements, (
        {"setl_id": s.id, "institution_code": s.institution[:12], "request_id": s.id,
         "kind": "settlement", "psn_no": s.psn_no, "insured_region": s.insured_region or "",
         "treatment_region": s.institution_region, "created_at_us": s.at,
         "medfee_sumamt": s.total_fen, "business_date": _day(s.at)}
        for s in population.settlements
    ))  # fmt: skip
    _write(engine, settlement_draws, (
        {"setl_id": s.id, "seq": 1, "kind": "grant", "amount_fen": s.shared_fen}
        for s in population.settlements
        if s.shared_fen
    ))  # fmt: skip
    _statistics(engine)


def _statistics(engine: Engine) -> None:
    """PostgreSQL's planner statistics, as autovacuum keeps them on a living database: right
    after a bulk load they say the tables are small, and the plan chosen for the persons'
    latest enrolment (``facts_repo.PERSONS``) then scans the enrolments once per person (more
    than five minutes for 60 000 persons instead of half a second)."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            raw.execute(connection, "ANALYZE", {})


def _grant_row(g: GrantFact) -> dict[str, Any]:
    return {
        "id": g.id, "contributor": g.contributor, "recipient": g.recipient,
        "amount_fen": g.amount_fen, "state": "accepted", "offered_at_us": g.created_at,
        "accepted_at_us": g.accepted_at, "business_date": _day(g.created_at),
    }  # fmt: skip


def run_bench(
    engine: Engine,
    persons_wanted: int,
    seed: int,
    grants_per_employee: float,
    change_pct: float,
    engines: Sequence[FactEngine] = ("sql",),
) -> RiskBench:
    """``engines`` in the order given (name one twice to alternate), all on the same database;
    a second full run finds the alerts of the first already stored and writes none."""
    population = synthetic(persons_wanted, seed, grants_per_employee, 0.5)
    vault = bench_vault()
    born = born_reader(vault)
    began = time.perf_counter()
    load(engine, population, vault)
    loaded = time.perf_counter()
    now = END_US
    full = [_full_run(engine, facts, now, born) for facts in engines]
    changed = _change(engine, population, change_pct, now)
    later, cpu = time.perf_counter(), time.process_time()
    incremental = run_at(engine, _clock(now + 60 * US_PER_MINUTE), full=False, born=born,
                         window_days=WINDOW_DAYS)  # fmt: skip
    done, incremental_cpu = time.perf_counter(), time.process_time() - cpu
    return RiskBench(
        len(population.persons), len(population.grants), len(population.settlements),
        loaded - began, full, changed, done - later, incremental_cpu, incremental,
    )  # fmt: skip


def _full_run(engine: Engine, facts: FactEngine, now: int, born: Callable[[str], date]) -> FullRun:
    wall, cpu = time.perf_counter(), time.process_time()
    history = full_history(engine, now + 1, window_days=WINDOW_DAYS, born=born, facts=facts)
    read_s, read_cpu_s = time.perf_counter() - wall, time.process_time() - cpu
    read = len(history.grants) + len(history.settlements) + len(history.persons)
    read += len(history.relationships)
    del history
    wall, cpu = time.perf_counter(), time.process_time()
    result = run_at(engine, _clock(now), full=True, window_days=WINDOW_DAYS, born=born, facts=facts)
    run_s, run_cpu_s = time.perf_counter() - wall, time.process_time() - cpu
    return FullRun(facts, read_s, read_cpu_s, read, run_s, run_cpu_s, result)


def _clock(at_us: int) -> Callable[[], int]:
    return lambda: at_us


def _change(engine: Engine, population: Population, change_pct: float, now: int) -> int:
    """``change_pct`` % of the employees give once more, after the full run's watermark."""
    rng = population.rng
    givers = [p for p in population.persons if p.employee]
    chosen = rng.sample(givers, max(1, round(len(givers) * change_pct / 100)))
    made = []
    for k, giver in enumerate(chosen):
        taker = rng.choice(population.persons)
        at = now + (k % 50 + 1) * US_PER_MINUTE // 2
        made.append(GrantFact(f"GX{k:09d}", giver.psn_no, taker.psn_no, 10_000, at, None))
    _write(engine, grants, (_grant_row(g) for g in made))
    _write(engine, person_events, (  # as the grant use cases record them, in both histories
        {"psn_no": psn_no, "kind": "grant_offered", "detail": "{}", "actor": "bench",
         "at_us": g.created_at}
        for g in made
        for psn_no in (g.contributor, g.recipient)
    ))  # fmt: skip
    return len(chosen)
