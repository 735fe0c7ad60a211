"""`gongji risk evaluate|run`: the risk rules measured on a synthetic population, and the
scheduled rule run over the operational database."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from gongji.cli.common import EXIT_CHECK_FAILED, fail, readable_errors
from gongji.risk.service.runs import FACT_ENGINES, FACTS_DEFAULT, FactEngine
from gongji.sim.risk_db_bench import run_bench
from gongji.sim.risk_eval import evaluate as run_evaluation
from gongji.sim.risk_eval import render
from gongji.store.engine import make_engine
from gongji.store.migrate import upgrade

risk_app = typer.Typer(help="Risk monitoring of mutual aid.", no_args_is_help=True)

RECALL_MIN = 0.95
HONEST_ALERTED_MAX = 0.02


@risk_app.command("evaluate")
def evaluate(
    persons: Annotated[int, typer.Option("--persons", min=100, max=5_000_000)] = 100_000,
    seed: Annotated[int, typer.Option("--seed")] = 18,
    grants_per_employee: Annotated[
        float, typer.Option("--grants-per-employee", min=0.0, max=100.0)
    ] = 2.0,
    rate: Annotated[
        float, typer.Option("--rate", min=0.0, max=100.0, help="Cases per 1 000 persons.")
    ] = 0.5,
) -> None:
    """Build a synthetic population with every fraud pattern injected and labelled, run the
    rules, print precision and recall per pattern; exit 1 below the targets (recall 0.95 on
    every pattern, at most 2 % of honest persons alerted)."""
    result = run_evaluation(persons, seed, grants_per_employee, rate)
    for line in render(result):
        typer.echo(line)
    short = [str(row.pattern) for row in result.patterns if row.recall < RECALL_MIN]
    if result.honest_alerted_share > HONEST_ALERTED_MAX:
        short.append("honest persons alerted")
    if short:
        typer.echo(f"below target: {', '.join(short)}")
        raise typer.Exit(EXIT_CHECK_FAILED)


def _fact_engines(names: list[str]) -> list[FactEngine]:
    chosen = [engine for name in names for engine in FACT_ENGINES if engine == name]
    if len(chosen) != len(names):
        fail(f"--engine: one of {', '.join(FACT_ENGINES)}")
    return chosen


@risk_app.command("bench")
def bench(
    persons: Annotated[int, typer.Option("--persons", min=100, max=5_000_000)] = 100_000,
    seed: Annotated[int, typer.Option("--seed")] = 18,
    grants_per_employee: Annotated[
        float, typer.Option("--grants-per-employee", min=0.0, max=100.0)
    ] = 2.0,
    change_pct: Annotated[
        float, typer.Option("--change-pct", min=0.01, max=100.0, help="Persons changed, %.")
    ] = 1.0,
    database_url: Annotated[
        str, typer.Option("--database-url", help="An EMPTY database; default a temporary SQLite.")
    ] = "",
    engine_names: Annotated[
        list[str] | None,
        typer.Option(
            "--engine",
            help="The full run's fact reader: sql or duckdb (the analytics extra); repeat it to "
            "time several on the same database, in that order.",
        ),
    ] = None,
) -> None:
    """Write the synthetic population into a fresh database, time a full rule run over it (its
    fact reading alone too, per engine), change some persons, time the incremental run that
    follows."""
    engines = _fact_engines(engine_names or [FACTS_DEFAULT])
    with tempfile.TemporaryDirectory() as scratch, readable_errors():
        url = database_url or f"sqlite:///{Path(scratch) / 'risk-bench.db'}"
        engine = make_engine(url)
        try:
            upgrade(engine)
            result = run_bench(engine, persons, seed, grants_per_employee, change_pct, engines)
        finally:
            engine.dispose()
    typer.echo(
        f"{engine.dialect.name}: {result.persons} persons, {result.grants} grants, "
        f"{result.settlements} settlements (written in {result.load_s:.1f} s)"
    )
    for full in result.full:
        typer.echo(
            f"{full.facts} facts read alone: {full.read_s:.1f} s ({full.read_cpu_s:.1f} s CPU), "
            f"{full.facts_read} facts"
        )
        typer.echo(
            f"{full.facts} full run: {full.run_s:.1f} s ({full.run_cpu_s:.1f} s CPU), "
            f"{full.result.persons_judged} persons judged, "
            f"{full.result.grants_read} grants read, {full.result.alerts_found} alerts "
            f"({full.result.alerts_new} new)"
        )
    inc = result.incremental
    typer.echo(
        f"incremental run after {result.changed_persons} persons changed: "
        f"{result.incremental_s:.2f} s ({result.incremental_cpu_s:.2f} s CPU), "
        f"{inc.persons_judged} persons judged, "
        f"{inc.grants_read} grants read, {inc.alerts_new} new alerts"
    )
