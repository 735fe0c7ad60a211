"""A person's whole story for an operator (``GET /api/v1/admin/persons/{psn_no}``) in few round
trips on PostgreSQL: what depends on the person alone read ahead in one, then what depends on
that (the other parties' names, what each grant and settlement paid, the accounts) in one more,
then the view's record in the audit log (the chain's turn and its last link in one trip); its
content as the back-office tests check it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from gongji.core.clock import ManualClock
from gongji.sim.db_trips import TripCounter, count_trips
from support.api import make_client, operator_headers
from support.clearing import BROTHER, MOTHER, SON, march_spending
from support.world import build_context


def test_a_persons_story_reads_in_few_round_trips(
    engine: Engine, clock: ManualClock, tmp_path: Path
) -> None:
    counter = TripCounter()
    count_trips(engine, counter)
    engine.dispose()  # the connections the migrations opened were not counted
    ctx = build_context(engine, clock)
    march_spending(ctx, clock)
    with make_client(ctx, clock, tmp_path) as client:
        headers = operator_headers(ctx, "ana1", "analyst")
        client.get("/api/v1/me", headers=headers)
        stories, trips = {}, {}
        for person in (SON, MOTHER, BROTHER):
            before = counter.trips
            answer = client.get(f"/api/v1/admin/persons/{person}", headers=headers)
            trips[person] = counter.trips - before
            assert answer.status_code == 200, answer.text
            stories[person] = answer.json()
    son = stories[SON]
    assert [g["spent"] for g in son["grants_given"]] == ["80.00"]
    assert [g["spent"] for g in son["grants_received"]] == ["30.00"]
    assert len(stories[MOTHER]["settlements"]) == 2
    if engine.dialect.name == "postgresql":
        # The token with its operator; the person's own reads (with BEGIN); what depends on
        # them; whether what their grants paid for was reversed; the audit chain's turn with
        # its last link; the view's record with the COMMIT. 9fd1232: 24, 21 and 22.
        assert trips == {SON: 6, MOTHER: 6, BROTHER: 6}, trips
