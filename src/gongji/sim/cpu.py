"""CPU seconds of processes over a measured window, and when a load generator was the limit.

A requests-per-second figure says what the server did only if the clients could have sent more:
on a two-core machine a Python client easily spends as much CPU per request as the server. So
every row of ``gongji bench settle`` reports the CPU its client processes used in the window and
the server processes' CPU per request answered, both read from the kernel's own accounts
(``/proc/PID/stat``: user + system time of every thread of a process) rather than from a
profiler that would itself cost CPU. The machine's busy share over the window (``/proc/stat``)
is reported beside them, because the machine is shared and another engineer's build counts
there too; and, where PostgreSQL runs on the same machine, its own processes' CPU
(:func:`named_processes_cpu_s`), which a PostgreSQL row pays on the same cores.

Linux only (``/proc``); elsewhere the readings are None and the rows say so by leaving the
fields empty rather than failing the bench.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Generic, TypeVar

T = TypeVar("T")
SATURATED_SHARE: Final = 0.90
"""Client CPU at or above this share of what the clients could use: the clients were the limit."""
_TICKS_PER_S: Final = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cores() -> int:
    """The cores this process may run on (its affinity), which its children inherit."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def process_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` (all its threads); None when it is gone.

    The command name in ``/proc/PID/stat`` may hold spaces and parentheses, so the fields are
    counted from the last ``)``: utime and stime are the 12th and 13th after it.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat_cpu_s(stat)


def stat_cpu_s(stat: str, ticks_per_s: float = _TICKS_PER_S, *, children: bool = False) -> float:
    """User + system seconds from the text of a ``/proc/PID/stat``; ``children``: with those
    of the children the process has waited for (the 14th and 15th fields after the name)."""
    fields = stat[stat.rindex(")") + 2 :].split()
    counted = fields[11:15] if children else fields[11:13]
    return sum(int(value) for value in counted) / ticks_per_s


def named_cpu_s(stats: Iterable[str], name: str, ticks_per_s: float = _TICKS_PER_S) -> float | None:
    """The CPU seconds of every process named ``name`` among these ``/proc/PID/stat`` texts,
    with the children each has waited for; None when there is none."""
    found = [s for s in stats if s[s.index("(") + 1 : s.rindex(")")] == name]
    if not found:
        return None
    return sum(stat_cpu_s(stat, ticks_per_s, children=True) for stat in found)


def named_processes_cpu_s(name: str) -> float | None:
    """The CPU seconds of the processes named ``name`` on this machine (:func:`named_cpu_s`):
    the database server's, when it runs here. A PostgreSQL backend that ended meanwhile still
    counts, in its postmaster's children's time. None where ``/proc`` cannot tell or no such
    process runs (a database on another machine)."""
    try:
        entries = [entry for entry in Path("/proc").iterdir() if entry.name.isdigit()]
    except OSError:
        return None
    stats = []
    for entry in entries:
        try:
            stats.append((entry / "stat").read_text())
        except OSError:  # ended meanwhile
            continue
    return named_cpu_s(stats, name)


def processes_cpu_s(pids: Sequence[int]) -> float:
    """The CPU seconds of several processes together (a vanished one counts nothing)."""
    return sum(process_cpu_s(pid) or 0.0 for pid in pids)


@dataclass(frozen=True, slots=True)
class MachineTimes:
    """``/proc/stat``'s first line: busy and total jiffies of all cores since boot."""

    busy: int
    total: int


def machine_times() -> MachineTimes | None:
    try:
        return parse_machine_times(Path("/proc/stat").read_text())
    except (OSError, IndexError, ValueError):
        return None


def parse_machine_times(proc_stat: str) -> MachineTimes:
    first = proc_stat.splitlines()[0].split()
    values = [int(value) for value in first[1:9]]  # user nice system idle iowait irq softirq steal
    idle = values[3] + values[4]
    return MachineTimes(sum(values) - idle, sum(values))


def busy_share(before: MachineTimes | None, after: MachineTimes | None) -> float | None:
    """The share of the whole machine's cores that were busy between two readings."""
    if before is None or after is None or after.total <= before.total:
        return None
    return (after.busy - before.busy) / (after.total - before.total)


@dataclass(frozen=True, slots=True)
class ClientUsage:
    """What the load generator's processes spent in the measured window."""

    processes: int
    cpu_s: tuple[float, ...]  # each client process's CPU seconds in the window
    seconds: float  # the window
    cores: int  # the cores the clients (and everything else here) could run on

    @property
    def total_s(self) -> float:
        return sum(self.cpu_s)

    @property
    def capacity_s(self) -> float:
        """CPU seconds the clients could have used: one core per process at most (each is
        held to one core by its interpreter lock), no more cores than the machine has."""
        return min(self.processes, self.cores) * self.seconds

    @property
    def share(self) -> float:
        return self.total_s / self.capacity_s if self.capacity_s > 0 else 0.0

    @property
    def saturated(self) -> bool:
        """The clients as a whole, or any one of them, ran at ≥ 90 % of what it could use.

        One busy process is enough: in a closed loop each process drives a fixed share of the
        clients, and the share behind a saturated process is held back by its client."""
        busiest = max(self.cpu_s, default=0.0) / self.seconds if self.seconds > 0 else 0.0
        return self.share >= SATURATED_SHARE or busiest >= SATURATED_SHARE


def per_request_ms(cpu_s: float | None, requests: int) -> float | None:
    """CPU milliseconds per answered request; None when nothing was read or answered."""
    if cpu_s is None or requests <= 0:
        return None
    return cpu_s / requests * 1000


class WindowReadings(Generic[T]):
    """Takes ``read()`` at two moments (``time.monotonic()`` values) on its own thread.

    The threads that do the work, or the processes that send it, never wait for a reading; and
    the moments are the window's edges as the load generator counts them.
    """

    def __init__(self, read: Callable[[], T], start: float, end: float) -> None:
        self.readings: list[T] = []
        self._thread = threading.Thread(target=self._run, args=(read, start, end), daemon=True)
        self._thread.start()

    def _run(self, read: Callable[[], T], start: float, end: float) -> None:
        for moment in (start, end):
            wait = moment - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self.readings.append(read())

    def result(self) -> tuple[T, T]:
        """The two readings (waits for the second)."""
        self._thread.join()
        first, second = self.readings
        return first, second


@dataclass(frozen=True, slots=True)
class Reading:
    """What a bench reads at an edge of a window: CPU seconds, round trips, the machine."""

    cpu_s: float
    trips: int
    machine: MachineTimes | None

    @classmethod
    def now(cls, cpu_s: float, trips: int) -> Reading:
        return cls(cpu_s, trips, machine_times())


@dataclass(slots=True)
class WindowCost:
    """CPU, round trips and machine time summed over several windows (a row's slices)."""

    cpu_s: float = 0.0
    trips: int = 0
    count: int = 0  # what the windows counted: transfers, requests
    busy: list[float] = field(default_factory=list)

    def add(self, before: Reading, after: Reading, count: int) -> None:
        self.cpu_s += after.cpu_s - before.cpu_s
        self.trips += after.trips - before.trips
        self.count += count
        share = busy_share(before.machine, after.machine)
        if share is not None:
            self.busy.append(share)

    @property
    def cpu_ms_each(self) -> float | None:
        return per_request_ms(self.cpu_s, self.count)

    @property
    def trips_each(self) -> float | None:
        return self.trips / self.count if self.count else None

    @property
    def machine_busy(self) -> float | None:
        return sum(self.busy) / len(self.busy) if self.busy else None
