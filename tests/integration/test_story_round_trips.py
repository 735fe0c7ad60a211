"""A person's whole story for an operator (``GET /api/v1/admin/persons/{psn_no}``) in few round
trips on PostgreSQL: what depends on the person alone read ahead in one, then what depends on
that (the other parties' names, what each grant and settlement paid and which of those
settlements were reversed, the accounts) in one more, then the view's record in the audit log
(the chain's turn and its last link in one trip); its content as the back-office tests check
it, and once a settlement a grant paid for is reversed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from gongji.core.clock import ManualClock
from gongji.settlement.service.settlement import reverse
from gongji.sim.db_trips import TripCounter, count_trips
from support.api import make_client, operator_headers
from support.clearing import BROTHER, GUANGZHOU_PHARMACY, MOTHER, SON, march_spending
from support.world import build_context, run


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
        # them; the audit chain's turn with its last link; the view's record with the COMMIT.
        # 9fd1232: 24, 21 and 22; 09f727f: 6 (whether what their grants paid for was reversed
        # in a trip of its own).
        assert trips == {SON: 5, MOTHER: 5, BROTHER: 5}, trips


def test_a_persons_story_shows_what_a_reversal_undid(
    engine: Engine, clock: ManualClock, tmp_path: Path
) -> None:
    ctx = build_context(engine, clock)
    march_spending(ctx, clock)
    with make_client(ctx, clock, tmp_path) as client:
        headers = operator_headers(ctx, "ana1", "analyst")

        def story(person: str) -> dict[str, Any]:
            answer = client.get(f"/api/v1/admin/persons/{person}", headers=headers)
            assert answer.status_code == 200, answer.text
            return dict(answer.json())

        (paid,) = [
            s["setl_id"]
            for s in story(MOTHER)["settlements"]
            if s["institution_code"] == GUANGZHOU_PHARMACY
        ]
        undo = run(ctx, lambda uow: reverse(ctx, uow, GUANGZHOU_PHARMACY, paid, "c2-undo"))
        son, mother = story(SON), story(MOTHER)
    (given,) = son["grants_given"]
    assert given["spent"] == "60.00"  # 80.00 less the 20.00 given back
    reversed_ = {s["setl_id"]: s["reversed"] for s in given["spent_on"]}
    assert reversed_[paid] is True
    assert reversed_.get(undo.setl_id) in (None, False)
    shown = {s["setl_id"]: (s["kind"], s["reversed"]) for s in mother["settlements"]}
    assert shown[paid] == ("settlement", True)
    assert shown[undo.setl_id] == ("reversal", False)
