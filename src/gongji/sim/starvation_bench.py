"""``gongji bench starvation``: does an anonymous flood slow down the institutions' settlements?

The real app runs under ``gongji serve``'s uvicorn configuration (sim/settle_server.py, its own
process) on a fresh SQLite store seeded like ``gongji bench settle``'s. One client sends signed
settlement quotes (``POST /api/v1/settlements/quote``) one after another, first alone ("idle"),
then while attacker processes loop the endpoints that were expensive and anonymous:

- ``GET /api/v1/ledger/check`` without a token (was a full ledger check per request),
- ``POST /api/v1/auth/otp`` for ever new numbers (was a code row and an SMS each),
- ``POST /api/v1/auth/operator-login`` with wrong passwords (was argon2 each).

The report gives the quote's latency percentiles in both phases, their ratio (the target is
at most 3× idle, docs/benchmarks.md) and what the attackers were answered. Attackers run in
separate processes so that their client work does not share the quote client's interpreter.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import itertools
import json
import multiprocessing
import random
import secrets
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from gongji.bootstrap import build
from gongji.config import Settings
from gongji.identity.service.identity import create_operator
from gongji.identity.service.signing import sign_request
from gongji.jobs.ledger_check import run_ledger_check
from gongji.sim.ledger_bench import machine
from gongji.sim.settle_load import percentile_ms
from gongji.sim.settle_mix import draw_bill
from gongji.sim.settle_server import bench_server
from gongji.sim.settle_world import IDENTIFICATIONS_ALLOWED, World, seed_clock, seed_world
from gongji.store.uow import UnitOfWork, run_in_transaction

QUOTE_PATH: Final = "/api/v1/settlements/quote"
ATTACKS: Final = ("ledger-check", "otp-send", "operator-login")
RATIO_TARGET: Final = 3.0
OPERATOR: Final = "bench-operator"
ATTACK_WARMUP_S: Final = 1.0
ATTACKERS_START_S: Final = 120.0


@dataclass(frozen=True, slots=True)
class StarvationOptions:
    seconds: float = 10.0
    attackers: int = 48
    pairs: int = 200
    seed: int = 15
    spread: bool = True
    """Each attacking connection from its own loopback address."""


@dataclass(frozen=True, slots=True)
class Phase:
    quotes: int
    p50_ms: float | None
    p95_ms: float | None
    max_ms: float | None
    errors: int


@dataclass(frozen=True, slots=True)
class StarvationReport:
    started_at: str
    machine: dict[str, str]
    options: dict[str, Any]
    idle: Phase
    loaded: Phase
    attacks: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def ratio_p50(self) -> float | None:
        return _ratio(self.loaded.p50_ms, self.idle.p50_ms)

    @property
    def ratio_p95(self) -> float | None:
        return _ratio(self.loaded.p95_ms, self.idle.p95_ms)

    @property
    def ok(self) -> bool:
        return self.ratio_p50 is not None and self.ratio_p50 <= RATIO_TARGET

    def to_json(self) -> str:
        shown = {
            "started_at": self.started_at,
            "machine": self.machine,
            "options": self.options,
            "idle": _phase(self.idle),
            "loaded": _phase(self.loaded),
            "ratio_p50": self.ratio_p50,
            "ratio_p95": self.ratio_p95,
            "target": RATIO_TARGET,
            "ok": self.ok,
            "attacks": self.attacks,
        }
        return json.dumps(shown, ensure_ascii=False, indent=2)

    def lines(self) -> list[str]:
        rows = [
            f"quote latency, idle:   p50 {_ms(self.idle.p50_ms)}  p95 {_ms(self.idle.p95_ms)}  "
            f"max {_ms(self.idle.max_ms)}  ({self.idle.quotes} quotes, {self.idle.errors} errors)",
            f"quote latency, loaded: p50 {_ms(self.loaded.p50_ms)}  p95 {_ms(self.loaded.p95_ms)}  "
            f"max {_ms(self.loaded.max_ms)}  ({self.loaded.quotes} quotes, "
            f"{self.loaded.errors} errors)",
            f"ratio loaded/idle: p50 {_x(self.ratio_p50)}, p95 {_x(self.ratio_p95)} "
            f"(target ≤ {RATIO_TARGET:g}×: {'ok' if self.ok else 'MISSED'})",
        ]
        for attack, answers in self.attacks.items():
            shown = ", ".join(f"{status} × {count}" for status, count in sorted(answers.items()))
            rows.append(f"attack {attack}: {shown}")
        return rows


def _phase(phase: Phase) -> dict[str, Any]:
    return {
        "quotes": phase.quotes,
        "p50_ms": phase.p50_ms,
        "p95_ms": phase.p95_ms,
        "max_ms": phase.max_ms,
        "errors": phase.errors,
    }


def _ratio(loaded: float | None, idle: float | None) -> float | None:
    return None if loaded is None or not idle else round(loaded / idle, 2)


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} ms"


def _x(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def run_starvation_bench(options: StarvationOptions) -> StarvationReport:
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    with tempfile.TemporaryDirectory(prefix="gongji-starvation-") as data_dir:
        key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        url = f"sqlite:///{Path(data_dir) / 'starvation.db'}"
        env = {"GONGJI_DATA_DIR": data_dir, "GONGJI_SECRET_KEY": key, "GONGJI_DATABASE_URL": url}
        env.update(IDENTIFICATIONS_ALLOWED)
        world = _seed(Settings.from_env(env), options.pairs)
        with bench_server(env, None, 1) as server:
            base_url = f"http://{server.host}:{server.port}"
            idle = _quotes(base_url, world, options, "idle")
            attack = _attack(base_url, options)
            attack.wait_ready()  # every attacker connected and answered once
            time.sleep(ATTACK_WARMUP_S)
            loaded = _quotes(base_url, world, options, "loaded")
            answered = attack.finish()
    chosen = {
        "seconds": options.seconds,
        "attackers": options.attackers,
        "pairs": options.pairs,
        "spread": options.spread,
    }
    return StarvationReport(started_at, machine(), chosen, idle, loaded, answered)


def _seed(settings: Settings, pairs: int) -> World:
    built = build(settings, clock=seed_clock(datetime.now(UTC)))
    try:
        ctx = built.context
        world = seed_world(ctx, pairs)

        def operator(uow: UnitOfWork) -> None:
            create_operator(ctx, uow, OPERATOR, ["clerk"], "bench-password-" + "x" * 8)
            uow.commit()

        run_in_transaction(ctx.engine, operator)
        run_ledger_check(ctx)  # the verdict an operator's request would be answered
        return world
    finally:
        built.close()


def _quotes(base_url: str, world: World, options: StarvationOptions, label: str) -> Phase:
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=120)
    rng = random.Random(f"{options.seed}-{label}")
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + options.seconds
    numbers = itertools.count()
    while time.perf_counter() < deadline:
        bill = draw_bill(rng, world)
        key = world.keys[bill.key_index]
        body = json.dumps(bill.body(f"{label}-{next(numbers)}")).encode()
        headers = sign_request(
            key.key_id, key.secret, "POST", QUOTE_PATH, body, int(time.time()), uuid.uuid4().hex
        )
        began = time.perf_counter()
        connection.request(
            "POST", QUOTE_PATH, body, {**headers, "Content-Type": "application/json"}
        )
        response = connection.getresponse()
        response.read()
        latencies.append(time.perf_counter() - began)
        errors += response.status != 200
    connection.close()
    return Phase(
        len(latencies),
        percentile_ms(latencies, 50),
        percentile_ms(latencies, 95),
        percentile_ms(latencies, 100),
        errors,
    )


@dataclass(slots=True)
class Attack:
    """The attacker processes and how to stop them and read what they were answered."""

    processes: list[Any]
    stop: Any
    results: Any
    ready: Any

    def wait_ready(self) -> None:
        """Until every attacker thread has been answered at least once."""
        for _ in self.processes:
            self.ready.get(timeout=ATTACKERS_START_S)

    def finish(self) -> dict[str, dict[str, int]]:
        self.stop.set()
        answered: dict[str, dict[str, int]] = {}
        for _ in self.processes:
            kind, counted = self.results.get(timeout=180)
            answered[kind] = counted
        for process in self.processes:
            process.join(30)
        return answered


def _attack(base_url: str, options: StarvationOptions) -> Attack:
    """One attacker process per kind, each with ``attackers / 3`` looping connections."""
    spawn = multiprocessing.get_context("spawn")
    results, ready, stop = spawn.Queue(), spawn.Queue(), spawn.Event()
    per_kind = max(1, options.attackers // len(ATTACKS))
    processes = [
        spawn.Process(
            target=attack_loop,
            args=(base_url, kind, per_kind, options.spread, stop, results, ready),
        )
        for kind in ATTACKS
    ]
    for process in processes:
        process.start()
    return Attack(processes, stop, results, ready)


def attack_loop(
    base_url: str, kind: str, threads: int, spread: bool, stop: Any, results: Any, ready: Any
) -> None:
    """One attacker process: ``threads`` keep-alive connections looping ``kind``; says it is
    ready once every thread has had an answer."""
    host, port = base_url.removeprefix("http://").split(":")
    counted: Counter[str] = Counter()
    lock = threading.Lock()
    answered = threading.Barrier(threads + 1)

    def connect(worker: int) -> http.client.HTTPConnection:
        # Each connection from its own loopback address (127.0.0.0/8 is all local on Linux), as
        # a distributed attack would come: a per-address limit alone must not be the defence.
        source = (f"127.0.{1 + worker // 250}.{2 + worker % 250}", 0) if spread else None
        return http.client.HTTPConnection(host, int(port), timeout=120, source_address=source)

    def loop(worker: int) -> None:
        connection = connect(worker)
        rng = random.Random(f"{kind}-{worker}")
        first = True
        while not stop.is_set():
            method, path, body = _attack_request(kind, rng)
            try:
                connection.request(method, path, body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                answer = response.read()
                outcome = f"{response.status} {_code(answer)}".strip()
            except (OSError, http.client.HTTPException) as error:
                outcome = f"transport {type(error).__name__}"
                connection.close()
                connection = connect(worker)
            with lock:
                counted[outcome] += 1
            if first:
                first = False
                _pass(answered)
        connection.close()

    workers = [threading.Thread(target=loop, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    _pass(answered)
    ready.put(kind)
    for worker in workers:
        worker.join()
    results.put((kind, dict(counted)))


def _pass(barrier: threading.Barrier) -> None:
    """Wait at the barrier: every thread after its first answer, the process's main thread."""
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait(timeout=ATTACKERS_START_S)


def _attack_request(kind: str, rng: random.Random) -> tuple[str, str, bytes | None]:
    if kind == "ledger-check":
        return "GET", "/api/v1/ledger/check", None
    if kind == "otp-send":
        mobile = f"139{rng.randrange(10**8):08d}"
        return "POST", "/api/v1/auth/otp", json.dumps({"mobile": mobile}).encode()
    name = OPERATOR if rng.random() < 0.5 else f"guess-{rng.randrange(10**9)}"
    login = {"name": name, "password": f"wrong-{rng.random():.12f}", "totp": "000000"}
    return "POST", "/api/v1/auth/operator-login", json.dumps(login).encode()


def _code(answer: bytes) -> str:
    try:
        return str(json.loads(answer).get("code") or "")
    except (ValueError, AttributeError):
        return ""
