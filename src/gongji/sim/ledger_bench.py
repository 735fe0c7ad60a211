"""Durable ledger throughput beside a baseline measured in the same run (``gongji bench ledger``).

A transfers-per-second figure means little without the disk and database under it, so each run
also measures the cheapest durable write loop the same database allows and reports the ledger as
a ratio of it: PostgreSQL's ``pgbench`` (built-in ``tpcb-like``, same client count) and, for
SQLite, a raw ``sqlite3`` loop (BEGIN IMMEDIATE, two UPDATEs, one INSERT, COMMIT) on a file
beside the ledger's with the same pragmas, at the row's client count (batches: one client).

The two sides of a row take turns in short slices (baseline, ledger, ledger, baseline, …) rather
than one after the other: this machine's disk and CPU drift by a fifth within a minute, and a
ratio of two figures taken ten seconds apart measured that drift as much as the ledger. Each
row reports the ratio of the two sides' totals and the lowest and highest ratio of a pair of
adjacent slices, so that a reader sees how much the machine moved while it ran.

Durable means committed under SQLite WAL with ``synchronous=FULL`` (what ``make_engine`` sets)
or PostgreSQL's default ``synchronous_commit=on``. Every row, baseline or ledger, starts from the
same fresh state (a new file in a temporary directory; a throw-away schema ``bench_<random>`` in
the ``gongji_bench`` database; ``pgbench -i``) so that no figure depends on an earlier run or on
the rows measured before it. Concurrency is threads: sqlite3 and psycopg release the GIL while
they wait on the disk or the server. The ledger's threads run where a serving process on the
same database keeps its own (``GONGJI_ONE_CORE``, config.one_core_for): by default on one
core on SQLite, where at eight clients their hand-offs across cores cost a transfer more CPU
than its statements (app/one_core.py), and where the kernel puts them on PostgreSQL.

Each ledger row also reports what a transfer cost: this process's CPU (the ledger and the client
threads that call it: no server in between) and round trips to the database, both read at the
edges of every ledger slice's window (sim/cpu.py, sim/db_trips.py), and the machine's busy share
over those windows, since the machine is shared.
"""

from __future__ import annotations

import itertools
import json
import os
import platform
import random
import re
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from gongji.app.one_core import on_one_core
from gongji.config import one_core_for
from gongji.core.clock import SystemClock
from gongji.ledger.book import Ledger
from gongji.ledger.check import CheckReport, check_ledger
from gongji.ledger.types import AccountFlags, CreateTransferResult, NewAccount, Transfer
from gongji.sim.baselines import (
    BaselineMissing,
    SliceRun,
    pgbench_slices,
    sqlite_baseline_slices,
)
from gongji.sim.bench_pg import BenchError, ensure_database, local_pg_url, throwaway_schema
from gongji.sim.cpu import Reading, WindowCost, WindowReadings
from gongji.sim.db_trips import TripCounter, count_trips
from gongji.sim.workload import FUNDING_FEN, Step, StepFactory, measure, pair, transfer_amount
from gongji.store.engine import make_engine
from gongji.store.migrate import upgrade

__all__ = ["BenchError", "BenchOptions", "ensure_database", "run_ledger_bench"]

DATABASES = ("sqlite", "postgres")
PG_DATABASE_DEFAULT = "gongji_bench"
SINGLE_TARGET_RATIO = 0.5
BATCH_TARGET_RATIO = 5.0
LEDGER, CODE_SOURCE, CODE_PERSONAL, CODE_FUNDING, CODE_TRANSFER = 1, 1, 2, 1, 2
SOURCE_ID = "bench-source"
SETUP_CHUNK = 1_000

EngineOpener = Callable[[str], AbstractContextManager[tuple[Engine, TripCounter]]]
"""A fresh, empty database for one row, named by the row, and the counter of its round trips;
disposed of when the row is done."""
Baseline = Callable[[int], AbstractContextManager[SliceRun]]
"""The baseline at a client count, set up fresh for one row: its slices' transfers/s. Raises
:class:`BaselineMissing` when it cannot run (then the row has no ratio)."""


@dataclass(frozen=True, slots=True)
class BenchOptions:
    databases: tuple[str, ...] = DATABASES
    seconds: float = 5.0  # measured seconds per side of a row, over all its slices
    slices: int = 5  # turns each side takes; PostgreSQL's last at least a second (pgbench -T)
    warmup_s: float = 0.2  # before each slice, not counted
    accounts: int = 10_000
    clients: tuple[int, ...] = (1, 8)
    batch_sizes: tuple[int, ...] = (10, 100, 1_000)
    pg_url: str = field(
        default_factory=lambda: os.environ.get(
            "GONGJI_BENCH_PG_URL", local_pg_url(PG_DATABASE_DEFAULT)
        )
    )
    pgbench_scale: int = 10  # ≥ the client count, so pgbench's clients do not queue on branches
    seed: int = 1
    work_dir: Path | None = None  # SQLite files go here and are kept; default: a temporary dir
    group_commit: bool = True  # the ledger's (ledger/group_commit.py); the baselines have none


@dataclass(frozen=True, slots=True)
class BenchRow:
    label: str
    clients: int
    batch_size: int
    transfers: int
    transfers_per_s: float
    baseline_per_s: float | None
    ratio: float | None
    ratio_low: float | None  # the lowest and highest ratio of two adjacent slices
    ratio_high: float | None
    target_ratio: float | None
    met: bool | None
    cpu_ms_per_transfer: float | None = None  # this process's CPU (ledger and its clients)
    db_trips_per_transfer: float | None = None  # round trips to the database (sim/db_trips.py)
    machine_busy: float | None = None  # share of all cores busy while the ledger ran


@dataclass(frozen=True, slots=True)
class DatabaseResult:
    database: str
    baseline: str
    rows: tuple[BenchRow, ...]
    ledger_check: str
    refused: int

    @property
    def targets_met(self) -> bool | None:
        """None when a target could not be judged (no baseline)."""
        verdicts = [row.met for row in self.rows if row.target_ratio is not None]
        return None if None in verdicts or not verdicts else all(verdicts)


@dataclass(frozen=True, slots=True)
class BenchReport:
    started_at: str
    seconds: float
    environment: dict[str, str]
    results: tuple[DatabaseResult, ...]

    def to_json(self) -> str:
        data = asdict(self)
        for result, dumped in zip(self.results, data["results"], strict=True):
            dumped["targets_met"] = result.targets_met
        return json.dumps(data, ensure_ascii=False, indent=2)


def machine() -> dict[str, str]:
    """What a bench report records of where it ran (the database server's version is added)."""
    return {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "cpus": str(os.cpu_count()),
        "platform": platform.platform(),
    }


def run_ledger_bench(options: BenchOptions) -> BenchReport:
    unknown = set(options.databases) - set(DATABASES)
    if unknown:
        raise BenchError(f"unknown database {sorted(unknown)[0]!r} (sqlite or postgres)")
    environment = machine()
    environment["group_commit"] = "on" if options.group_commit else "off"
    environment["one_core"] = os.environ.get("GONGJI_ONE_CORE", "auto")
    started_at = SystemClock().now().isoformat(timespec="seconds")
    results: list[DatabaseResult] = []
    if "sqlite" in options.databases:
        results.append(_bench_sqlite(options))
    if "postgres" in options.databases:
        result, environment["postgresql"] = _bench_postgres(options)
        results.append(result)
    return BenchReport(started_at, options.seconds, environment, tuple(results))


# --- The ledger -------------------------------------------------------------------------------


@dataclass(slots=True)
class _LedgerWorkload:
    ledger: Ledger
    account_ids: list[str]
    seed: int
    refused: list[int] = field(default_factory=list)

    def factory(self, label: str, batch_size: int) -> StepFactory:
        @contextmanager
        def open_step(worker: int) -> Iterator[Step]:
            rng = random.Random(f"{self.seed}-{label}-{worker}")
            ids = (f"{label}-{worker}-{n}" for n in itertools.count())

            def step() -> int:
                batch = [self._transfer(rng, next(ids)) for _ in range(batch_size)]
                results = self.ledger.create_transfers(batch)
                ok = sum(1 for result in results if result is CreateTransferResult.OK)
                if ok < len(results):
                    self.refused.append(len(results) - ok)
                return ok

            yield step

        return open_step

    def _transfer(self, rng: random.Random, transfer_id: str) -> Transfer:
        debit, credit = pair(rng, len(self.account_ids))
        amount, ids = transfer_amount(rng), self.account_ids
        return Transfer(transfer_id, ids[debit], ids[credit], amount, LEDGER, CODE_TRANSFER)


def _setup_ledger(ledger: Ledger, accounts: int) -> list[str]:
    """Bound-checked personal accounts, each funded from one source so that transfers clear."""
    ids = [f"acct-{i:06d}" for i in range(accounts)]
    bounded = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
    fresh = [NewAccount(SOURCE_ID, LEDGER, CODE_SOURCE)]
    fresh += [NewAccount(i, LEDGER, CODE_PERSONAL, flags=bounded) for i in ids]
    funding = [Transfer(f"fund-{i}", SOURCE_ID, i, FUNDING_FEN, LEDGER, CODE_FUNDING) for i in ids]
    for at in range(0, len(fresh), SETUP_CHUNK):
        _require_ok("create accounts", ledger.create_accounts(fresh[at : at + SETUP_CHUNK]))
    for at in range(0, len(funding), SETUP_CHUNK):
        _require_ok("fund accounts", ledger.create_transfers(funding[at : at + SETUP_CHUNK]))
    return ids


def _require_ok(what: str, results: Sequence[str]) -> None:
    refused = [r for r in results if r != "ok"]
    if refused:
        raise BenchError(f"set-up failed to {what}: {refused[0]} ({len(refused)} refused)")


def _bench_database(
    name: str,
    options: BenchOptions,
    opener: EngineOpener,
    baseline: Baseline,
    description: str,
    slicing: tuple[int, float],
) -> DatabaseResult:
    """Each row: the baseline and the ledger on fresh databases, taking turns slice by slice."""
    rows: list[BenchRow] = []
    checks: list[CheckReport] = []
    refused, missing = 0, set[str]()
    for label, clients, size in _plan(options):
        with opener(label) as (engine, counter), ExitStack() as stack:
            ledger = _LedgerSide(engine, options, label, clients, size, counter)
            try:
                base: SliceRun | None = stack.enter_context(baseline(clients))
                why = ""
            except BaselineMissing as missing_here:
                base, why = None, str(missing_here)
            ledger_rates, base_rates, why_later = _take_turns(ledger.run, base, *slicing)
            if why or why_later:
                missing.add(f"{clients}-client baseline missing: {why or why_later}")
            checks.append(check_ledger(engine))
        row = _row(label, clients, size, ledger_rates, base_rates, ledger.committed)
        rows.append(_with_cost(row, ledger.cost))
        refused += sum(ledger.workload.refused)
    description = "; ".join([description, *sorted(missing)])
    return DatabaseResult(name, description, _judge(rows), _verdict(checks), refused)


def _take_turns(
    ledger: SliceRun, baseline: SliceRun | None, slices: int, slice_s: float
) -> tuple[list[float], list[float], str]:
    """Per-slice rates of both sides, in the order B L L B B L …, so that a drift that is
    steady over the row costs both sides alike. A baseline that fails half-way is dropped: no
    rates, and why (else ``""``)."""
    ledger_rates: list[float] = []
    base_rates: list[float] = []
    why = ""
    for index in range(slices):
        ledger_first = index % 2 == 1
        if ledger_first:
            ledger_rates.append(ledger(index, slice_s))
        if baseline is not None:
            try:
                base_rates.append(baseline(index, slice_s))
            except BaselineMissing as missing:
                baseline, base_rates, why = None, [], str(missing)
        if not ledger_first:
            ledger_rates.append(ledger(index, slice_s))
    return ledger_rates, base_rates, why


@dataclass(slots=True)
class _LedgerSide:
    """The ledger's side of a row: a fresh ledger with funded accounts, run slice by slice."""

    engine: Engine
    options: BenchOptions
    label: str
    clients: int
    batch_size: int
    counter: TripCounter
    workload: _LedgerWorkload = field(init=False)
    committed: int = 0
    cost: WindowCost = field(default_factory=WindowCost)
    one_core: bool = field(init=False)

    def __post_init__(self) -> None:
        # Its threads where a serving process on this database keeps its own (app/one_core.py).
        self.one_core = one_core_for(os.environ, self.engine.url.render_as_string())
        upgrade(self.engine)
        ledger = Ledger(self.engine, SystemClock(), group_commit=self.options.group_commit)
        accounts = _setup_ledger(ledger, self.options.accounts)
        self.workload = _LedgerWorkload(ledger, accounts, self.options.seed)

    def run(self, index: int, seconds: float) -> float:
        tag = f"{self.label.replace(' ', '').replace(',', '-')}-{index}"  # ids new per slice
        factory = self.workload.factory(tag, self.batch_size)
        window = time.monotonic() + self.options.warmup_s  # measure's own window, to within µs
        readings = WindowReadings(self._reading, window, window + seconds)
        with on_one_core() if self.one_core else nullcontext():
            count = measure(factory, self.clients, seconds, self.options.warmup_s)
        self.cost.add(*readings.result(), count)
        self.committed += count
        return count / seconds

    def _reading(self) -> Reading:
        return Reading.now(time.process_time(), self.counter.trips)


def _with_cost(row: BenchRow, cost: WindowCost) -> BenchRow:
    return replace(
        row,
        cpu_ms_per_transfer=cost.cpu_ms_each,
        db_trips_per_transfer=cost.trips_each,
        machine_busy=cost.machine_busy,
    )


def _plan(options: BenchOptions) -> list[tuple[str, int, int]]:
    """(label, clients, batch size) per row; batches run with one client."""
    singles = [(f"single, {c} client{'s' * (c > 1)}", c, 1) for c in options.clients]
    return singles + [(f"batch {size}", 1, size) for size in options.batch_sizes]


def _row(
    label: str,
    clients: int,
    size: int,
    ledger_rates: list[float],
    base_rates: list[float],
    committed: int,
) -> BenchRow:
    rate = statistics.fmean(ledger_rates)
    base = statistics.fmean(base_rates) if base_rates else None
    ratio = rate / base if base else None
    pairs = [led / b for led, b in zip(ledger_rates, base_rates, strict=False) if b > 0]
    low, high = (min(pairs), max(pairs)) if pairs else (None, None)
    return BenchRow(label, clients, size, committed, rate, base, ratio, low, high, None, None)


def _judge(rows: list[BenchRow]) -> tuple[BenchRow, ...]:
    """Targets: every single-transfer row ≥ 0.5× its baseline; the best batch ≥ 5×."""
    batches = [row for row in rows if row.batch_size > 1]
    best = max(batches, key=lambda row: row.transfers_per_s, default=None)
    judged = []
    for row in rows:
        target = SINGLE_TARGET_RATIO if row.batch_size == 1 else None
        target = BATCH_TARGET_RATIO if row is best else target
        met = None if target is None or row.ratio is None else row.ratio >= target
        judged.append(replace(row, target_ratio=target, met=met))
    return tuple(judged)


def _verdict(checks: list[CheckReport]) -> str:
    failed = [check for check in checks if not check.ok]
    if failed:
        return failed[0].verdict()
    transfers = sum(check.transfers for check in checks)
    return f"ledger check: ok on all {len(checks)} row databases ({transfers} transfers)"


# --- SQLite -----------------------------------------------------------------------------------


def _bench_sqlite(options: BenchOptions) -> DatabaseResult:
    with work_dir_for(options.work_dir) as directory:

        @contextmanager
        def opener(label: str) -> Iterator[tuple[Engine, TripCounter]]:
            engine = make_engine(f"sqlite:///{directory / _file_name('ledger', label)}")
            counter = TripCounter()
            count_trips(engine, counter)
            try:
                yield engine, counter
            finally:
                engine.dispose()

        def baseline(clients: int) -> AbstractContextManager[SliceRun]:
            path = directory / _file_name("baseline", f"{clients}-clients-{uuid.uuid4().hex[:6]}")
            return sqlite_baseline_slices(
                path, options.accounts, options.seed, clients, options.warmup_s
            )

        description = (
            "raw sqlite3 loop (BEGIN IMMEDIATE, 2 UPDATEs, 1 INSERT, COMMIT), a fresh file per row,"
            " WAL, synchronous=FULL, one connection per client thread"
        )
        slicing = options.slices, options.seconds / options.slices
        return _bench_database("sqlite", options, opener, baseline, description, slicing)


def _file_name(kind: str, label: str) -> str:
    return f"{kind}-{re.sub(r'[^a-z0-9]+', '-', label)}.db"


@contextmanager
def work_dir_for(kept: Path | None) -> Iterator[Path]:
    if kept is not None:
        kept.mkdir(parents=True, exist_ok=True)
        yield kept
        return
    with tempfile.TemporaryDirectory(prefix="gongji-bench-") as directory:
        yield Path(directory)


# --- PostgreSQL -------------------------------------------------------------------------------


def _bench_postgres(options: BenchOptions) -> tuple[DatabaseResult, str]:
    url = make_url(options.pg_url)
    if url.get_backend_name() != "postgresql":
        raise BenchError(f"not a PostgreSQL URL: {url.render_as_string()}")
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    version = ensure_database(url)

    @contextmanager
    def opener(_label: str) -> Iterator[tuple[Engine, TripCounter]]:
        counter = TripCounter()
        with throwaway_schema(url, pool_size=max(options.clients), counter=counter) as engine:
            yield engine, counter

    scale = max(options.pgbench_scale, *options.clients)  # a branch row per client at least
    slices = max(1, min(options.slices, round(options.seconds)))  # pgbench -T: whole seconds
    slice_s = _whole_seconds(options.seconds / slices)
    description = (
        f"pgbench -b tpcb-like, scale {scale} (pgbench -i -s {scale} before each row),"
        f" -c C -j min(C,2) -T {slice_s:g} -n a slice, database {url.database}"
    )

    def baseline(clients: int) -> AbstractContextManager[SliceRun]:
        return pgbench_slices(url, scale, clients)

    slicing = slices, float(slice_s)
    result = _bench_database("postgres", options, opener, baseline, description, slicing)
    return result, version


def _whole_seconds(seconds: float) -> int:
    return max(1, round(seconds))
