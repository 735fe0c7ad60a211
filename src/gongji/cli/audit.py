"""`gongji audit verify|anchor`: check the audit trail's hash chain, fix yesterday's head."""

from __future__ import annotations

import typer

from gongji.audit.service import log
from gongji.cli.common import EXIT_CHECK_FAILED, container, readable_errors

audit_app = typer.Typer(help="The audit trail: hash-chained, append-only.", no_args_is_help=True)


@audit_app.command("verify")
def verify() -> None:
    """Walk the whole chain; name the first edited, deleted or reordered record (exit 1)."""
    with container() as built, readable_errors():
        verdict = log.verify(built.context)
    if verdict.broken is None:
        typer.echo(f"audit chain ok: {verdict.records} records, {verdict.anchors} daily anchors")
        return
    broken = verdict.broken
    typer.echo(f"audit chain BROKEN at record {broken.seq}: {broken.kind.value}")
    raise typer.Exit(EXIT_CHECK_FAILED)


@audit_app.command("anchor")
def anchor() -> None:
    """Fix yesterday's head (once) and print it, to keep a copy outside the database."""
    with container() as built, readable_errors():
        made = log.anchor_yesterday(built.context)
    if made is None:
        typer.echo("audit anchor: nothing recorded before today, no anchor")
        return
    typer.echo(f"audit anchor {made.day}: record {made.last_seq}, hash {made.hash}")
