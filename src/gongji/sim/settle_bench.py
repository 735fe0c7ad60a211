"""Settlements per second through the services and through HTTP (``gongji bench settle``).

For each database: a fresh store (a SQLite file in a temporary directory; a throw-away schema
``bench_<random>`` on PostgreSQL), seeded with sim/settle_world.py, then loaded with the bills of
sim/settle_mix.py (70 % pharmacy, 25 % outpatient, 5 % inpatient; a third paid with shared
money). Rows, in order, each over the same measured window:

- ``service``: ``services.settlement.settle`` in its own transaction per bill, from client
  threads in this process (what the code costs without HTTP and signing);
- ``http``: signed ``POST /api/v1/settlements`` (docs/signing.md) to the real app under uvicorn
  in a separate process on 127.0.0.1, from the same number of client threads, each with its own
  keep-alive ``httpx2`` connection;
- ``http health``: ``GET /api/v1/health`` on the same server from the same load generator: the
  ceiling of this HTTP stack and client on this machine. The ``http`` row is reported as a
  ratio of it.

With ``rate`` set, the service and HTTP rows are also run at that fixed rate (open loop, see
sim/settle_load.py) to give latency percentiles at a known load. Afterwards the ledger must
check clean (``gongji ledger check``'s invariants); its verdict is part of the report.
"""

from __future__ import annotations

import base64
import itertools
import json
import math
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url

from gongji.bootstrap import build
from gongji.config import Settings
from gongji.core.errors import GongjiError
from gongji.identity.service.signing import sign_request
from gongji.kernel.context import Context
from gongji.ledger.check import check_ledger
from gongji.settlement.service import settlement
from gongji.settlement.service.settlement_quote import SettleRequest
from gongji.settlement.store.settlements_repo import SettlementRow
from gongji.sim.ledger_bench import BenchError, ensure_database, machine
from gongji.sim.settle_load import (
    Outcome,
    Send,
    SenderFactory,
    Tally,
    closed_loop,
    fixed_rate,
    percentile_ms,
)
from gongji.sim.settle_mix import FSI_PATH, VISIT_MIX, draw_bill, draw_visit, send_visit
from gongji.sim.settle_server import SCHEMA_VARIABLE
from gongji.sim.settle_world import World, seed_clock, seed_world
from gongji.store.engine import make_engine
from gongji.store.uow import UnitOfWork, run_in_transaction

DATABASES: Final = ("sqlite", "postgres")
LAYERS: Final = ("service", "http")
PG_URL_DEFAULT: Final = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SETTLE_PATH: Final = "/api/v1/settlements"
HEALTH_PATH: Final = "/api/v1/health"
HTTP_TARGET_PER_S: Final = 1_000.0
P99_TARGET_MS: Final = 100.0
P99_TARGET_RATE: Final = 500.0
SERVER_START_S: Final = 30.0
POOL_SIZE: Final = 40
SenderFor = Callable[[str], SenderFactory]
"""Senders for one row, named by the row (request ids and random streams differ per row)."""
IN_FLIGHT_S: Final = 0.1  # the p99 target: a fixed rate gets rate × this many threads at least


@dataclass(frozen=True, slots=True)
class SettleOptions:
    databases: tuple[str, ...] = DATABASES
    layers: tuple[str, ...] = LAYERS
    seconds: float = 10.0
    warmup_s: float = 2.0
    clients: int = 16
    rate: float | None = None
    server_workers: int = 1  # uvicorn worker processes
    pairs: int = 1_000  # employee–parent pairs: 2 × this many insured persons
    pg_url: str = field(
        default_factory=lambda: os.environ.get("GONGJI_BENCH_PG_URL", PG_URL_DEFAULT)
    )
    seed: int = 1


@dataclass(frozen=True, slots=True)
class SettleRow:
    layer: str  # service | http | http health
    mode: str  # "max" (closed loop) or "500/s" (fixed rate)
    clients: int
    completed: int
    per_s: float
    shared: int  # settlements that drew shared money (grants)
    refused: dict[str, int]
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    health_ratio: float | None = None
    target: str | None = None
    met: bool | None = None


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
        with _store(database, options) as (engine, url, schema, version):
            if version:
                environment["postgresql"] = version
            results.append(_bench_database(database, engine, url, schema, options))
    mix = "70% pharmacy (41), 25% outpatient (11), 5% inpatient (21); 1/3 grant recipients"
    mix += f"; row 'http fsi visit': {VISIT_MIX}"
    return SettleReport(
        started_at,
        options.seconds,
        options.clients,
        options.rate,
        options.server_workers,
        2 * options.pairs,
        mix,
        environment,
        tuple(results),
    )


# --- one database -----------------------------------------------------------------------------


def _bench_database(
    database: str, engine: Engine, url: str, schema: str | None, options: SettleOptions
) -> DatabaseSettleResult:
    with tempfile.TemporaryDirectory(prefix="gongji-settle-") as data_dir:
        key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        env = {"GONGJI_DATA_DIR": data_dir, "GONGJI_SECRET_KEY": key, "GONGJI_DATABASE_URL": url}
        settings = Settings.from_env(env)
        began = time.perf_counter()
        seeding = build(settings, engine=engine, clock=seed_clock(datetime.now(UTC)))
        world = seed_world(seeding.context, options.pairs)
        setup_s = time.perf_counter() - began
        rows: list[SettleRow] = []
        if "service" in options.layers:
            ctx = build(settings, engine=engine, migrate=False).context
            rows += _rows("service", _service_sender(ctx, world, options.seed), options)
        if "http" in options.layers:
            with _server(env, schema, options.server_workers) as base_url:
                rows += _rows("http", _http_sender(base_url, world, options.seed), options)
                visits = _fsi_visit_sender(base_url, world, options.seed)
                rows += _rows("http fsi visit", visits, options)
                health = closed_loop(
                    _health_sender(base_url), options.clients, options.seconds, options.warmup_s
                )
                rows.append(_row("http health", "max", options.clients, options, health))
    report = check_ledger(engine)
    return DatabaseSettleResult(database, setup_s, _judge(rows), report.verdict(), report.ok)


def _rows(layer: str, sender: SenderFor, options: SettleOptions) -> list[SettleRow]:
    """The closed-loop row, then (with ``rate``) the fixed-rate row, of one layer."""
    tally = closed_loop(sender(f"{layer}-max"), options.clients, options.seconds, options.warmup_s)
    rows = [_row(layer, "max", options.clients, options, tally)]
    if options.rate is not None:
        mode, clients = f"{options.rate:g}/s", rate_clients(options)
        tally, achieved = fixed_rate(
            sender(f"{layer}-rate"), clients, options.rate, options.seconds, options.warmup_s
        )
        rows.append(_row(layer, mode, clients, options, tally, achieved))
    return rows


def rate_clients(options: SettleOptions) -> int:
    """Threads for a fixed rate: enough that every request may wait ``IN_FLIGHT_S`` for its
    answer before the load generator itself runs short of threads and delays the next ones."""
    assert options.rate is not None
    return max(options.clients, math.ceil(options.rate * IN_FLIGHT_S))


def _row(
    layer: str,
    mode: str,
    clients: int,
    options: SettleOptions,
    tally: Tally,
    per_s: float | None = None,
) -> SettleRow:
    """``per_s``: the achieved rate of a fixed-rate row; a closed loop's is counted here."""
    latencies = tally.latencies_s
    return SettleRow(
        layer=layer,
        mode=mode,
        clients=clients,
        completed=len(latencies),
        per_s=len(latencies) / options.seconds if per_s is None else per_s,
        shared=tally.shared,
        refused=dict(sorted(tally.refused.items())),
        p50_ms=percentile_ms(latencies, 50),
        p95_ms=percentile_ms(latencies, 95),
        p99_ms=percentile_ms(latencies, 99),
    )


def _judge(rows: list[SettleRow]) -> tuple[SettleRow, ...]:
    """HTTP at full speed: ≥ 1 000/s, and its ratio to health; at 500/s: p99 ≤ 100 ms."""
    health = next((row for row in rows if row.layer == "http health"), None)
    judged = []
    for row in rows:
        if row.layer == "http" and row.mode == "max":
            ratio = row.per_s / health.per_s if health and health.per_s else None
            met = row.per_s >= HTTP_TARGET_PER_S
            row = replace(row, health_ratio=ratio, target=f"≥ {HTTP_TARGET_PER_S:,.0f}/s", met=met)
        elif row.layer == "http" and row.mode == f"{P99_TARGET_RATE:g}/s":
            met = row.p99_ms is not None and row.p99_ms <= P99_TARGET_MS and not row.refused
            row = replace(row, target=f"p99 ≤ {P99_TARGET_MS:g} ms", met=met)
        judged.append(row)
    return tuple(judged)


# --- senders ----------------------------------------------------------------------------------


def _service_sender(ctx: Context, world: World, seed: int) -> SenderFor:
    def factory(label: str) -> SenderFactory:
        @contextmanager
        def open_sender(worker: int) -> Iterator[Send]:
            rng = random.Random(f"{seed}-{label}-{worker}")
            numbers = itertools.count()

            def send() -> Outcome:
                bill = draw_bill(rng, world)
                code = world.keys[bill.key_index].institution_code
                request = bill.request(code, f"{label}-{worker}-{next(numbers)}")
                try:
                    row = run_in_transaction(ctx.engine, lambda uow: _settled(ctx, uow, request))
                except GongjiError as error:
                    return Outcome(error.code)
                return Outcome(None, row.acct_mulaid_pay > 0)

            yield send

        return open_sender

    return factory


def _settled(ctx: Context, uow: UnitOfWork, request: SettleRequest) -> SettlementRow:
    row = settlement.settle(ctx, uow, request)
    uow.commit()
    return row


def _httpx() -> Any:
    """httpx2 is a development dependency: only the HTTP rows need it."""
    try:
        import httpx2 as httpx
    except ImportError:
        raise BenchError(
            "the HTTP rows need httpx2 (pip install -e '.[dev]'), or run with --service-only"
        ) from None
    return httpx


def _http_sender(base_url: str, world: World, seed: int) -> SenderFor:
    httpx = _httpx()

    def factory(label: str) -> SenderFactory:
        @contextmanager
        def open_sender(worker: int) -> Iterator[Send]:
            rng = random.Random(f"{seed}-{label}-{worker}")
            numbers = itertools.count()
            with httpx.Client(base_url=base_url, timeout=60.0) as client:

                def send() -> Outcome:
                    bill = draw_bill(rng, world)
                    key = world.keys[bill.key_index]
                    body = json.dumps(bill.body(f"{label}-{worker}-{next(numbers)}")).encode()
                    signed = sign_request(
                        key.key_id, key.secret, "POST", SETTLE_PATH, body,
                        int(time.time()), uuid.uuid4().hex,
                    )  # fmt: skip
                    headers = {**signed, "Content-Type": "application/json"}
                    try:
                        answer = client.post(SETTLE_PATH, content=body, headers=headers)
                    except httpx.HTTPError as error:
                        return Outcome(f"transport: {type(error).__name__}")
                    if answer.status_code != 201:
                        return Outcome(_refusal_code(answer.status_code, answer.content))
                    return Outcome(None, answer.json().get("acct_mulaid_pay") != "0.00")

                yield send

        return open_sender

    return factory


def _fsi_visit_sender(base_url: str, world: World, seed: int) -> SenderFor:
    """The outpatient-visit mix (settle_mix.send_visit): one send is a whole visit."""
    httpx = _httpx()

    def factory(label: str) -> SenderFactory:
        @contextmanager
        def open_sender(worker: int) -> Iterator[Send]:
            rng, numbers = random.Random(f"{seed}-{label}-{worker}"), itertools.count()
            with httpx.Client(base_url=base_url, timeout=60.0) as client:

                def post(body: bytes, headers: Mapping[str, str]) -> Any:
                    return client.post(FSI_PATH, content=body, headers=dict(headers)).json()

                def send() -> Outcome:
                    tag = "".join(c for c in label if c.isalnum())[-6:]  # msgid: no spaces
                    number = f"{tag}{worker:03d}{next(numbers):08d}"
                    return send_visit(post, world, draw_visit(rng, world), number)

                yield send

        return open_sender

    return factory


def _health_sender(base_url: str) -> SenderFactory:
    httpx = _httpx()

    @contextmanager
    def open_sender(_worker: int) -> Iterator[Send]:
        with httpx.Client(base_url=base_url, timeout=60.0) as client:

            def send() -> Outcome:
                try:
                    answer = client.get(HEALTH_PATH)
                except httpx.HTTPError as error:
                    return Outcome(f"transport: {type(error).__name__}")
                return Outcome(None if answer.status_code == 200 else f"http {answer.status_code}")

            yield send

    return open_sender


def _refusal_code(status: int, content: bytes) -> str:
    try:
        code = json.loads(content).get("code")
    except (ValueError, AttributeError):
        code = None
    return f"http {status} {code}" if code else f"http {status}"


# --- stores and the server --------------------------------------------------------------------


@contextmanager
def _store(
    database: str, options: SettleOptions
) -> Iterator[tuple[Engine, str, str | None, str | None]]:
    """(engine, URL, schema, server version) of a fresh, empty store, removed afterwards."""
    if database == "sqlite":
        with tempfile.TemporaryDirectory(prefix="gongji-settle-db-") as directory:
            url = f"sqlite:///{Path(directory) / 'settle.db'}"
            engine = make_engine(url, pool_size=POOL_SIZE)
            try:
                yield engine, url, None, None
            finally:
                engine.dispose()
        return
    pg_url = _pg_url(options.pg_url)
    version = ensure_database(pg_url)
    plain = pg_url.render_as_string(hide_password=False)
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        engine = make_engine(plain, schema=schema, pool_size=POOL_SIZE)
        try:
            yield engine, plain, schema, version
        finally:
            engine.dispose()
            with admin.connect() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    finally:
        admin.dispose()


def _pg_url(text_url: str) -> URL:
    url = make_url(text_url)
    if url.get_backend_name() != "postgresql":
        raise BenchError(f"not a PostgreSQL URL: {url.render_as_string()}")
    return url.set(drivername="postgresql+psycopg") if url.drivername == "postgresql" else url


@contextmanager
def _server(env: dict[str, str], schema: str | None, workers: int) -> Iterator[str]:
    """The app under uvicorn in a child process on a free loopback port; stopped afterwards."""
    port = _free_port()
    command = [sys.executable, "-m", "gongji.sim.settle_server", str(port), str(workers)]
    env = {**env, SCHEMA_VARIABLE: schema or ""}
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, env={**os.environ, **env}, stdout=log, stderr=log)
        try:
            base_url = f"http://127.0.0.1:{port}"
            _wait_ready(base_url, process, log)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_ready(base_url: str, process: subprocess.Popen[bytes], log: Any) -> None:
    httpx = _httpx()

    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            lines = log.read().decode(errors="replace").strip().splitlines() or ["no output"]
            raise BenchError(f"the bench server exited ({process.returncode}): {lines[-1]}")
        try:
            if httpx.get(base_url + HEALTH_PATH, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise BenchError(f"the bench server did not answer within {SERVER_START_S:g} s")
