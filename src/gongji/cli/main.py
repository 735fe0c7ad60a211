"""`gongji`: serve, migrate, check the ledger, benchmark."""

from __future__ import annotations

import json

import typer

from gongji.bootstrap import build
from gongji.cli.audit import audit_app
from gongji.cli.bench import bench_app
from gongji.cli.clearing import clearing_app
from gongji.cli.common import EXIT_CHECK_FAILED, container, readable_errors
from gongji.cli.demo import demo_app
from gongji.cli.imports import import_app
from gongji.cli.institutions import catalogue_app, institutions_app
from gongji.cli.jobs import jobs_app
from gongji.cli.people import operators_app, persons_app
from gongji.cli.policy import policy_app
from gongji.cli.stats import stats
from gongji.config import Settings
from gongji.ledger.check import check_ledger
from gongji.store.engine import make_engine
from gongji.store.migrate import head_revision, upgrade

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
app.command("stats")(stats)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration (also done on every start)."""
    settings = Settings.from_env()
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
) -> None:
    """Start the web UI and API (migrating the database first)."""
    import uvicorn

    from gongji.app.asgi import create_app

    settings = Settings.from_env()
    host, port = host or settings.host, port or settings.port
    with readable_errors():
        built = build(settings)
    typer.echo(f"gongji serving {settings.describe_database()} on http://{host}:{port}")
    uvicorn.run(create_app(built, run_jobs=True), host=host, port=port, log_level="info")
