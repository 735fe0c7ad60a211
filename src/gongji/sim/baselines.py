"""The baselines a ledger figure is compared with, measured on the same database in the same run.

SQLite: the least a durable transfer can cost through Python's ``sqlite3`` (BEGIN IMMEDIATE, two
UPDATEs, one INSERT, COMMIT), integer keys and no secondary index, on its own file with the
pragmas the ledger's engine sets. PostgreSQL: the server's own ``pgbench`` and its built-in
``tpcb-like`` script (a C client, so it measures the server rather than a client library).
"""

from __future__ import annotations

import os
import random
import re
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import URL

from gongji.sim.workload import FUNDING_FEN, Step, StepFactory, measure, pair, transfer_amount
from gongji.store.engine import SQLITE_BUSY_TIMEOUT_MS, SQLITE_PRAGMAS, pg_address

PGBENCH_TIMEOUT_S = 600

SliceRun = Callable[[int, float], float]
"""Slice ``index`` of one side of a bench row, about ``seconds`` long: its transfers/s."""


class BaselineMissing(RuntimeError):
    """The baseline cannot run here (no pgbench, a failed run): the row gets no ratio."""


_TPS = re.compile(r"tps = ([0-9.]+) \(without initial connection time\)")
_SCHEMA = (
    "CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL)",
    "CREATE TABLE transfers (id INTEGER PRIMARY KEY, debit_id INTEGER NOT NULL,"
    " credit_id INTEGER NOT NULL, amount INTEGER NOT NULL, timestamp_us INTEGER NOT NULL)",
)
_DEBIT = "UPDATE accounts SET balance = balance - ? WHERE id = ?"
_CREDIT = "UPDATE accounts SET balance = balance + ? WHERE id = ?"
_RECORD = "INSERT INTO transfers (debit_id, credit_id, amount, timestamp_us) VALUES (?, ?, ?, ?)"


def _sqlite_connect(path: Path, *, shared: bool = False) -> sqlite3.Connection:
    """The durability the ledger's engine sets; autocommit, so that we write BEGIN ourselves.
    ``shared``: used by one thread at a time, but not always the one that opened it."""
    connection = sqlite3.connect(
        path,
        isolation_level=None,
        timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
        check_same_thread=not shared,
    )
    for pragma in SQLITE_PRAGMAS:
        connection.execute(f"PRAGMA {pragma}")
    return connection


def setup_sqlite_baseline(path: Path, accounts: int) -> None:
    connection = _sqlite_connect(path)
    try:
        for statement in _SCHEMA:
            connection.execute(statement)
        connection.execute("BEGIN IMMEDIATE")
        funded = ((i, FUNDING_FEN) for i in range(accounts))
        connection.executemany("INSERT INTO accounts (id, balance) VALUES (?, ?)", funded)
        connection.execute("COMMIT")
    finally:
        connection.close()


@contextmanager
def sqlite_baseline_slices(
    path: Path, accounts: int, seed: int, clients: int, warmup_s: float
) -> Iterator[SliceRun]:
    """The raw loop on a fresh file at ``path``, ``clients`` threads a slice. Each worker keeps
    its connection (and so its page cache) from slice to slice, as the ledger keeps its
    writer's connection."""
    setup_sqlite_baseline(path, accounts)
    connections = [_sqlite_connect(path, shared=True) for _ in range(clients)]

    def run(index: int, seconds: float) -> float:
        factory = _baseline_factory(connections, accounts, seed + index)
        return measure(factory, clients, seconds, warmup_s) / seconds

    try:
        yield run
    finally:
        for connection in connections:
            connection.close()


def _baseline_factory(
    connections: list[sqlite3.Connection], accounts: int, seed: int
) -> StepFactory:
    """Worker ``i`` runs the loop on ``connections[i]``."""

    @contextmanager
    def open_step(worker: int) -> Iterator[Step]:
        rng = random.Random(f"{seed}-baseline-{worker}")
        connection = connections[worker]

        def step() -> int:
            debit, credit = pair(rng, accounts)
            amount = transfer_amount(rng)
            connection.execute("BEGIN IMMEDIATE")
            connection.execute(_DEBIT, (amount, debit))
            connection.execute(_CREDIT, (amount, credit))
            connection.execute(_RECORD, (debit, credit, amount, time.time_ns() // 1_000))
            connection.execute("COMMIT")
            return 1

        yield step

    return open_step


@contextmanager
def pgbench_slices(url: URL, scale: int, clients: int) -> Iterator[SliceRun]:
    """``pgbench`` ``tpcb-like`` on tables initialised once for the row, a run of ``-T`` whole
    seconds a slice. Its figure leaves out connection time, as the ledger's slices do."""
    executable = shutil.which("pgbench")
    if executable is None:
        raise BaselineMissing("pgbench not found on PATH")
    address = pg_address(url)  # the server gongji's side of the row reaches, by the same way
    connection = [f"--host={address.host}"] if address.host else []
    connection += [f"--port={address.port}"] if address.port else []
    connection += [f"--username={url.username}"] if url.username else []
    env = dict(os.environ, **({"PGPASSWORD": str(url.password)} if url.password else {}))
    init = _run([executable, *connection, "-i", "-q", "-s", str(scale), str(url.database)], env)
    if init.returncode != 0:
        raise BaselineMissing(f"pgbench -i failed: {_last_line(init.stderr)}")

    def run(_index: int, seconds: float) -> float:
        load = ["-c", str(clients), "-j", str(min(clients, 2)), "-T", str(round(seconds)), "-n"]
        ran = _run([executable, *connection, *load, "-b", "tpcb-like", str(url.database)], env)
        found = _TPS.search(ran.stdout)
        if found is None:
            raise BaselineMissing(f"pgbench failed: {_last_line(ran.stderr)}")
        return float(found.group(1))

    yield run


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, capture_output=True, text=True, env=env, timeout=PGBENCH_TIMEOUT_S, check=False
    )


def _last_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"
