"""`gongji persons token` and `gongji operators create|token|totp|disable|password`: access on
the server itself.

Whoever runs these has the server's configuration and database already, so they issue tokens
without a code or TOTP. A token and a TOTP provisioning URI are printed once and never stored
in clear. Each command records itself in the audit trail (``person.token``, ``operator.create``,
``operator.token``, ``operator.totp``, ``operator.disable``, ``operator.password``), in the
transaction that does it: access handed out on the server is as visible as an operator's.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Annotated, Any, TypeVar

import typer

from gongji.cli.common import audit_server_command, container, fail, readable_errors
from gongji.identity.service import identity, identity_operators
from gongji.identity.service.identity_operators import current_totp
from gongji.kernel.context import Context
from gongji.store.uow import UnitOfWork, run_in_transaction

T = TypeVar("T")

persons_app = typer.Typer(help="Insured persons.", no_args_is_help=True)
operators_app = typer.Typer(help="Bureau operators (password + TOTP, roles).", no_args_is_help=True)


def _recorded(
    ctx: Context,
    action: str,
    subject: str,
    work: Callable[[UnitOfWork], T],
    detail: Callable[[T], Mapping[str, Any]] = lambda _: {},
) -> T:
    """``work`` and its audit record, committed together; a refused command records nothing.
    ``detail``: what the record says of the result (what was done, not what was typed)."""

    def run(uow: UnitOfWork) -> T:
        result = work(uow)
        audit_server_command(ctx, uow, action, subject=subject, **detail(result))
        uow.commit()
        return result

    return run_in_transaction(ctx.engine, run)


@persons_app.command("token")
def person_token(
    psn_no: Annotated[str, typer.Argument(help="The person's number (psn_no).")],
) -> None:
    """Print a new 7-day bearer token for a person (support, tests, the demo)."""
    with container() as built, readable_errors():
        ctx = built.context
        issued = _recorded(
            ctx, "person.token", psn_no, lambda uow: identity.issue_person_token(ctx, uow, psn_no)
        )
    typer.echo(issued.token)


@operators_app.command("create")
def operator_create(
    name: Annotated[str, typer.Argument(help="Login name: a-z 0-9 _ . -, 2 to 64 characters.")],
    roles: Annotated[
        list[str],
        typer.Option(
            "--role", help="admin, clerk, reviewer, risk_officer, auditor or analyst; repeatable."
        ),
    ],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin's first line.")
    ] = False,
    region: Annotated[
        str | None, typer.Option("--region", help="The operator's region code.")
    ] = None,
) -> None:
    """Create an operator; print the TOTP provisioning URI (shown this once only)."""
    password = _password_from_stdin() if password_stdin else None
    with container() as built, readable_errors():
        ctx = built.context
        created = _recorded(
            ctx,
            "operator.create",
            name,
            lambda uow: identity.create_operator(ctx, uow, name, roles, password, region),
            lambda created: {
                "roles": ",".join(sorted(role.value for role in created.roles)),
                "region": created.region,
            },
        )
    typer.echo(created.provisioning_uri)


def _password_from_stdin() -> str:
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        fail("password_missing: --password-stdin 需要从标准输入读入一行密码")
    return line


@operators_app.command("token")
def operator_token(
    name: Annotated[str, typer.Argument(help="The operator's login name.")],
) -> None:
    """Print a new 12-hour bearer token for an operator."""
    with container() as built, readable_errors():
        ctx = built.context
        issued = _recorded(
            ctx, "operator.token", name, lambda uow: identity.issue_operator_token(ctx, uow, name)
        )
    typer.echo(issued.token)


@operators_app.command("totp")
def operator_totp(
    name: Annotated[str, typer.Argument(help="The operator's login name.")],
) -> None:
    """Print the operator's current TOTP code (support on the server, demo databases)."""
    with container() as built, readable_errors():
        ctx = built.context
        code = _recorded(ctx, "operator.totp", name, lambda uow: current_totp(ctx, uow, name))
    typer.echo(code)


@operators_app.command("disable")
def operator_disable(
    name: Annotated[str, typer.Argument(help="The operator's login name.")],
) -> None:
    """Stop an operator signing in or using a token; recorded in the audit trail."""
    with container(allow_demo_operator=True) as built, readable_errors():
        ctx = built.context
        disable = identity_operators.disable_operator
        _recorded(ctx, "operator.disable", name, lambda uow: disable(uow, name))
    typer.echo(f"{name}: disabled")


@operators_app.command("password")
def operator_password(
    name: Annotated[str, typer.Argument(help="The operator's login name.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin's first line.")
    ] = False,
) -> None:
    """Give an operator a new password (read from stdin); recorded in the audit trail, the
    password nowhere."""
    if not password_stdin:
        fail("password_missing: 请用 --password-stdin 从标准输入读入新密码（不经命令行参数）")
    password = _password_from_stdin()
    with container(allow_demo_operator=True) as built, readable_errors():
        ctx = built.context
        _recorded(
            ctx,
            "operator.password",
            name,
            lambda uow: identity_operators.change_operator_password(ctx, uow, name, password),
        )
    typer.echo(f"{name}: password changed")
