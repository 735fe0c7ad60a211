"""One row of ``gongji bench settle``: the load, and what it cost on both sides of the wire.

Every row reads, at the two edges of its measured window, the CPU seconds of the side being
measured (the server's processes for HTTP; the bench process itself for the service layer, where
the clients are threads beside the code they call), its round trips to the database
(sim/db_trips.py), the database server's own CPU when it runs on this machine (PostgreSQL's
processes: on a small machine it shares the cores with gongji) and the machine's busy time
(sim/cpu.py); and, for HTTP, what the clients spent. Divided by the requests answered in the
window (at a fixed rate: whenever they were due, since a server that fell behind spends the
window on requests due before it), the first three are the CPU, the trips and the database's
CPU a request costs; the clients' share of the cores they could use says whether the row
measured the server at all (``client_saturated``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from gongji.sim.cpu import (
    ClientUsage,
    MachineTimes,
    WindowReadings,
    busy_share,
    cores,
    per_request_ms,
)
from gongji.sim.db_trips import TripCounter
from gongji.sim.settle_clients import ClientPlan, run_clients
from gongji.sim.settle_load import SenderFactory, Tally, closed_loop, fixed_rate, percentile_ms

START_MARGIN_S = 0.05  # every client thread has opened its sender by then


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One reading at an edge of a row's window."""

    cpu_s: float  # the measured side: the server's processes, or this process (service rows)
    trips: int  # its round trips to the database so far
    own_cpu_s: float  # this process's: the clients' when they are its threads
    machine: MachineTimes | None
    database_cpu_s: float | None = None  # the database server's processes, when they run here


@dataclass(frozen=True, slots=True)
class Measured:
    tally: Tally
    per_s: float
    edges: tuple[Snapshot, Snapshot]
    usage: ClientUsage | None  # None: the clients are threads of the measured process itself
    presigned: int | None = None
    signed_late: int | None = None


@dataclass(frozen=True, slots=True)
class SettleRow:
    layer: str  # service | app | app health | http | http health | http fsi visit
    mode: str  # "max" (closed loop) or "500/s" (fixed rate)
    generator: str  # in-process (service) | processes | threads (the earlier HTTP generator)
    server_workers: int | None
    clients: int
    completed: int
    per_s: float
    shared: int  # settlements that drew shared money (grants)
    refused: dict[str, int]
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    cpu_ms_per_request: float | None  # server CPU (service: this process's) per answered request
    db_cpu_ms_per_request: float | None  # the database server's CPU (PostgreSQL, on this machine)
    db_trips_per_request: float | None
    client_processes: int | None
    client_cpu_s: float | None
    client_cpu_share: float | None  # of min(processes, cores) cores over the window
    client_saturated: bool | None
    machine_busy: float | None  # share of all cores busy in the window, whoever used them
    presigned: int | None = None
    signed_late: int | None = None
    health_ratio: float | None = None
    target: str | None = None
    met: bool | None = None


def in_process(
    factory: SenderFactory,
    clients: int,
    timing: tuple[float, float, float | None],
    read: Callable[[], Snapshot],
) -> Measured:
    """Client threads of this process; ``timing``: (seconds, warm-up, fixed rate or None)."""
    seconds, warmup_s, rate = timing
    start = time.monotonic() + START_MARGIN_S
    readings = WindowReadings(read, start + warmup_s, start + warmup_s + seconds)
    if rate is None:
        tally = closed_loop(factory, clients, seconds, warmup_s, start)
        per_s = len(tally.latencies_s) / seconds
    else:
        tally, per_s = fixed_rate(factory, clients, rate, seconds, warmup_s, start)
    edges = readings.result()
    return Measured(tally, per_s, edges, None)


def threads_usage(edges: tuple[Snapshot, Snapshot], seconds: float) -> ClientUsage:
    """The earlier HTTP generator's clients: threads of this one process."""
    return ClientUsage(1, (edges[1].own_cpu_s - edges[0].own_cpu_s,), seconds, cores())


def client_processes(plan: ClientPlan, read: Callable[[], Snapshot]) -> Measured:
    run, edges = run_clients(plan, read)
    return Measured(run.tally, run.per_s, edges, run.usage, run.presigned, run.signed_late)


def settle_row(
    label: tuple[str, str, str, int | None], clients: int, measured: Measured
) -> SettleRow:
    """``label``: (layer, mode, generator, server workers)."""
    tally, (before, after), usage = measured.tally, measured.edges, measured.usage
    latencies = tally.latencies_s
    answered = tally.in_window  # what the server did between the readings, due when it may
    trips = after.trips - before.trips
    return SettleRow(
        *label,
        clients=clients,
        completed=len(latencies),
        per_s=measured.per_s,
        shared=tally.shared,
        refused=dict(sorted(tally.refused.items())),
        p50_ms=percentile_ms(latencies, 50),
        p95_ms=percentile_ms(latencies, 95),
        p99_ms=percentile_ms(latencies, 99),
        cpu_ms_per_request=per_request_ms(after.cpu_s - before.cpu_s, answered),
        db_cpu_ms_per_request=_database_ms(before, after, answered),
        db_trips_per_request=trips / answered if answered and trips else None,
        client_processes=None if usage is None else usage.processes,
        client_cpu_s=None if usage is None else usage.total_s,
        client_cpu_share=None if usage is None else usage.share,
        client_saturated=None if usage is None else usage.saturated,
        machine_busy=busy_share(before.machine, after.machine),
        presigned=measured.presigned,
        signed_late=measured.signed_late,
    )


def _database_ms(before: Snapshot, after: Snapshot, answered: int) -> float | None:
    if before.database_cpu_s is None or after.database_cpu_s is None:
        return None
    return per_request_ms(after.database_cpu_s - before.database_cpu_s, answered)


class BenchStore(Protocol):
    """What a row reads of the store it runs on (``settle_bench._Store``)."""

    @property
    def counter(self) -> TripCounter:
        """The bench process's round trips to it."""
        ...

    def database_cpu_s(self) -> float | None:
        """Its server processes' CPU seconds so far, when they run on this machine."""
        ...

    def checked(self, row: SettleRow) -> SettleRow:
        """``row``, once the ledger has been checked after it."""
        ...
