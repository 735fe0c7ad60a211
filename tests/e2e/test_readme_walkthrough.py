"""README.md's walkthrough, run as it stands: the shell lines between ``<!-- walkthrough -->``
and ``<!-- /walkthrough -->`` against a freshly seeded server with the test clock (only the
port is changed, to a free one), then what the story promises is checked in what it printed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BLOCK = re.compile(r"<!-- walkthrough -->\s*```sh\n(.*?)```\s*<!-- /walkthrough -->", re.S)
GONGJI = Path(sys.executable).parent / "gongji"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    for tool in ("curl", "openssl", "sha256sum"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is needed by the README's walkthrough")
    port = _free_port()
    env = {
        **os.environ,
        "GONGJI_DATA_DIR": str(tmp_path / "var"),
        "GONGJI_TEST_CLOCK": "1",
        "GONGJI_PORT": str(port),
        "GONGJI_HOST": "127.0.0.1",
    }
    subprocess.run([str(GONGJI), "demo", "seed"], env=env, check=True, capture_output=True)
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen([str(GONGJI), "serve"], env=env, stdout=log, stderr=log)
    try:
        _wait_for(port)
        yield port, env
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=1):
                return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail("the server did not start")


def test_the_readme_walkthrough_ends_with_the_mother_spending(
    server: tuple[int, dict[str, str]],
) -> None:
    port, env = server
    found = BLOCK.search(README.read_text(encoding="utf-8"))
    assert found, "README.md has no walkthrough block"
    script = found.group(1).replace("localhost:8000", f"localhost:{port}")
    ran = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=ROOT,
        env={**env, "PATH": f"{GONGJI.parent}{os.pathsep}{env['PATH']}"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    answers = [json.loads(line) for line in ran.stdout.splitlines() if line.startswith("{")]
    accepted = next(a for a in answers if a.get("state") == "active")
    assert accepted["mutual_aid"] == {"use_mutual_aid": True, "chosen": True}  # the seed chose
    settled = next(a for a in answers if "acct_mulaid_pay" in a)
    assert settled["acct_mulaid_pay"] == "72.00" and settled["fixmedins_code"] == "P37010000001"
    wallet = next(a for a in answers if "received_total" in a)
    assert wallet["received_total"] == "428.00"
    told = next(a for a in answers if "notifications" in a)
    kinds = [n["kind"] for n in told["notifications"]]
    assert "relationship_confirmed" in kinds and "quota_spent" in kinds
    spent = next(n for n in told["notifications"] if n["kind"] == "quota_spent")
    assert "济南市示范大药房" in spent["body"] and "72.00" in spent["body"]
    assert not any(a.get("code") for a in answers), [a for a in answers if a.get("code")]
