"""`gongji`: serve, migrate, check the ledger, benchmark."""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import typer

from gongji.bootstrap import build
from gongji.cli.audit import audit_app
from gongji.cli.backup import backup, restore
from gongji.cli.bench import bench_app
from gongji.cli.clearing import clearing_app
from gongji.cli.common import EXIT_CHECK_FAILED, container, fail, read_settings, readable_errors
from gongji.cli.demo import demo_app
from gongji.cli.fsi import fsi_app
from gongji.cli.imports import import_app
from gongji.cli.institutions import catalogue_app, institutions_app
from gongji.cli.jobs import jobs_app
from gongji.cli.keys import keys_app
from gongji.cli.people import operators_app, persons_app
from gongji.cli.policy import policy_app
from gongji.cli.risk import risk_app
from gongji.cli.stats import stats
from gongji.config import Settings
from gongji.ledger.check import check_ledger
from gongji.store.engine import is_sqlite_url, make_engine
from gongji.store.migrate import head_revision, upgrade

if TYPE_CHECKING:
    from fastapi import FastAPI

    from gongji.bootstrap import Container

WORKER_START_S = 120  # seconds a server worker may take to import and build the app

app = typer.Typer(
    name="gongji",
    help="共济 — medical-insurance wallet and family mutual aid.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
ledger_app = typer.Typer(help="The double-entry ledger.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(ledger_app, name="ledger")
app.add_typer(import_app, name="import")
app.add_typer(jobs_app, name="jobs")
app.add_typer(demo_app, name="demo")
app.add_typer(persons_app, name="persons")
app.add_typer(operators_app, name="operators")
app.add_typer(institutions_app, name="institutions")
app.add_typer(catalogue_app, name="catalogue")
app.add_typer(bench_app, name="bench")
app.add_typer(policy_app, name="policy")
app.add_typer(clearing_app, name="clearing")
app.add_typer(audit_app, name="audit")
app.add_typer(keys_app, name="keys")
app.command("backup")(backup)
app.command("restore")(restore)
app.add_typer(fsi_app, name="fsi")
app.add_typer(risk_app, name="risk")
app.command("stats")(stats)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration (also done on every start)."""
    settings = read_settings()
    with readable_errors():
        engine = make_engine(settings.database_url)
        try:
            revision = upgrade(engine)
        finally:
            engine.dispose()
    typer.echo(
        f"database {settings.describe_database()} at revision {revision} (head {head_revision()})"
    )


@ledger_app.command("check")
def ledger_check(
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Verify every ledger invariant; exit 1 naming the first violation."""
    with container() as built, readable_errors():
        report = check_ledger(built.engine)
    if as_json:
        typer.echo(
            json.dumps(
                {"ok": report.ok, "verdict": report.verdict(), "violations": report.violations},
                ensure_ascii=False,
            )
        )
    else:
        typer.echo(report.verdict())
    if not report.ok:
        raise typer.Exit(EXIT_CHECK_FAILED)


@app.command("serve")
def serve(
    host: str | None = typer.Option(None, help="Address to listen on (GONGJI_HOST)."),
    port: int | None = typer.Option(None, help="Port (GONGJI_PORT)."),
    workers: int = typer.Option(
        1,
        "--workers",
        min=1,
        max=64,
        help="Server processes (uvicorn workers). PostgreSQL only above 1: SQLite keeps one"
        " writer process, so more than one is refused there.",
    ),
) -> None:
    """Start the web UI and API (migrating the database first)."""
    import uvicorn

    from gongji.app.asgi import create_app
    from gongji.app.one_core import place_serving_process
    from gongji.app.serving import server_config

    settings = read_settings()
    host, port = host or settings.host, port or settings.port
    if workers > 1 and is_sqlite_url(settings.database_url):
        fail(f"--workers {workers} needs PostgreSQL: SQLite keeps one writer process (use 1)")
    with readable_errors():
        built = build(settings)
    typer.echo(f"gongji serving {settings.describe_database()} on http://{host}:{port}")
    if workers == 1:
        served = create_app(built, run_jobs=True)
        typer.echo(place_serving_process(settings.one_core))
        uvicorn.Server(server_config(served, host, port)).run()
        return
    _serve_workers(built, host, port, workers)


def _serve_workers(built: Container, host: str, port: int, workers: int) -> None:
    """``workers`` uvicorn processes, each building its app from the environment
    (:func:`worker_app`). The job scheduler runs once, here in the supervising process,
    rather than once in every worker."""
    import uvicorn

    from gongji.app.serving import server_options
    from gongji.jobs.scheduler import Scheduler

    scheduler = Scheduler(built.context)
    scheduler.start()
    try:
        uvicorn.run(
            "gongji.cli.main:worker_app",
            factory=True,
            workers=workers,
            **server_options(host, port),
            **_worker_start_allowance(uvicorn.run),
        )
    finally:
        scheduler.stop()


def _worker_start_allowance(run: Callable[..., object]) -> dict[str, Any]:
    """uvicorn (≥ 0.30) restarts a worker that has not started serving within 5 s; on a busy
    machine importing and building the app takes longer, and it restarted them for ever."""
    if "timeout_worker_healthcheck" in inspect.signature(run).parameters:
        return {"timeout_worker_healthcheck": WORKER_START_S}
    return {}


def worker_app() -> FastAPI:
    """One worker's app of ``gongji serve --workers N``: migrated already by the supervisor."""
    from gongji.app.asgi import create_app
    from gongji.app.one_core import place_serving_process

    settings = Settings.from_env()  # checked by the supervisor's own start
    served = create_app(build(settings, migrate=False))
    logging.getLogger("uvicorn.error").info(place_serving_process(settings.one_core))
    return served
