"""`gongji policy show REGION --at DATE`: the policy in force, and where each value came from."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from gongji.cli.common import container, readable_errors, stdout_is_terminal

policy_app = typer.Typer(help="Policy parameters per region and date.", no_args_is_help=True)


@policy_app.command("show")
def show(
    region: Annotated[str, typer.Argument(help="A 6-digit region code, e.g. 371400.")],
    at: Annotated[
        str | None, typer.Option("--at", help="The date (YYYY-MM-DD); today by default.")
    ] = None,
) -> None:
    """Print every policy value in force for REGION on a date, with its source."""
    with container() as built, readable_errors():
        on = date.fromisoformat(at) if at else built.context.today()
        resolved = built.context.policies.resolve(region, on)
    table = Table("key", "value", "source", title=f"policy {region} on {on.isoformat()}")
    for key, source in resolved.sources.items():
        table.add_row(key, _shown(getattr(resolved.policy, key)), source)
    Console(width=None if stdout_is_terminal() else 140).print(table)


def _shown(value: object) -> str:
    if isinstance(value, tuple):
        return ", ".join(str(item) for item in value)
    if value is None:
        return "none"
    return str(value)
