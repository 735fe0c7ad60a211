"""The app's own CPU a request, with no HTTP server around it: ``gongji bench settle``'s ``app``,
``app health`` and ``app fsi visit`` rows.

An HTTP row's server CPU is the app's and uvicorn's together (its sockets, its parsing, its
event loop), read from a server loaded by client processes on the same two cores, and it
drifted by a fifth between runs of the same code on one machine. So, before the HTTP rows, the
bench also builds the same app in its own process, on the same store, and calls it as an ASGI
server would (a scope, the body, the answer's messages), one request at a time: a signed
settlement, the health check, then a whole outpatient visit over the national interface (2201,
2204, 2207, as the ``http fsi visit`` row sends it), on an event loop in the bench's own
thread that awaits each answer before it makes the next call. Each row counts only the CPU this
process spent while the app was answering (its worker threads included), not the signing of
the next request, which is done between calls: what remains is the app's own cost, repeatable
from run to run within a few percent, which makes a change to it measurable where the HTTP rows
cannot show it.

Sequential on purpose: one request in flight measures what one request costs, not the app's
capacity (the HTTP rows measure that). So each settlement also commits alone, where under the
HTTP rows' load concurrent settlements share commits (store/writers.py): the ``app`` row is not
the ``http`` row less uvicorn, and no ratio to health is drawn from its sequential rate.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Final

from gongji.sim.cpu import machine_times
from gongji.sim.settle_clients import HEALTH_PATH, SETTLE_PATH, refusal_code, signed_settlement
from gongji.sim.settle_load import Outcome, Tally
from gongji.sim.settle_measure import BenchStore, Measured, SettleRow, Snapshot, settle_row
from gongji.sim.settle_mix import FSI_PATH, draw_visit, visit_steps
from gongji.sim.settle_world import World

GENERATOR: Final = "in-process (ASGI)"

Message = MutableMapping[str, Any]
Asgi = Callable[
    [Message, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes


def app_rows(
    app: Asgi, world: World, store: BenchStore, timing: tuple[float, float], seed: int
) -> list[SettleRow]:
    """The ``app`` (signed settlements), ``app health`` and ``app fsi visit`` rows, each
    ``timing`` = (seconds, warm-up) of the same calls, with the app's lifespan around them;
    each row that wrote is checked (``store.checked``) once it is done."""
    return asyncio.run(_rows(app, _Meter(app, store), world, timing, seed))


async def _rows(
    app: Asgi, meter: _Meter, world: World, timing: tuple[float, float], seed: int
) -> list[SettleRow]:
    bills = _SignedBills(world, seed)
    visits = random.Random(f"{seed}-app-visits")
    numbers = itertools.count()
    tag = uuid.uuid4().hex[:6]  # message ids new per run: a store keeps those it has seen

    async def settle() -> Outcome:
        return _outcome(SETTLE_PATH, await meter.call(*bills.next()))

    async def health() -> Outcome:
        return _outcome(HEALTH_PATH, await meter.call("GET", HEALTH_PATH, b"", ()))

    async def visit() -> Outcome:
        steps = visit_steps(world, draw_visit(visits, world), f"app{tag}{next(numbers):08d}")
        try:
            message = next(steps)
            while True:
                message = steps.send(await meter.post(*message))
        except StopIteration as done:
            outcome: Outcome = done.value
            return outcome

    rows = []
    units = (("app", settle, True), ("app health", health, False), ("app fsi visit", visit, True))
    async with _lifespan(app):
        for layer, unit, writes in units:
            row = settle_row((layer, "max", GENERATOR, None), 1, await meter.measure(unit, *timing))
            rows.append(meter.store.checked(row) if writes else row)
    return rows


Request = tuple[str, str, bytes, tuple[tuple[str, str], ...]]  # method, path, body, headers


class _SignedBills:
    """Signed settlement requests of the bench's mix, each signed just before it is sent (its
    signing is not counted: it is done between calls)."""

    def __init__(self, world: World, seed: int) -> None:
        self._world = world
        self._rng = random.Random(f"{seed}-app")
        self._numbers = itertools.count()
        self._label = f"app-{uuid.uuid4().hex[:8]}"

    def next(self) -> Request:
        request_id = f"{self._label}-{next(self._numbers)}"
        body, headers = signed_settlement(self._rng, self._world, request_id)
        headers["Content-Length"] = str(len(body))
        return "POST", SETTLE_PATH, body, tuple(headers.items())


class _Meter:
    """Calls into the app, counting the CPU and the round trips spent while it answered."""

    def __init__(self, app: Asgi, store: BenchStore) -> None:
        self._app = app
        self.store = store
        self.cpu_s = 0.0
        self.trips = 0

    async def call(
        self, method: str, path: str, body: bytes, headers: tuple[tuple[str, str], ...]
    ) -> Answer:
        cpu_before, trips_before = time.process_time(), self.store.counter.trips
        answer = await call(self._app, method, path, body, headers)
        self.cpu_s += time.process_time() - cpu_before
        self.trips += self.store.counter.trips - trips_before
        return answer

    async def post(self, body: bytes, headers: Mapping[str, str]) -> Any:
        """A national-interface message, as sim/settle_mix.py's visit posts it."""
        extra = {"Content-Length": str(len(body))}
        answer = await self.call("POST", FSI_PATH, body, tuple({**headers, **extra}.items()))
        return json.loads(answer.body)

    async def measure(
        self, unit: Callable[[], Awaitable[Outcome]], seconds: float, warmup_s: float
    ) -> Measured:
        """``unit`` over and over until ``seconds`` after the warm-up; a unit begun in the
        window counts, with the CPU and trips of its calls."""
        tally = Tally()
        window_start = time.monotonic() + warmup_s
        window_end = window_start + seconds
        before: Snapshot | None = None
        while (began := time.monotonic()) < window_end:
            counted = began >= window_start
            if counted and before is None:
                before = Snapshot(0.0, 0, 0.0, machine_times(), self.store.database_cpu_s())
                self.cpu_s, self.trips = 0.0, 0
            outcome = await unit()
            done = time.monotonic()
            if counted:
                tally.add(outcome, done - began, done)
                tally.in_window += 1
        database_s = self.store.database_cpu_s()
        after = Snapshot(self.cpu_s, self.trips, 0.0, machine_times(), database_s)
        edges = (before or Snapshot(0.0, 0, 0.0, None), after)
        return Measured(tally, tally.in_window / seconds, edges, None)


def _outcome(path: str, answer: Answer) -> Outcome:
    """As the HTTP rows' clients judge an answer (sim/settle_clients.py)."""
    if path == HEALTH_PATH:
        return Outcome(None if answer.status == 200 else f"http {answer.status}")
    if answer.status != 201:
        return Outcome(refusal_code(answer.status, answer.body))
    return Outcome(None, json.loads(answer.body).get("acct_mulaid_pay") != "0.00")


async def call(
    app: Asgi, method: str, path: str, body: bytes, headers: tuple[tuple[str, str], ...]
) -> Answer:
    """One request through the ASGI interface, as an HTTP/1.1 server hands it over."""
    sent: list[Message] = []
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if delivered:  # the app asks again only to learn that the client went away: never
            await asyncio.Event().wait()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Message = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(name.lower().encode(), value.encode()) for name, value in headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    await app(scope, receive, send)
    start = next(message for message in sent if message["type"] == "http.response.start")
    body_parts = [m.get("body", b"") for m in sent if m["type"] == "http.response.body"]
    return Answer(int(start["status"]), b"".join(body_parts))


@asynccontextmanager
async def _lifespan(app: Asgi) -> AsyncIterator[None]:
    """The app's start-up and shut-down around the rows, as an ASGI server runs them."""
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    outbox: asyncio.Queue[Message] = asyncio.Queue()
    scope: Message = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    running = asyncio.ensure_future(app(scope, inbox.get, outbox.put))

    async def exchange(event: str) -> None:
        await inbox.put({"type": event})
        answer = await outbox.get()
        if answer["type"] != f"{event}.complete":
            raise RuntimeError(f"the app's {event} failed: {answer.get('message', answer)}")

    await exchange("lifespan.startup")
    try:
        yield
    finally:
        await exchange("lifespan.shutdown")
        await running
