"""A serving process keeps its threads on one core of its own (app/one_core.py).

Each case that moves threads runs in a child process, so that this test process's threads stay
where they were.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from gongji.config import Settings

CORES = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
needs_two_cores = pytest.mark.skipif(
    len(CORES) < 2, reason=f"one core to use here ({CORES}): nothing to keep apart"
)

EVERY_THREAD = """
import json, os, sys, threading, time

def cores_of_every_thread():
    tasks = os.listdir("/proc/self/task")
    return sorted({tuple(sorted(os.sched_getaffinity(int(task)))) for task in tasks})
"""
CLAIM_AND_REPORT = (
    EVERY_THREAD
    + """
from pathlib import Path
from gongji.app.one_core import keep_on_one_core

before = threading.Thread(target=time.sleep, args=(30,), daemon=True)
before.start()  # a thread already running is moved too
core = keep_on_one_core(Path(sys.argv[1]))
after = threading.Thread(target=time.sleep, args=(30,), daemon=True)
after.start()  # and one started later inherits the core
print(json.dumps({"core": core, "threads": cores_of_every_thread()}), flush=True)
sys.stdin.readline()  # held until the test lets go
"""
)


def _claim(claims: Path) -> tuple[subprocess.Popen[str], dict[str, object]]:
    child = subprocess.Popen(
        [sys.executable, "-c", CLAIM_AND_REPORT, str(claims)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    return child, json.loads(child.stdout.readline())


def _release(child: subprocess.Popen[str]) -> None:
    assert child.stdin is not None
    child.stdin.close()
    child.wait(timeout=30)


@needs_two_cores
def test_processes_claim_distinct_cores_and_give_them_back_when_they_end(tmp_path: Path) -> None:
    held = []
    for expected in reversed(CORES):  # the highest first
        child, report = _claim(tmp_path)
        held.append(child)
        assert report == {"core": expected, "threads": [[expected]]}
    extra, report = _claim(tmp_path)  # every core claimed: left where the kernel puts it
    assert report == {"core": None, "threads": [CORES]}
    _release(extra)
    _release(held.pop(0))  # the highest core's holder ends: its claim ends with it
    again, report = _claim(tmp_path)
    assert report == {"core": CORES[-1], "threads": [[CORES[-1]]]}
    for child in (again, *held):
        _release(child)


@needs_two_cores
def test_a_server_with_nowhere_to_claim_a_core_is_left_as_it_was(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "claims"
    not_a_directory.write_text("")
    child, report = _claim(not_a_directory)
    _release(child)
    assert report == {"core": None, "threads": [CORES]}


@needs_two_cores
def test_a_block_on_one_core_gives_every_thread_its_cores_back() -> None:
    script = (
        EVERY_THREAD
        + """
from gongji.app.one_core import on_one_core

with on_one_core() as core:
    threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
    inside = cores_of_every_thread()
print(json.dumps({"core": core, "inside": inside, "after": cores_of_every_thread()}))
"""
    )
    command = [sys.executable, "-c", script]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == {"core": CORES[-1], "inside": [[CORES[-1]]], "after": [CORES]}


@needs_two_cores
@pytest.mark.parametrize(("one_core", "expected"), [("1", [CORES[-1:]]), ("0", [CORES])])
def test_gongji_serve_keeps_its_threads_on_one_core_unless_told_not_to(
    tmp_path: Path, one_core: str, expected: list[list[int]]
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "GONGJI_DATA_DIR": str(tmp_path / "data"),
        "GONGJI_PORT": str(port),
        "GONGJI_ONE_CORE": one_core,
        "TMPDIR": str(tmp_path),  # its own claims: a server elsewhere on the machine holds none
    }
    env.pop("GONGJI_DATABASE_URL", None)
    gongji = Path(sys.executable).with_name("gongji")
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen([str(gongji), "serve"], env=env, stdout=output, stderr=output)
    try:
        _wait_healthy(port, server, log)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=10):
            pass  # the health check ran in the pool's thread: that thread is placed too
        tasks = Path(f"/proc/{server.pid}/task")
        placed = sorted(
            {tuple(sorted(os.sched_getaffinity(int(task.name)))) for task in tasks.iterdir()}
        )
        assert [list(cores) for cores in placed] == expected
        said = f"its threads on core {CORES[-1]}" if one_core == "1" else "where the kernel"
        assert said in log.read_text()
    finally:
        server.terminate()
        server.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_healthy(port: int, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"gongji serve did not answer: {log.read_text()}")


@pytest.mark.parametrize(
    ("setting", "database", "kept"),
    [
        (None, "sqlite:///var/gongji.db", True),
        ("auto", "sqlite+pysqlite:///var/gongji.db", True),
        (None, "postgresql+psycopg://gongji@db.example/gongji", False),
        ("1", "postgresql://gongji@db.example/gongji", True),
        ("0", "sqlite:///var/gongji.db", False),
    ],
)
def test_by_default_only_a_process_on_sqlite_keeps_to_one_core(
    setting: str | None, database: str, kept: bool
) -> None:
    env = {"GONGJI_DATABASE_URL": database} | ({"GONGJI_ONE_CORE": setting} if setting else {})
    assert Settings.from_env(env).one_core is kept


def test_an_unknown_setting_is_refused_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "GONGJI_DATA_DIR": str(tmp_path), "GONGJI_ONE_CORE": "yes please"}
    gongji = Path(sys.executable).with_name("gongji")
    refused = subprocess.run([str(gongji), "serve"], env=env, capture_output=True, text=True)
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "gongji: GONGJI_ONE_CORE must be auto, 1 or 0, not 'yes please'"
    )
    assert not (tmp_path / "gongji.db").exists()  # refused before anything was made
