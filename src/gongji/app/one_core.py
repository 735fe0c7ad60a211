"""A serving process keeps its threads on one core of its own.

A request crosses threads of the process several times: uvicorn's event loop hands a signed
settlement to its lane's thread (api/lane_threads.py) and takes the answer back, a route written
``def`` (the health check, the pages) runs in anyio's pool, the commit group wakes the writer
that commits it (store/writers.py). Only one of them runs Python at a time (the GIL), so the
threads of one process gain little from a second core, and each hand-off to a thread on another
core costs a cross-core wake-up (an inter-processor interrupt: on a virtual machine, an exit to
the hypervisor) and caches that hold none of the request. Kept on one core, on this 2-core
virtual machine, a SQLite settlement over HTTP cost the server a fifth less CPU (1.60 → 1.31 ms)
and the health check half (0.67 → 0.34 ms) (docs/benchmarks.md, issue 20, step 15).

When (``GONGJI_ONE_CORE``, config.one_core_for): by default on SQLite, whose work runs in the
process's own threads. Not on PostgreSQL, whose server a settlement hands work to at every
round trip: with PostgreSQL on the same two cores, a gongji held on one core made every trip
cross cores, and its settlements over HTTP did no better (some runs 10–20 % worse) while its
health check ran 1.7 times as fast. ``1`` keeps them on one core on any database (where
PostgreSQL runs on other machines, measure first), ``0`` on none.

Which core: the highest-numbered of those the process may use (``sched_getaffinity``) that no
other gongji serving process of this user holds, claimed by an exclusive ``flock`` on a file of
:func:`claims_directory` held for the process's life; the kernel lets go of it when the process
ends, however it ends. The highest first because on this machine the disk's completion
interrupts land on CPU 1, the highest: there a commit's wait ends on the core that waits
(SQLite's ledger at eight clients 1.23× its raw loop on CPU 1, 0.95× on CPU 0). So ``gongji
serve --workers N`` spreads its workers over N cores, and two servers on one machine do not
share one. With every core claimed (more processes than cores), or a single core to use, the
process stays where the kernel puts it.

Every thread of the process is moved, those already running included (a connection pool's,
the job scheduler's); threads started later inherit the core from the thread that starts them.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Set
from contextlib import contextmanager
from pathlib import Path
from typing import Final

try:
    import fcntl
except ImportError:  # not on Windows: there the kernel places every thread
    fcntl = None  # type: ignore[assignment]

_HELD: Final[list[int]] = []
"""The claimed core's lock file, open for the process's life: its lock is the claim."""


def claims_directory() -> Path:
    """Where this user's gongji processes claim cores: one file per core, locked by its holder."""
    return Path(tempfile.gettempdir()) / f"gongji-cores-{os.getuid()}"


def place_serving_process(one_core: bool) -> str:
    """Where a serving process's threads run (:func:`keep_on_one_core` when ``one_core``, the
    setting ``GONGJI_ONE_CORE`` resolved for its database), as a line for its log."""
    core = keep_on_one_core() if one_core else None
    where = "where the kernel puts them" if core is None else f"on core {core}"
    return f"gongji process {os.getpid()}: its threads {where}"


def keep_on_one_core(claims: Path | None = None) -> int | None:
    """Move every thread of this process to the highest core no other gongji process holds and
    claim it for the process's life; the core, or None where the process was left as it was
    (one core to use, every core claimed, no claims directory it may write, or a platform
    without thread affinity): a server that cannot be placed still serves."""
    allowed = _allowed()
    if len(allowed) < 2 or fcntl is None:
        return None
    directory = claims or claims_directory()
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        core = next(
            (core for core in sorted(allowed, reverse=True) if _claim(directory, core)), None
        )
    except OSError:  # nowhere to claim a core (an unwritable directory, no locks): not an error
        return None
    if core is not None:
        _move_threads({core})
    return core


def _claim(directory: Path, core: int) -> bool:
    """``core``'s lock file locked, and kept open for the process's life; False when another
    process holds it."""
    descriptor = os.open(directory / f"{core}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as refused:
        os.close(descriptor)
        if isinstance(refused, BlockingIOError):
            return False
        raise
    _HELD.append(descriptor)
    return True


@contextmanager
def on_one_core() -> Iterator[int | None]:
    """This process's threads on one core while the block runs, as a serving process keeps
    them, then back on every core they had: the settle bench's in-process rows, which measure
    the services and the app as the server runs them, before it starts client processes that
    must not inherit the core. No claim is made: the bench's own server claims its core."""
    allowed = _allowed()
    if len(allowed) < 2:
        yield None
        return
    core = max(allowed)  # the core keep_on_one_core would claim first
    _move_threads({core})
    try:
        yield core
    finally:
        _move_threads(allowed)


def _allowed() -> Set[int]:
    if not hasattr(os, "sched_getaffinity"):
        return frozenset()
    return frozenset(os.sched_getaffinity(0))


def _move_threads(cores: Set[int]) -> None:
    """Every thread of the process onto ``cores``: Linux sets affinity per thread, and
    ``sched_setaffinity(0, …)`` would move only the calling one."""
    for task in os.listdir("/proc/self/task"):
        try:
            os.sched_setaffinity(int(task), cores)
        except (ProcessLookupError, FileNotFoundError):  # the thread ended meanwhile
            continue
