"""`gongji demo seed`: the demo family and institutions (gongji.sim.demo), to try gongji by hand."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from gongji.cli.common import container, fail, read_settings, readable_errors, stdout_is_terminal
from gongji.sim.demo import (
    DEMO_INSTITUTIONS,
    DEMO_OPERATOR,
    DEMO_OPERATOR_PASSWORD,
    seed,
    seed_if_empty,
    who_is_who,
)

demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)

LOGIN_HINT = (
    "Log in with a mobile number and the one-time code the development SMS gateway writes to "
    "the server log, or use `gongji persons token PSN_NO`."
)


@demo_app.command("seed")
def seed_command(
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Only seed a database that has no person yet.")
    ] = False,
) -> None:
    """Write the demo family (idempotent: seeding twice changes nothing) and print who is who.
    Refused in production: it would add an operator whose password the README publishes."""
    if read_settings().production:
        fail("demo_refused_in_production: 生产模式不得写入演示数据（演示操作员的密码是公开的）")
    with container() as built, readable_errors():
        result = seed_if_empty(built.context) if if_empty else seed(built.context)
    if result is None:
        typer.echo("demo seed: the database has persons already; left as it is")
    else:
        persons, kinship = result.persons, result.kinship
        typer.echo(
            f"demo seed: {persons.created} persons created, {persons.unchanged} unchanged; "
            f"{kinship.created} kinship records created, {kinship.unchanged} unchanged"
        )
    _print_who_is_who()


def _print_who_is_who() -> None:
    console = Console(width=None if stdout_is_terminal() else 120)  # a log keeps whole rows
    people = Table(
        "name", "to 张建国", "psn_no", "ID (masked)", "mobile", "insurance", title="demo"
    )
    for row in who_is_who():
        people.add_row(*row)
    console.print(people)
    places = Table("code", "institution", "kind", "region", title="demo institutions")
    for item in DEMO_INSTITUTIONS:
        places.add_row(item.code, item.name, item.kind.value, item.region)
    console.print(places)
    console.print(LOGIN_HINT)
    console.print(
        f"Back office (/admin): operator `{DEMO_OPERATOR}`, password `{DEMO_OPERATOR_PASSWORD}`, "
        f"and the code printed by `gongji operators totp {DEMO_OPERATOR}`."
    )
