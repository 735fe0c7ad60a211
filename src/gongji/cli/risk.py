"""`gongji risk evaluate|run`: the risk rules measured on a synthetic population, and the
scheduled rule run over the operational database."""

from __future__ import annotations

from typing import Annotated

import typer

from gongji.cli.common import EXIT_CHECK_FAILED
from gongji.sim.risk_eval import evaluate as run_evaluation
from gongji.sim.risk_eval import render

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
    short = [row.pattern for row in result.patterns if row.recall < RECALL_MIN]
    if short or result.honest_alerted_share > HONEST_ALERTED_MAX:
        typer.echo(f"below target: {', '.join(short) or 'honest persons alerted'}")
        raise typer.Exit(EXIT_CHECK_FAILED)
