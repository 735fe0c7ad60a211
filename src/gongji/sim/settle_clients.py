"""The HTTP load generator of ``gongji bench settle``: several client processes, requests signed
ahead, each process's CPU reported so that a row can say whether the clients were the limit.

Why processes: one Python process sends HTTP from one core at most (its interpreter lock), and
the earlier generator (threads of the bench process, httpx2) spent as much CPU per request as the
server, so on a small machine it measured itself. Each process runs its share of the client
threads (sim/settle_load.py's closed loop or fixed rate, on a start time common to all: Linux's
monotonic clock is one for the whole machine) over keep-alive ``http.client`` connections, which
cost a fraction of httpx2's CPU per request.

Why signed ahead: a signature covers a fresh nonce and the current time (docs/signing.md), so it
cannot be reused, but it can be made shortly before it is sent: each process signs a pool of
settlement requests (HMAC-SM3 and the JSON body) before the common start, and pops one per
request. The server accepts a timestamp within ``WINDOW_S`` (300 s) of its clock, so a pool is
signed only when the whole row (warm-up and window) ends within ``PRESIGN_SPAN_S`` of signing;
a pool that runs dry (a closed loop faster than guessed) signs on the spot and says how often.
"""

from __future__ import annotations

import http.client
import itertools
import json
import multiprocessing
import random
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Final, TypeVar

from gongji.identity.service.signing import sign_request
from gongji.sim.cpu import ClientUsage, WindowReadings, cores
from gongji.sim.settle_load import (
    Outcome,
    Send,
    SenderFactory,
    Tally,
    achieved_rate,
    closed_loop,
    fixed_rate,
)
from gongji.sim.settle_mix import draw_bill
from gongji.sim.settle_world import World

SETTLE_PATH: Final = "/api/v1/settlements"
HEALTH_PATH: Final = "/api/v1/health"
PRESIGN_SPAN_S: Final = 240.0  # of the server's 300 s: room for its clock to differ from ours
PRESIGN_PER_S_MAX: Final = 4_000.0  # a closed loop's guess: more than this machine settles
START_MARGIN_S: Final = 0.3  # from telling the processes the start to the start itself

T = TypeVar("T")
Request = tuple[bytes, dict[str, str]]  # body and headers of one signed POST


@dataclass(frozen=True, slots=True)
class ClientPlan:
    """What every client process of one row is told (picklable: it crosses to a new process)."""

    kind: str  # "settle" or "health"
    host: str
    port: int
    world: World | None  # settle only
    label: str  # names the row: request ids and random streams differ per row
    seed: int
    processes: int
    clients: int  # threads over all processes
    seconds: float
    warmup_s: float
    rate: float | None = None  # fixed total rate (open loop); None: as fast as it goes


@dataclass(frozen=True, slots=True)
class ProcessResult:
    tally: Tally
    cpu_s: float  # this process's CPU seconds inside the window
    presigned: int
    signed_late: int


@dataclass(frozen=True, slots=True)
class ClientRun:
    """One row's load: what was answered, the rate achieved, what the clients spent."""

    tally: Tally
    per_s: float
    usage: ClientUsage
    presigned: int
    signed_late: int


def threads_of(plan: ClientPlan, index: int) -> int:
    """Process ``index``'s share of the client threads (the first ones take the remainder)."""
    return plan.clients // plan.processes + (index < plan.clients % plan.processes)


def run_clients(plan: ClientPlan, watch: Callable[[], T]) -> tuple[ClientRun, tuple[T, T]]:
    """Start the processes, let them get ready, start them together; returns the run and two
    readings of ``watch()`` (the server's CPU, say) taken at the edges of its measured window."""
    context = multiprocessing.get_context("spawn")  # not fork: the bench holds pools and threads
    pipes, processes = [], []
    for index in range(plan.processes):
        ours, theirs = context.Pipe()
        process = context.Process(target=_client_main, args=(plan, index, theirs), daemon=True)
        process.start()
        pipes.append(ours)
        processes.append(process)
    try:
        for pipe in pipes:
            _expect(pipe.recv(), "ready")
        start = time.monotonic() + START_MARGIN_S
        window = start + plan.warmup_s
        readings = WindowReadings(watch, window, window + plan.seconds)
        for pipe in pipes:
            pipe.send(start)
        results = [_expect(pipe.recv(), "result") for pipe in pipes]
        edges = readings.result()
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
    return _combined(plan, results, window), edges


def _expect(message: tuple[str, object], kind: str) -> object:
    """A client process's message; its failure is raised here, readable, as the bench's."""
    tag, value = message
    if tag == "error":
        raise RuntimeError(f"a client process failed: {value}")
    assert tag == kind, message
    return value


def _combined(plan: ClientPlan, results: list[object], window_start: float) -> ClientRun:
    tally = Tally()
    cpu = []
    for result in results:
        assert isinstance(result, ProcessResult)
        tally.merge(result.tally)
        cpu.append(result.cpu_s)
    closed = len(tally.latencies_s) / plan.seconds
    per_s = closed if plan.rate is None else achieved_rate(tally, window_start, plan.seconds)
    usage = ClientUsage(plan.processes, tuple(cpu), plan.seconds, cores())
    presigned = sum(r.presigned for r in results if isinstance(r, ProcessResult))
    late = sum(r.signed_late for r in results if isinstance(r, ProcessResult))
    return ClientRun(tally, per_s, usage, presigned, late)


# --- in a client process ----------------------------------------------------------------------


def _client_main(plan: ClientPlan, index: int, pipe: Connection) -> None:
    try:
        pipe.send(("result", _client_run(plan, index, pipe)))
    except Exception as error:  # reported to the bench, which raises it as one line
        pipe.send(("error", f"{type(error).__name__}: {error}"))
    finally:
        pipe.close()


def _client_run(plan: ClientPlan, index: int, pipe: Connection) -> ProcessResult:
    threads = threads_of(plan, index)
    pool = _RequestPool(plan, index)
    factory = _sender_factory(plan, pool)
    pipe.send(("ready", None))
    start: float = pipe.recv()
    window = start + plan.warmup_s
    cpu = WindowReadings(time.process_time, window, window + plan.seconds)
    if plan.rate is None:
        tally = closed_loop(factory, threads, plan.seconds, plan.warmup_s, start)
    else:
        share = plan.rate / plan.processes
        offset = index / plan.rate
        tally, _ = fixed_rate(factory, threads, share, plan.seconds, plan.warmup_s, start, offset)
    before, after = cpu.result()
    return ProcessResult(tally, after - before, pool.presigned, pool.signed_late)


class _RequestPool:
    """This process's settlement requests, most signed before the start; thread-safe pops."""

    def __init__(self, plan: ClientPlan, index: int) -> None:
        self._plan = plan
        self._rng = random.Random(f"{plan.seed}-{plan.label}-{index}")
        self._numbers = itertools.count()
        self._prefix = f"{plan.label}-{index}"
        self._ready: deque[Request] = deque()
        self.signed_late = 0
        if plan.kind == "settle" and plan.warmup_s + plan.seconds <= PRESIGN_SPAN_S:
            self._ready.extend(self._sign() for _ in range(self._expected(plan)))
        self.presigned = len(self._ready)

    @staticmethod
    def _expected(plan: ClientPlan) -> int:
        per_s = PRESIGN_PER_S_MAX if plan.rate is None else plan.rate
        return int(per_s * (plan.warmup_s + plan.seconds) / plan.processes) + 1

    def next(self) -> Request:
        try:
            return self._ready.popleft()
        except IndexError:
            self.signed_late += 1  # under the interpreter lock: a lost count is rare and small
            return self._sign()

    def _sign(self) -> Request:
        world = self._plan.world
        assert world is not None
        return signed_settlement(self._rng, world, f"{self._prefix}-{next(self._numbers)}")


def signed_settlement(rng: random.Random, world: World, request_id: str) -> Request:
    """A bill of the bench's mix as a signed ``POST`` of its desk: the body and headers."""
    bill = draw_bill(rng, world)
    key = world.keys[bill.key_index]
    body = json.dumps(bill.body(request_id)).encode()
    signed = sign_request(
        key.key_id, key.secret, "POST", SETTLE_PATH, body, int(time.time()), uuid.uuid4().hex
    )
    return body, {**signed, "Content-Type": "application/json"}


def _sender_factory(plan: ClientPlan, pool: _RequestPool) -> SenderFactory:
    @contextmanager
    def open_sender(_worker: int) -> Iterator[Send]:
        connection = http.client.HTTPConnection(plan.host, plan.port, timeout=60.0)
        try:
            yield (
                (lambda: _settle(connection, pool))
                if plan.kind == "settle"
                else (lambda: _health(connection))
            )
        finally:
            connection.close()

    return open_sender


def _settle(connection: http.client.HTTPConnection, pool: _RequestPool) -> Outcome:
    body, headers = pool.next()
    try:
        connection.request("POST", SETTLE_PATH, body, headers)
        answer = connection.getresponse()
        content = answer.read()
    except (OSError, http.client.HTTPException) as error:
        connection.close()  # the next request opens a fresh connection
        return Outcome(f"transport: {type(error).__name__}")
    if answer.status != 201:
        return Outcome(refusal_code(answer.status, content))
    return Outcome(None, json.loads(content).get("acct_mulaid_pay") != "0.00")


def _health(connection: http.client.HTTPConnection) -> Outcome:
    try:
        connection.request("GET", HEALTH_PATH)
        answer = connection.getresponse()
        answer.read()
    except (OSError, http.client.HTTPException) as error:
        connection.close()
        return Outcome(f"transport: {type(error).__name__}")
    return Outcome(None if answer.status == 200 else f"http {answer.status}")


def refusal_code(status: int, content: bytes) -> str:
    try:
        code = json.loads(content).get("code")
    except (ValueError, AttributeError):
        code = None
    return f"http {status} {code}" if code else f"http {status}"
