"""Settlements per second through the services and through HTTP (``gongji bench settle``).

For each database: a fresh store (a SQLite file in a temporary directory; a throw-away schema
``bench_<random>`` on PostgreSQL), seeded with sim/settle_world.py, given a history (a bill per
pair settled, then PostgreSQL's planner statistics gathered, as in service), then loaded with the
bills of sim/settle_mix.py (70 % pharmacy, 25 % outpatient, 5 % inpatient; a third paid with
shared money). Rows, in order, each over the same measured window:

- ``service``: ``services.settlement.settle`` in its own transaction per bill, from client
  threads in this process (what the code costs without HTTP and signing);
- ``app``, ``app health`` and ``app fsi visit``: the same app the server runs, called through
  ASGI in this process, one request at a time, with no HTTP server: the app's own CPU a signed
  settlement, a health check and a national-interface visit, steadier than the HTTP rows'
  (sim/settle_app.py). ``--app-only`` runs these alone;
- ``http``: signed ``POST /api/v1/settlements`` (docs/signing.md) to the real app under uvicorn
  in a separate process on 127.0.0.1 (sim/settle_server.py), from the same number of client
  threads spread over ``client_processes`` processes, requests signed ahead
  (sim/settle_clients.py);
- ``http health``: ``GET /api/v1/health`` on the same server from the same load generator: the
  ceiling of this HTTP stack on this machine. The ``http`` row is reported as a ratio of it;
- with ``compare_threads``, the same two rows from the earlier generator (threads of this
  process, httpx2, signing as they send: sim/settle_threads.py), to show what it held back;
- with ``workers`` (PostgreSQL only: SQLite keeps one writer process), ``http`` at as fast as
  it goes against a server of each of those numbers of uvicorn worker processes.

Every row carries the CPU a request cost the server (the bench process for the service rows),
the round trips to the database per request, and the client processes' CPU share, marked
``client_saturated`` when the clients were the limit (sim/settle_measure.py).

With ``rate`` set, the service and HTTP rows are also run at that fixed rate (open loop, see
sim/settle_load.py) to give latency percentiles at a known load. After every row that writes
(all but the health rows) the ledger must check clean (``gongji ledger check``'s invariants);
the verdict, naming the row after which a check failed, is part of the report.
"""

from __future__ import annotations

import base64
import json
import math
import os
import secrets
import tempfile
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from typing import Final

from sqlalchemy import Engine

from gongji.app.asgi import create_app
from gongji.app.one_core import on_one_core
from gongji.bootstrap import build
from gongji.config import Settings
from gongji.kernel.context import Context
from gongji.ledger.check import CheckReport, check_ledger
from gongji.sim.bench_pg import BenchError, local_pg_url
from gongji.sim.cpu import cores, machine_times, named_processes_cpu_s
from gongji.sim.db_trips import TripCounter
from gongji.sim.ledger_bench import machine
from gongji.sim.settle_app import app_rows
from gongji.sim.settle_clients import ClientPlan
from gongji.sim.settle_measure import (
    SettleRow,
    Snapshot,
    client_processes,
    in_process,
    settle_row,
    threads_usage,
)
from gongji.sim.settle_server import BenchServer, ServerFailed, bench_server
from gongji.sim.settle_store import bench_store
from gongji.sim.settle_threads import (
    SenderFor,
    health_sender,
    http_sender,
    service_sender,
    visit_sender,
)
from gongji.sim.settle_world import IDENTIFICATIONS_ALLOWED, World, seed_clock, seed_world
from gongji.store.engine import pg_address
from gongji.store.planner import gather_statistics

__all__ = ["SettleOptions", "SettleReport", "SettleRow", "run_settle_bench"]

DATABASES: Final = ("sqlite", "postgres")
LAYERS: Final = ("service", "app", "http")
PG_DATABASE_DEFAULT: Final = "test"
POSTGRES_PROCESS: Final = "postgres"
"""The command name of PostgreSQL's server processes in ``/proc`` (postmaster and backends)."""
HTTP_TARGET_PER_S: Final = 1_000.0
P99_TARGET_MS: Final = 100.0
P99_TARGET_RATE: Final = 500.0
IN_FLIGHT_S: Final = 0.1  # the p99 target: a fixed rate gets rate × this many threads at least


_PASSED_ON: Final = ("GONGJI_SQLITE_GROUP_COMMIT", "GONGJI_ONE_CORE")
"""Settings the bench's own context (the service and app rows) takes from its environment, as
the server does, so that a run with ``GONGJI_SQLITE_GROUP_COMMIT=0`` commits each write alone on
every row, and one with ``GONGJI_ONE_CORE=0`` leaves every row's threads to the kernel; the
context's other settings are the bench's."""


@dataclass(frozen=True, slots=True)
class SettleOptions:
    databases: tuple[str, ...] = DATABASES
    layers: tuple[str, ...] = LAYERS
    seconds: float = 10.0
    warmup_s: float = 2.0
    clients: int = 16
    rate: float | None = None
    server_workers: int = 1  # uvicorn worker processes
    client_processes: int = field(default_factory=cores)
    compare_threads: bool = False  # also the earlier thread generator's HTTP rows
    workers: tuple[int, ...] = ()  # PostgreSQL: http rows at these numbers of server workers
    pairs: int = 1_000  # employee–parent pairs: 2 × this many insured persons
    pg_url: str = field(
        default_factory=lambda: os.environ.get(
            "GONGJI_BENCH_PG_URL", local_pg_url(PG_DATABASE_DEFAULT)
        )
    )
    seed: int = 1


@dataclass(frozen=True, slots=True)
class DatabaseSettleResult:
    database: str
    setup_s: float
    rows: tuple[SettleRow, ...]
    ledger_check: str
    ledger_ok: bool


@dataclass(frozen=True, slots=True)
class SettleReport:
    started_at: str
    seconds: float
    clients: int
    rate: float | None
    server_workers: int
    client_processes: int
    persons: int
    mix: str
    environment: dict[str, str]
    results: tuple[DatabaseSettleResult, ...]

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)


def run_settle_bench(options: SettleOptions) -> SettleReport:
    unknown = (set(options.databases) - set(DATABASES)) | (set(options.layers) - set(LAYERS))
    if unknown:
        raise BenchError(f"unknown database or layer {sorted(unknown)[0]!r}")
    environment = machine()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    results = []
    for database in options.databases:
        counter = TripCounter()
        try:
            with bench_store(database, options.pg_url, counter) as (engine, url, schema, version):
                if version:
                    environment["postgresql"] = version
                store = _Store(database, engine, url, schema, counter)
                results.append(_bench_database(database, store, options))
        except ServerFailed as error:
            raise BenchError(str(error)) from None
    mix = "70% pharmacy (41), 25% outpatient (11), 5% inpatient (21); 1/3 grant recipients"
    return SettleReport(
        started_at,
        options.seconds,
        options.clients,
        options.rate,
        options.server_workers,
        options.client_processes,
        2 * options.pairs,
        mix,
        environment,
        tuple(results),
    )


# --- one database -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Store:
    database: str
    engine: Engine
    url: str
    schema: str | None
    counter: TripCounter  # the bench process's round trips to it
    checks: list[tuple[str, CheckReport]] = field(default_factory=list)

    def database_cpu_s(self) -> float | None:
        """PostgreSQL's processes' CPU seconds so far when it runs on this machine, where it
        shares the cores with gongji; None for SQLite (in gongji's own processes) and for a
        server elsewhere."""
        if self.database != "postgres" or not pg_address(self.url).on_this_machine:
            return None
        return named_processes_cpu_s(POSTGRES_PROCESS)

    def checked(self, row: SettleRow) -> SettleRow:
        """``row``, once the ledger has passed ``gongji ledger check``'s invariants after it
        (or failed them: the report says after which row)."""
        self.checks.append((row.layer, check_ledger(self.engine)))
        return row

    def verdict(self) -> tuple[str, bool]:
        """The first failed check, else the last, with how many rows were checked."""
        failed = [(layer, report) for layer, report in self.checks if not report.ok]
        if failed:
            layer, report = failed[0]
            return f"after the {layer} row: {report.verdict()}", False
        last = check_ledger(self.engine) if not self.checks else self.checks[-1][1]
        rows = len(self.checks)
        return f"{last.verdict()} (checked after each of {rows} writing rows)", True


def _bench_database(database: str, store: _Store, options: SettleOptions) -> DatabaseSettleResult:
    with tempfile.TemporaryDirectory(prefix="gongji-settle-") as data_dir:
        key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        env = {
            "GONGJI_DATA_DIR": data_dir,
            "GONGJI_SECRET_KEY": key,
            "GONGJI_DATABASE_URL": store.url,
            **IDENTIFICATIONS_ALLOWED,
            **{name: os.environ[name] for name in _PASSED_ON if name in os.environ},
        }
        settings = Settings.from_env(env)
        began = time.perf_counter()
        seeding = build(settings, engine=store.engine, clock=seed_clock(datetime.now(UTC)))
        world = seed_world(seeding.context, options.pairs)
        ctx = build(settings, engine=store.engine, migrate=False).context
        _settle_history(ctx, world, store, options)
        setup_s = time.perf_counter() - began
        rows: list[SettleRow] = []
        with on_one_core() if settings.one_core else nullcontext():  # as a server runs them
            if "service" in options.layers:
                rows += _service_rows(service_sender(ctx, world, options.seed), store, options)
            if "app" in options.layers:
                rows += _app_rows(settings, store, world, options)
        if "http" in options.layers:
            rows += _http_rows(env, store, world, options)
            rows += _workers_rows(database, env, store, world, options)
    verdict, ok = store.verdict()
    return DatabaseSettleResult(database, setup_s, _judge(rows), verdict, ok)


def _settle_history(ctx: Context, world: World, store: _Store, options: SettleOptions) -> None:
    """Before the first row, a bill per pair settled, then the planner's statistics gathered:
    what a store in service has, tables with rows and statistics of them (PostgreSQL's
    autovacuum keeps them; SQLite plans without). On a fresh schema PostgreSQL planned the
    keyed reads of the tables a run fills (a person's events, their settlements, the
    accumulators) as sequential scans, each slower as the rows grew: 1.75 ms of its CPU a
    settlement, against 0.78 ms with a history and statistics (docs/benchmarks.md)."""
    with service_sender(ctx, world, options.seed)("history")(0) as send:
        for _ in range(options.pairs):
            send()
    gather_statistics(store.engine)


def _service_rows(sender: SenderFor, store: _Store, options: SettleOptions) -> list[SettleRow]:
    """The closed-loop row, then (with ``rate``) the fixed-rate row, of the service layer."""

    def read() -> Snapshot:
        cpu_s, trips = time.process_time(), store.counter.trips
        return Snapshot(cpu_s, trips, 0.0, machine_times(), store.database_cpu_s())

    timing: tuple[float, float, float | None] = (options.seconds, options.warmup_s, None)
    measured = in_process(sender("service-max"), options.clients, timing, read)
    rows = [settle_row(("service", "max", "in-process", None), options.clients, measured)]
    store.checked(rows[-1])
    if options.rate is not None:
        clients, timing = rate_clients(options), (options.seconds, options.warmup_s, options.rate)
        measured = in_process(sender("service-rate"), clients, timing, read)
        label = ("service", f"{options.rate:g}/s", "in-process", None)
        rows.append(store.checked(settle_row(label, clients, measured)))
    return rows


def _app_rows(
    settings: Settings, store: _Store, world: World, options: SettleOptions
) -> list[SettleRow]:
    """The app alone, called in this process: its own CPU a request (sim/settle_app.py)."""
    app = create_app(build(settings, engine=store.engine, migrate=False))
    timing = (options.seconds, options.warmup_s)
    return app_rows(app, world, store, timing, options.seed)


def _http_rows(
    env: dict[str, str], store: _Store, world: World, options: SettleOptions
) -> list[SettleRow]:
    workers = options.server_workers
    rows = []
    with bench_server(env, store.schema, workers) as server:
        rows.append(store.checked(_processes_row(server, store, world, options, "http", "settle")))
        if options.rate is not None:
            fixed = _processes_row(server, store, world, options, "http", "settle", options.rate)
            rows.append(store.checked(fixed))
        rows.append(_processes_row(server, store, world, options, "http health", "health"))
        rows.append(store.checked(_visit_row(server, store, world, options)))
        if options.compare_threads:
            rows += [store.checked(row) for row in _threads_rows(server, store, world, options)]
    return rows


def _visit_row(
    server: BenchServer, store: _Store, world: World, options: SettleOptions
) -> SettleRow:
    """Whole outpatient visits over the national interface (2201 → 2203 → 2204 → 2207), sent
    by threads: a visit is four dependent messages, which the process generator does not
    sign ahead."""
    base_url = f"http://{server.host}:{server.port}"
    factory = visit_sender(base_url, world, options.seed)(f"visit-{server.pid}")
    timing = (options.seconds, options.warmup_s, None)
    measured = in_process(factory, options.clients, timing, lambda: _server_reading(server, store))
    measured = replace(measured, usage=threads_usage(measured.edges, options.seconds))
    label = ("http fsi visit", "max", "threads", options.server_workers)
    return settle_row(label, options.clients, measured)


def _workers_rows(
    database: str, env: dict[str, str], store: _Store, world: World, options: SettleOptions
) -> list[SettleRow]:
    """``http`` as fast as it goes at each number of server workers (PostgreSQL only)."""
    if database != "postgres":
        return []
    rows = []
    for workers in options.workers:
        with bench_server(env, store.schema, workers) as server:
            row = _processes_row(server, store, world, options, "http workers", "settle")
            rows.append(store.checked(replace(row, server_workers=workers)))
    return rows


def _server_reading(server: BenchServer, store: _Store) -> Snapshot:
    reading = server.read()
    return Snapshot(
        reading.cpu_s, reading.trips, time.process_time(), machine_times(), store.database_cpu_s()
    )


def _processes_row(
    server: BenchServer,
    store: _Store,
    world: World,
    options: SettleOptions,
    layer: str,
    kind: str,
    rate: float | None = None,
) -> SettleRow:
    clients = options.clients if rate is None else rate_clients(options)
    mode = "max" if rate is None else f"{rate:g}/s"
    kind_of_load = "max" if rate is None else "rate"
    label = f"{layer.replace(' ', '-')}-{kind_of_load}-{server.pid}"  # ids: letters, digits, -
    plan = ClientPlan(
        kind, server.host, server.port, world if kind == "settle" else None, label, options.seed,
        min(options.client_processes, clients), clients, options.seconds, options.warmup_s, rate,
    )  # fmt: skip
    measured = client_processes(plan, lambda: _server_reading(server, store))
    return settle_row((layer, mode, "processes", options.server_workers), clients, measured)


def _threads_rows(
    server: BenchServer, store: _Store, world: World, options: SettleOptions
) -> list[SettleRow]:
    """The earlier generator's ``http`` and ``http health`` rows, as fast as they go."""
    base_url = f"http://{server.host}:{server.port}"
    timing = (options.seconds, options.warmup_s, None)
    rows = []
    for layer, factory in (
        ("http", http_sender(base_url, world, options.seed)(f"threads-{server.pid}")),
        ("http health", health_sender(base_url)),
    ):
        read = partial(_server_reading, server, store)
        measured = in_process(factory, options.clients, timing, read)
        measured = replace(measured, usage=threads_usage(measured.edges, options.seconds))
        label = (layer, "max", "threads", options.server_workers)
        rows.append(settle_row(label, options.clients, measured))
    return rows


def rate_clients(options: SettleOptions) -> int:
    """Threads for a fixed rate: enough that every request may wait ``IN_FLIGHT_S`` for its
    answer before the load generator itself runs short of threads and delays the next ones."""
    assert options.rate is not None
    return max(options.clients, math.ceil(options.rate * IN_FLIGHT_S))


def _judge(rows: list[SettleRow]) -> tuple[SettleRow, ...]:
    """HTTP at full speed: ≥ 1 000/s, and its ratio to health of the same generator; at
    500/s: p99 ≤ 100 ms. The targets judge the process generator's rows only."""
    health = {row.generator: row for row in rows if row.layer == "http health"}
    judged = []
    for row in rows:
        if row.layer == "http" and row.mode == "max":
            ceiling = health.get(row.generator)
            ratio = row.per_s / ceiling.per_s if ceiling and ceiling.per_s else None
            row = replace(row, health_ratio=ratio)
        if row.generator == "processes" and row.layer == "http" and row.mode == "max":
            met = row.per_s >= HTTP_TARGET_PER_S
            row = replace(row, target=f"≥ {HTTP_TARGET_PER_S:,.0f}/s", met=met)
        elif row.layer == "http" and row.mode == f"{P99_TARGET_RATE:g}/s":
            met = row.p99_ms is not None and row.p99_ms <= P99_TARGET_MS and not row.refused
            row = replace(row, target=f"p99 ≤ {P99_TARGET_MS:g} ms", met=met)
        judged.append(row)
    return tuple(judged)
