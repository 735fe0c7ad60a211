"""`gongji bench`: throughput measurements, each beside a baseline taken in the same run.

Figures depend on the machine; the ratios to the baseline are what to compare between machines.
Results worth keeping go to ``docs/benchmarks.md`` with the machine, the command and the date.
"""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum
from subprocess import SubprocessError
from typing import Annotated

import typer
from rich.console import Console

from gongji.cli.common import fail, readable_errors
from gongji.sim.ledger_bench import DATABASES, BenchError, BenchOptions, run_ledger_bench
from gongji.sim.ledger_render import render_ledger
from gongji.sim.settle_bench import LAYERS, SettleOptions, run_settle_bench
from gongji.sim.settle_render import render_settle
from gongji.sim.starvation_bench import StarvationOptions, run_starvation_bench
from gongji.sim.stats_bench import run_stats_bench

SECONDS_MAX = 600.0  # a bench that runs longer than this is a mistake in its arguments

bench_app = typer.Typer(
    help="Measure throughput against a baseline on the same database.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


class Database(StrEnum):
    SQLITE = "sqlite"
    POSTGRES = "postgres"
    BOTH = "both"


@bench_app.callback()
def bench() -> None:
    """Measure throughput against a baseline on the same database."""


@bench_app.command("ledger")
def ledger(
    database: Annotated[
        Database, typer.Option("--database", help="Which database(s).")
    ] = Database.BOTH,
    seconds: Annotated[
        float,
        typer.Option(
            "--seconds",
            min=0.1,
            max=SECONDS_MAX,
            help="Measured seconds per side of a row (ledger and baseline), over all its slices.",
        ),
    ] = 5.0,
    slices: Annotated[
        int,
        typer.Option(
            "--slices", min=1, max=100, help="Turns each side takes, alternating with the other."
        ),
    ] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    pg_url: Annotated[
        str | None,
        typer.Option(
            "--pg-url",
            help=(
                "PostgreSQL URL (default GONGJI_BENCH_PG_URL, else database gongji_bench on"
                " this machine, by its Unix socket where it has one)."
            ),
        ),
    ] = None,
    group_commit: Annotated[
        bool,
        typer.Option(
            "--group-commit/--no-group-commit",
            help="The ledger's group commit on (as configured by default) or off.",
        ),
    ] = True,
) -> None:
    """Durable transfers/s: single (1 and 8 clients) and batches of 10, 100, 1000, with ratios."""
    databases = DATABASES if database is Database.BOTH else (database.value,)
    options = BenchOptions(
        databases=databases, seconds=seconds, slices=slices, group_commit=group_commit
    )
    if pg_url is not None:
        options = replace(options, pg_url=pg_url)
    with readable_errors():
        try:
            report = run_ledger_bench(options)
        except (BenchError, SubprocessError) as error:
            fail(str(error))
    if as_json:
        typer.echo(report.to_json())
    else:
        Console().print(render_ledger(report))


@bench_app.command("settle")
def settle(
    database: Annotated[Database, typer.Option("--db", help="Which database(s).")] = Database.BOTH,
    seconds: Annotated[
        float,
        typer.Option(
            "--seconds", min=0.1, max=SECONDS_MAX, help="Measured seconds per row, after warm-up."
        ),
    ] = 10.0,
    clients: Annotated[
        int,
        typer.Option(
            "--clients", min=1, max=256, help="Concurrent client threads (over all processes)."
        ),
    ] = 16,
    client_processes: Annotated[
        int | None,
        typer.Option(
            "--client-processes",
            min=1,
            max=64,
            help="Processes the HTTP clients run in (default: the cores this may use).",
        ),
    ] = None,
    rate: Annotated[
        float | None,
        typer.Option(
            "--rate", min=1.0, max=100_000.0, help="Also run at this fixed rate (settlements/s)."
        ),
    ] = None,
    server_workers: Annotated[
        int,
        typer.Option("--server-workers", min=1, max=16, help="uvicorn worker processes."),
    ] = 1,
    workers: Annotated[
        str | None,
        typer.Option(
            "--workers",
            help="PostgreSQL: also http rows against 1, 2, … uvicorn workers, e.g. 1,2,4"
            " (SQLite: ignored, it keeps one writer process).",
        ),
    ] = None,
    compare_threads: Annotated[
        bool,
        typer.Option(
            "--compare-threads", help="Also the HTTP rows of the earlier thread generator."
        ),
    ] = False,
    pairs: Annotated[
        int,
        typer.Option(
            "--pairs", min=1, max=49_000, help="Employee–parent pairs seeded (2 persons each)."
        ),
    ] = 1_000,
    service_only: Annotated[
        bool, typer.Option("--service-only", help="Skip the app and HTTP rows (no server).")
    ] = False,
    app_only: Annotated[
        bool,
        typer.Option(
            "--app-only", help="Only the app rows: its own CPU a request, steadier than HTTP's."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    pg_url: Annotated[
        str | None,
        typer.Option(
            "--pg-url",
            help=(
                "PostgreSQL URL (default GONGJI_BENCH_PG_URL, else database test on this"
                " machine, by its Unix socket where it has one)."
            ),
        ),
    ] = None,
) -> None:
    """Settlements/s through the services and signed HTTP, with latency percentiles."""
    databases = DATABASES if database is Database.BOTH else (database.value,)
    options = SettleOptions(
        databases=databases,
        layers=("service",) if service_only else ("app",) if app_only else LAYERS,
        seconds=seconds,
        clients=clients,
        rate=rate,
        server_workers=server_workers,
        compare_threads=compare_threads,
        pairs=pairs,
    )
    if pg_url is not None:
        options = replace(options, pg_url=pg_url)
    if client_processes is not None:
        options = replace(options, client_processes=client_processes)
    if workers is not None:
        options = replace(options, workers=worker_counts(workers))
    with readable_errors():
        try:
            report = run_settle_bench(options)
        except (BenchError, SubprocessError) as error:
            fail(str(error))
    if as_json:
        typer.echo(report.to_json())
    else:
        Console().print(render_settle(report))


def worker_counts(text: str) -> tuple[int, ...]:
    """``--workers 1,2,4``: whole numbers from 1 to 16; anything else is one readable line."""
    try:
        counts = tuple(int(part) for part in text.split(","))
    except ValueError:
        counts = ()
    if not counts or not all(1 <= count <= 16 for count in counts):
        fail(f"--workers wants whole numbers from 1 to 16 separated by commas, not {text!r}")
    return counts


@bench_app.command("starvation")
def starvation(
    seconds: Annotated[
        float,
        typer.Option("--seconds", min=1.0, max=SECONDS_MAX, help="Measured seconds per phase."),
    ] = 10.0,
    attackers: Annotated[
        int,
        typer.Option("--attackers", min=3, max=300, help="Anonymous looping connections."),
    ] = 48,
    one_address: Annotated[
        bool,
        typer.Option("--one-address", help="All attackers from 127.0.0.1 (default: one each)."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """A signed quote's latency, idle and while anonymous clients loop the expensive endpoints
    (ledger check, OTP send, operator login); exit 1 if loaded/idle p50 is over 3×."""
    options = StarvationOptions(seconds=seconds, attackers=attackers, spread=not one_address)
    with readable_errors():
        try:
            report = run_starvation_bench(options)
        except (BenchError, SubprocessError) as error:
            fail(str(error))
    typer.echo(report.to_json() if as_json else "\n".join(report.lines()))
    if not report.ok:
        raise typer.Exit(1)


@bench_app.command("stats")
def stats(
    grants: Annotated[
        int, typer.Option("--grants", min=1_000, max=10_000_000, help="Grants generated.")
    ] = 1_000_000,
    repeats: Annotated[int, typer.Option("--repeats", min=1, max=1_000)] = 20,
) -> None:
    """Statistics answer times over GRANTS grants (SQLite, throw-away database)."""
    with readable_errors():
        report = run_stats_bench(grants, repeats)
    typer.echo(
        f"grants {report.grants}, spent draws {report.spent}, summary rows {report.stats_rows}\n"
        f"load {report.load_s:.1f} s, first refresh {report.refresh_s:.1f} s\n"
        f"figures of a month: median {report.month_ms[0]:.1f} ms, max {report.month_ms[1]:.1f} ms\n"
        f"figures of the year: median {report.year_ms[0]:.1f} ms, max {report.year_ms[1]:.1f} ms\n"
        f"daily series of the year: median {report.series_ms[0]:.1f} ms,"
        f" max {report.series_ms[1]:.1f} ms"
    )
