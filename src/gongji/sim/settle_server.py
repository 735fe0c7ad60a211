"""The HTTP server ``gongji bench settle`` loads: the real app under uvicorn, in its own process.

Its own process so that the load generator does not share the server's interpreter lock: on a
small machine a server in a thread of the bench would be measured together with its client.
It serves the bench's database (``GONGJI_DATABASE_URL``, and ``GONGJI_BENCH_SCHEMA`` for a
PostgreSQL schema created for the run: kept out of the command line, where a password would
show in ``ps``), with the personal-data key the world was seeded with (``GONGJI_SECRET_KEY``),
the system clock and no job scheduler, its threads kept on one core as ``gongji serve`` keeps
them (app/one_core.py; ``GONGJI_ONE_CORE=0`` turns it off). With more than one worker, uvicorn
forks that many server processes on the same port, each building its own app from the
environment (one worker runs under ``gongji serve``'s own configuration, app/serving.py)::

    python -m gongji.sim.settle_server PORT [WORKERS]

Each process that builds an app counts its round trips to the database (sim/db_trips.py) into
``<GONGJI_BENCH_STATS>/<pid>.trips``, a file the bench maps to read them, and whose names tell
the bench which processes serve (their CPU is read from ``/proc``, sim/cpu.py).
"""

from __future__ import annotations

import http.client
import inspect
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

import uvicorn
from fastapi import FastAPI

from gongji.app.asgi import create_app
from gongji.app.one_core import place_serving_process
from gongji.app.serving import server_config
from gongji.bootstrap import build
from gongji.config import Settings
from gongji.sim.cpu import processes_cpu_s
from gongji.sim.db_trips import TripCounter, count_trips, read_counts, trips_of
from gongji.store.engine import make_engine

SCHEMA_VARIABLE: Final = "GONGJI_BENCH_SCHEMA"
STATS_VARIABLE: Final = "GONGJI_BENCH_STATS"
POOL_SIZE: Final = 32  # ≥ what uvicorn's thread pool can run at once against the database
SERVER_START_S: Final = 180.0  # a shared two-core machine took over 90 s to start four workers
HEALTH_PATH: Final = "/api/v1/health"
WORKER_START_S: Final = 120
_COUNTERS: list[TripCounter] = []  # this process's, kept alive with its memory map


class ServerFailed(RuntimeError):
    """The bench server exited or never answered: one readable line."""


def app_from_env() -> FastAPI:
    """The app on the bench's store (uvicorn calls this in each worker: ``factory=True``)."""
    settings = Settings.from_env()
    schema = os.environ.get(SCHEMA_VARIABLE) or None
    engine = make_engine(settings.database_url, schema=schema, pool_size=POOL_SIZE)
    stats = os.environ.get(STATS_VARIABLE)
    if stats:
        _COUNTERS.append(TripCounter(Path(stats) / f"{os.getpid()}.trips"))
        count_trips(engine, _COUNTERS[-1])
    served = create_app(build(settings, migrate=False, engine=engine))
    place_serving_process(settings.one_core)
    return served


@dataclass(frozen=True, slots=True)
class ServerReading:
    cpu_s: float  # every serving process's, and uvicorn's supervisor's
    trips: int  # round trips to the database, all serving processes together


@dataclass(frozen=True, slots=True)
class BenchServer:
    host: str
    port: int
    pid: int  # uvicorn's process: the server itself, or the supervisor of its workers
    stats: Path

    def pids(self) -> list[int]:
        workers = [int(path.stem) for path in self.stats.glob("*.trips")]
        return sorted({self.pid, *workers})

    def read(self) -> ServerReading:
        trips = sum(trips_of(read_counts(path)) for path in self.stats.glob("*.trips"))
        return ServerReading(processes_cpu_s(self.pids()), trips)


@contextmanager
def bench_server(env: dict[str, str], schema: str | None, workers: int) -> Iterator[BenchServer]:
    """The app under uvicorn in a child process on a free loopback port; stopped afterwards."""
    port = _free_port()
    command = [sys.executable, "-m", "gongji.sim.settle_server", str(port), str(workers)]
    with tempfile.TemporaryDirectory(prefix="gongji-server-") as stats:
        env = {**os.environ, **env, SCHEMA_VARIABLE: schema or "", STATS_VARIABLE: stats}
        with tempfile.TemporaryFile() as log:
            process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
            try:
                server = BenchServer("127.0.0.1", port, process.pid, Path(stats))
                _wait_ready(server, process, log, workers)
                yield server
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


def _wait_ready(
    server: BenchServer, process: subprocess.Popen[bytes], log: IO[bytes], workers: int
) -> None:
    """Health answers, and every worker has built its app (its counter file is there)."""
    deadline, ready = time.monotonic() + SERVER_START_S, 0
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            lines = log.read().decode(errors="replace").strip().splitlines() or ["no output"]
            raise ServerFailed(f"the bench server exited ({process.returncode}): {lines[-1]}")
        ready = len(list(server.stats.glob("*.trips")))
        if ready >= workers and _healthy(server):
            return
        time.sleep(0.1)
    raise ServerFailed(
        f"the bench server did not answer within {SERVER_START_S:g} s"
        f" ({ready} of {workers} worker(s) had built the app)"
    )


def _healthy(server: BenchServer) -> bool:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=5.0)
    try:
        connection.request("GET", HEALTH_PATH)
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def worker_start_allowance() -> dict[str, Any]:
    """uvicorn (≥ 0.30) restarts a worker that has not started serving within 5 s: on a busy
    two-core machine importing and building the app takes longer, and the workers were
    restarted for ever (the bench saw "0 of 2 workers had built the app" after 180 s)."""
    if "timeout_worker_healthcheck" in inspect.signature(uvicorn.run).parameters:
        return {"timeout_worker_healthcheck": WORKER_START_S}
    return {}


def main(argv: list[str]) -> None:
    port = int(argv[0])
    workers = int(argv[1]) if len(argv) > 1 else 1
    if workers == 1:  # exactly ``gongji serve``'s server: its time limits and connection cap
        config = server_config(app_from_env(), "127.0.0.1", port, log_level="warning")
        uvicorn.Server(config).run()
        return
    uvicorn.run(
        "gongji.sim.settle_server:app_from_env",
        factory=True,
        host="127.0.0.1",
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        **worker_start_allowance(),
    )


if __name__ == "__main__":
    main(sys.argv[1:])
