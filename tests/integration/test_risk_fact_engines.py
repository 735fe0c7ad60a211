"""A full run reads the same facts, and so finds the same alerts, whether SQL on the operational
connection reads them or DuckDB reading the same database (docs/benchmarks.md, risk): on a
small synthetic population with every fraud pattern injected, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from gongji.risk.domain.alerts import Alert
from gongji.risk.domain.engine import run_rules
from gongji.risk.domain.facts import History
from gongji.risk.service.access import shipped_policy
from gongji.risk.service.runs import full_history, run_at
from gongji.risk.store import facts_duckdb, facts_repo
from gongji.sim.risk_db_bench import bench_vault, born_reader, load
from gongji.sim.risk_eval import synthetic
from gongji.sim.risk_population import END_US, WINDOW_DAYS
from gongji.store.tables_people import person_events

MOVED_AT = END_US - 5 * 86_400_000_000


def _alerts(alerts: list[Alert]) -> list[tuple[Any, ...]]:
    return sorted(
        (a.fingerprint, a.rule, a.reason, a.subject, a.region, a.weight, repr(a.evidence.figures))
        for a in alerts
    )


def _typed(fact: Any) -> tuple[tuple[str, Any], ...]:
    """A fact's values with their types: ``Decimal(5) == 5``, but money is integer fen."""
    values = fact if isinstance(fact, tuple) else [getattr(fact, f.name) for f in fields(fact)]
    return tuple((type(value).__name__, value) for value in values)


def _facts(history: History) -> dict[str, list[tuple[tuple[str, Any], ...]]]:
    return {
        "persons": sorted(map(_typed, history.persons.values())),
        "institutions": sorted(map(_typed, history.institutions.values())),
        "grants": sorted(map(_typed, history.grants)),
        "settlements": sorted(map(_typed, history.settlements)),
        "relationships": sorted(map(_typed, history.relationships)),
    }


def test_duckdb_reads_the_facts_sql_reads_and_the_run_finds_the_same_alerts(
    engine: Engine,
) -> None:
    population = synthetic(1_500, 18, 3.0, 4.0)
    vault = bench_vault()
    born = born_reader(vault)
    load(engine, population, vault)
    mover = population.persons[0].psn_no
    with engine.begin() as connection:  # a move, which the bench's population does not write
        detail = json.dumps({"old": "110000", "new": "620100"})
        row = {"psn_no": mover, "kind": "moved", "detail": detail, "actor": "t", "at_us": MOVED_AT}
        connection.execute(insert(person_events).values(row))

    by_sql = full_history(engine, END_US + 1, window_days=WINDOW_DAYS, born=born, facts="sql")
    by_duckdb = full_history(engine, END_US + 1, window_days=WINDOW_DAYS, born=born, facts="duckdb")

    assert _facts(by_duckdb) == _facts(by_sql)
    assert len(by_sql.grants) > 1_000 and len(by_sql.settlements) > 1_000
    assert any(s.shared_fen for s in by_sql.settlements)
    assert any(p.birth_date for p in by_sql.persons.values())
    assert any(p.died_at for p in by_sql.persons.values())
    assert by_sql.persons[mover].moved_at == MOVED_AT
    assert by_sql.persons[mover].moved_from == "110000"
    found_sql = run_rules(by_sql, shipped_policy())
    found_duckdb = run_rules(by_duckdb, shipped_policy())
    assert len({a.rule for a in found_sql}) >= 6  # most rules have something to find
    assert _alerts(found_duckdb) == _alerts(found_sql)

    clock = lambda: END_US  # noqa: E731
    result = run_at(engine, clock, full=True, window_days=WINDOW_DAYS, born=born, facts="duckdb")
    assert result.alerts_found == len(found_sql) and result.alerts_new == len(found_sql)
    assert result.grants_read == len(by_sql.grants)


def test_an_extension_of_another_duckdb_version_is_refused_not_fetched() -> None:
    package, extension, _ = facts_duckdb.SCANNERS["sqlite"]
    with pytest.raises(facts_duckdb.AnalyticsUnavailable) as refused:
        facts_duckdb._extension_file(package, extension, "0.0.1")
    assert refused.value.code == "analytics_unavailable"
    assert "分析引擎不可用" in refused.value.message("zh")


def test_a_screen_finds_the_people_around_a_party_as_their_relations_name_them(
    engine: Engine,
) -> None:
    """A write-time screen reads a party and everyone in a relationship with them in one
    statement (``persons_around``); it finds exactly the persons the two reads did, the
    relations first and then the persons they name, relationships made later left out."""
    population = synthetic(400, 7, 3.0, 4.0)
    vault = bench_vault()
    born = born_reader(vault)
    load(engine, population, vault)
    with engine.connect() as connection:
        everyone = sorted(
            facts_repo.relationships(connection, 0, END_US + 1, None),
            key=lambda r: r.created_at,
        )
        middle = everyone[len(everyone) // 2].created_at  # half the relations made later
        parties = [[r.holder] for r in everyone[:: max(1, len(everyone) // 40)]]
        parties += [[r.relative] for r in everyone[1 :: max(1, len(everyone) // 40)]]
        parties += [[everyone[0].holder, everyone[-1].relative], [population.persons[-1].psn_no]]
        compared = 0
        for end in (middle, END_US + 1):
            for ids in parties:
                relations = facts_repo.relationships(connection, 0, end, ids)
                named = sorted({*ids, *(r.relative for r in relations),
                                *(r.holder for r in relations)})  # fmt: skip
                dated = set(named[::2])
                by_relations = facts_repo.persons(connection, named, born, dated)
                around = facts_repo.persons_around(connection, end, ids, born, dated)
                assert sorted(map(_typed, around)) == sorted(map(_typed, by_relations)), ids
                compared += len(named) > len(ids)
    assert compared > 20  # most parties had relations to find
