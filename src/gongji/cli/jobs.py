"""`gongji jobs run NAME`: scheduled work run by hand or from cron.

Every job is restartable and idempotent (see gongji.jobs), so running one again, or while the
server's scheduler runs it too, is safe. Adding a job is one function under ``run_app``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from gongji.backoffice.service import statistics
from gongji.cli.common import container, readable_errors
from gongji.jobs.access_purge import run_access_purge
from gongji.jobs.fsi_files import run_delete_expired_files
from gongji.jobs.ledger_check import run_ledger_check
from gongji.jobs.monthly_clearing import run_monthly_clearing
from gongji.jobs.notifications import run_notifications
from gongji.jobs.rollover import run_rollover
from gongji.mutual_aid.service.offer_expiry import run_expire_grants
from gongji.risk.service import runs as risk_runs

jobs_app = typer.Typer(help="Scheduled work: restartable and idempotent.", no_args_is_help=True)
run_app = typer.Typer(help="Run one job now.", no_args_is_help=True)
jobs_app.add_typer(run_app, name="run")


@run_app.command("rollover")
def rollover(
    year: Annotated[
        int, typer.Option("--year", min=1990, max=9999, help="The year that ended, e.g. 2026.")
    ],
) -> None:
    """Year-end rollover (结转): this year's personal-account money into earlier years'."""
    with container() as built, readable_errors():
        moved = run_rollover(built.context, year)
    typer.echo(f"rollover {year}: {moved} personal accounts rolled over")


@run_app.command("expire-grants")
def expire_grants() -> None:
    """The 06:00 return (docs/rules.md §6.1): offers not accepted by their deadline go back."""
    with container() as built, readable_errors():
        expired = run_expire_grants(built.context)
    typer.echo(f"expire-grants: {expired} offers returned")


@run_app.command("notifications")
def notifications() -> None:
    """The evening reminders of offers about to return, then every SMS due (docs/rules.md §15)."""
    with container() as built, readable_errors():
        done = run_notifications(built.context)
    sent = done.delivered
    typer.echo(
        f"notifications: {done.reminded} reminders; SMS {sent.sent} sent, {sent.deferred} deferred"
        f" to the end of quiet hours, {sent.skipped} skipped, {sent.retrying} to retry,"
        f" {sent.failed} failed, {sent.uncertain} uncertain"
    )


@run_app.command("clearing")
def monthly_clearing() -> None:
    """The monthly clearing (清算) of last month, unless it is stored already."""
    with container() as built, readable_errors():
        cleared = run_monthly_clearing(built.context)
    verdict = "already stored, unchanged" if cleared.stored_earlier else "stored"
    typer.echo(f"clearing {cleared.clearing.month}: {verdict}, digest {cleared.clearing.digest}")


@run_app.command("ledger-check")
def ledger_check(
    full: Annotated[
        bool,
        typer.Option("--full", help="Read every transfer (else only those since the last pass)."),
    ] = False,
) -> None:
    """The ledger check, its verdict stored for GET /api/v1/ledger/check; exit 1 if failed.
    Incremental (the transfers since the last passing check, hourly inside `gongji serve`);
    ``--full`` reads the whole ledger (daily inside `gongji serve`, or from cron)."""
    with container() as built, readable_errors():
        stored = run_ledger_check(built.context, full=full)
    typer.echo(f"{stored.kind}: {stored.report.verdict()}")
    if not stored.report.ok:
        raise typer.Exit(1)


@run_app.command("risk")
def risk(
    full: Annotated[
        bool,
        typer.Option("--full", help="Judge everyone (else only who changed since the last run)."),
    ] = False,
    window_days: Annotated[int, typer.Option("--window-days", min=1, max=400)] = 90,
) -> None:
    """The risk rules (docs/rules.md §12) over the last ``window_days``: incremental (who changed
    since the last run) every 15 minutes inside `gongji serve`; ``--full`` nightly from cron, as
    the institution rule compares every institution with its peers in full runs only."""
    with container() as built, readable_errors():
        result = risk_runs.run(built.context, full=full, window_days=window_days)
    typer.echo(
        f"risk {result.mode} run {result.run_id}: {result.persons_judged} persons judged, "
        f"{result.grants_read} grants read, {result.alerts_found} alerts, {result.alerts_new} new"
    )


@run_app.command("stats")
def stats() -> None:
    """Refresh the back office's statistics: every business day whose rows changed."""
    with container() as built, readable_errors():
        days = statistics.refresh(built.context)
    typer.echo(f"stats: {days} days refreshed")


@run_app.command("fsi-files")
def fsi_files() -> None:
    """Delete the files uploaded on the national interface (9101) whose 7 days have ended
    (hourly inside `gongji serve`)."""
    with container() as built, readable_errors():
        deleted = run_delete_expired_files(built.context)
    typer.echo(f"fsi-files: {deleted} expired files deleted")


@run_app.command("access-purge")
def access_purge() -> None:
    """Delete spent one-time codes and tokens, the sign-in counts of names no operator holds
    after a quiet day, and signed requests' nonces too old to replay (hourly inside `gongji
    serve`)."""
    with container() as built, readable_errors():
        deleted = run_access_purge(built.context)
    typer.echo(f"access-purge: {deleted} spent sign-in and request records deleted")
