"""Migration 0170 links the grants held before it to the alerts that held them, by the only
trace they left (an alert naming the grant; or one naming only relationships, about a party,
raised within a second of the offer), and leaves other alerts unlinked. On both databases."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import DBAPIError

from gongji.store.migrate import upgrade
from gongji.store.tables_people import grants, person_events
from gongji.store.tables_risk import risk_alerts, risk_grant_holds

BEFORE = "0160_choice_and_initials"
OFFERED_US = 1_772_416_800_000_000


def _grant(grant_id: str, contributor: str) -> dict[str, object]:
    return {
        "id": grant_id, "relationship_id": "R1", "contributor": contributor, "recipient": "P2",
        "contributor_region": "620100", "amount_fen": 20_000, "from_current_fen": 0,
        "from_earlier_fen": 20_000, "state": "held", "business_date": "2026-03-02",
        "offered_at_us": OFFERED_US, "expires_at_us": OFFERED_US,
    }  # fmt: skip


def _alert(n: int, subject: str, evidence: dict[str, list[str]], raised_after_us: int) -> dict:
    rows = {"grants": [], "settlements": [], "relationships": [], "persons": [], "figures": []}
    return {
        "fingerprint": f"f{n}", "rule": "kinship", "rule_version": 1, "reason": "x",
        "subject_kind": "person", "subject": subject, "region": "620100", "weight": 40,
        "evidence": json.dumps({**rows, **evidence}), "source": "write", "held": 1,
        "raised_at_us": OFFERED_US + raised_after_us, "run_id": None,
    }  # fmt: skip


def test_the_grants_held_before_it_are_linked_to_their_alerts(bare_engine: Engine) -> None:
    upgrade(bare_engine, BEFORE)
    with bare_engine.begin() as connection:
        connection.execute(insert(grants), [_grant("G1", "P1"), _grant("G9", "P9")])
        connection.execute(insert(person_events), [
            {"psn_no": "P1", "kind": "grant_held", "detail": json.dumps({"grant_id": "G1"}),
             "actor": "person:P1", "at_us": OFFERED_US},
        ])  # fmt: skip
        connection.execute(insert(risk_alerts), [
            _alert(1, "P2", {"grants": ["G0", "G1"]}, 5_000_000),  # names it: linked
            _alert(2, "P1", {"relationships": ["R1"]}, 150),  # by the offer: linked
            _alert(3, "P1", {"relationships": ["R1"]}, 1_000_000),  # a second later: not
            _alert(4, "P1", {"settlements": ["S1"]}, 150),  # about a settlement: not
            _alert(5, "P3", {"relationships": ["R3"]}, 150),  # another person: not
            _alert(6, "P9", {"grants": ["G9"]}, 0),  # G9 was never held: not
        ])  # fmt: skip
    upgrade(bare_engine)
    with bare_engine.connect() as connection:
        linked = connection.execute(
            select(risk_grant_holds.c.grant_id, risk_alerts.c.fingerprint)
            .join(risk_alerts, risk_alerts.c.id == risk_grant_holds.c.alert_id)
            .order_by(risk_alerts.c.fingerprint)
        ).all()
    assert [tuple(row) for row in linked] == [("G1", "f1"), ("G1", "f2")]


def test_the_birth_dates_of_impossible_age_alerts_become_years_apart(bare_engine: Engine) -> None:
    upgrade(bare_engine, BEFORE)
    dated = _alert(1, "P1", {"relationships": ["R1"]}, 0)
    figures = [["holder_born", "1970-01-01"], ["relative_born", "1980-06-01"], ["kind", "parent"]]
    dated |= {"reason": "impossible_age", "evidence": json.dumps({**json.loads(dated["evidence"]),
                                                                 "figures": figures})}  # fmt: skip
    spouse = [["holder_born", "1970-01-01"], ["relative_born", "2010-06-01"], ["kind", "spouse"]]
    young = _alert(2, "P1", {}, 0) | {"reason": "impossible_age"}
    young["evidence"] = json.dumps({**json.loads(young["evidence"]), "figures": spouse})
    other = _alert(3, "P1", {}, 0)  # another clause, its figures untouched
    with bare_engine.begin() as connection:
        connection.execute(insert(risk_alerts), [dated, young, other])
    upgrade(bare_engine)
    with bare_engine.connect() as connection:
        rows = connection.execute(select(risk_alerts.c.fingerprint, risk_alerts.c.evidence))
        stored = {str(fingerprint): str(evidence) for fingerprint, evidence in rows}
    assert json.loads(stored["f1"])["figures"] == [["kind", "parent"], ["older_by_years", -11]]
    assert json.loads(stored["f2"])["figures"] == [["kind", "spouse"]]
    assert json.loads(stored["f1"])["relationships"] == ["R1"]
    assert stored["f3"] == other["evidence"]
    assert not any(year in stored[f] for f in stored for year in ("1970", "1980", "2010"))
    with pytest.raises(DBAPIError), bare_engine.begin() as connection:  # still append-only
        connection.execute(update(risk_alerts).values(reason="edited"))
