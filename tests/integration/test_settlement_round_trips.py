"""Round trips per settlement on PostgreSQL, the bench's world and mix through the service
layer (docs/benchmarks.md, issue 20): the reads a settlement makes ahead (its own accounts'
lock among them), the shared money's quotas with its contributors, risk's screen reading its
window in two trips, the notices and the other writes deferred, the patient's enrolment read
once. A read or a write that falls out of its
batch shows here as a trip more."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import PG_URL, require_postgres
from gongji.bootstrap import build
from gongji.config import Settings
from gongji.sim.db_trips import TripCounter
from gongji.sim.settle_store import bench_store
from gongji.sim.settle_threads import service_sender
from gongji.sim.settle_world import seed_clock, seed_world

pytestmark = pytest.mark.postgres


def test_a_settlement_of_the_bench_mix_waits_for_few_round_trips(tmp_path: Path) -> None:
    require_postgres()
    counter = TripCounter()
    with bench_store("postgres", PG_URL, counter) as (engine, url, _schema, _version):
        secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        env = {"GONGJI_DATA_DIR": str(tmp_path), "GONGJI_SECRET_KEY": secret,
               "GONGJI_DATABASE_URL": url}  # fmt: skip
        settings = Settings.from_env(env)
        seeding = build(settings, engine=engine, clock=seed_clock(datetime.now(UTC)))
        world = seed_world(seeding.context, 20)
        ctx = build(settings, migrate=False, engine=engine).context
        trips: dict[bool, list[int]] = {False: [], True: []}
        with service_sender(ctx, world, 7)("trips")(0) as send:
            for _ in range(20):  # warm-up: the ledger's accounts remembered, as in a server
                assert send().code is None
            for _ in range(120):
                before = counter.trips
                outcome = send()
                assert outcome.code is None
                trips[outcome.shared].append(counter.trips - before)
    own, shared = trips[False], trips[True]
    assert own and shared, "the mix pays bills both ways"
    # Most own-account bills: the transaction's own BEGIN with the first reads; the
    # accumulator, the own accounts' lock and the standing choice; the writes with the
    # ledger's read; the ledger's write with the COMMIT. (53e68f2: 6, the own accounts' lock a
    # trip of its own and psycopg's BEGIN another, which the counter then left out: it said 5.)
    assert sorted(own)[len(own) // 2] <= 4
    # Bills paid with shared money add one trip for the grants' quotas, their contributors'
    # enrolments and the authorizations together (cb363fe: three, one each), and risk's screen
    # in two trips and its COMMIT (53e68f2: 16, counted as 15; cb363fe: 9).
    assert max(shared) <= 7
    # 53e68f2: 9.4, counted as 8.4; cb363fe: 5.7
    assert sum(own + shared) / len(own + shared) <= 5.3
