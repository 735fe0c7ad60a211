"""A crash test: a child writing batches is killed with SIGKILL at random moments, again and again.

The child writes from several threads through the ledger's group commit (crash_writer.py), so
kills land while groups of several callers' batches commit.

After every kill, `gongji ledger check` (the real command, in its own process) passes, and every
transfer the child acknowledged before it died is in the database — SQLite in WAL with
synchronous=FULL loses no committed transaction and keeps no half of one.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from gongji.core.clock import SystemClock
from gongji.ledger.book import Ledger
from gongji.store.engine import make_engine
from support.soak import scaled

KILLS = scaled(24)
WRITER = Path(__file__).with_name("crash_writer.py")


def _run_and_kill(url: str, run: int, rng: random.Random) -> list[str]:
    """Start a writer, let it commit for a random while, SIGKILL it; return the acknowledged ids."""
    child = subprocess.Popen(
        [sys.executable, str(WRITER), url, str(run)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    acknowledged: list[str] = []
    first_ack = threading.Event()

    def read() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith("ack"):
                acknowledged.extend(line.split()[1:])
                first_ack.set()

    reader = threading.Thread(target=read)
    reader.start()
    first_ack.wait(timeout=30)  # kill while batches are flowing, not during start-up
    time.sleep(rng.uniform(0.0, 0.4))
    child.send_signal(signal.SIGKILL)
    child.wait()
    reader.join()
    assert child.stderr is not None
    errors = child.stderr.read()
    assert child.returncode == -signal.SIGKILL, errors
    return acknowledged


@pytest.mark.soak
def test_sigkill_never_loses_an_acknowledged_transfer(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    rng = random.Random(20261123)
    acknowledged_total: list[str] = []
    env = {**os.environ, "GONGJI_DATABASE_URL": url}
    for run in range(KILLS):
        acknowledged_total += _run_and_kill(url, run, rng)
        check = subprocess.run(
            [sys.executable, "-m", "gongji.cli", "ledger", "check"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert check.returncode == 0, check.stdout + check.stderr
        assert check.stdout.startswith("ledger check: ok")
    engine = make_engine(url)
    found = Ledger(engine, SystemClock()).lookup_transfers(acknowledged_total)
    engine.dispose()
    missing = set(acknowledged_total) - set(found)
    assert acknowledged_total, "the writer acknowledged nothing"
    assert not missing, f"{len(missing)} acknowledged transfers lost, e.g. {sorted(missing)[:5]}"
