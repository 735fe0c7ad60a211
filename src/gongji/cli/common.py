"""What every command shares: building the container, turning failures into one line, and the
audit record of a command that grants access or changes data."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, NoReturn, TypeVar

import typer
from sqlalchemy.exc import SQLAlchemyError

from gongji.audit.service import log
from gongji.bootstrap import Container, build
from gongji.config import Settings
from gongji.core.errors import GongjiError
from gongji.core.importing import LineError
from gongji.kernel.context import SYSTEM, Context
from gongji.kernel.keys import KeyMismatch, KeyMissing, KeyRotationUnfinished
from gongji.store.uow import UnitOfWork

T = TypeVar("T")
EXIT_CHECK_FAILED = 1
EXIT_REFUSED = 2
EXIT_KEY_MISMATCH = 3
EXIT_KEY_MISSING = 4
EXIT_KEY_ROTATION_UNFINISHED = 5
_KEY_EXITS: Final[dict[type[GongjiError], int]] = {
    KeyMismatch: EXIT_KEY_MISMATCH,
    KeyMissing: EXIT_KEY_MISSING,
    KeyRotationUnfinished: EXIT_KEY_ROTATION_UNFINISHED,
}
"""A key refused at start-up has its own exit code, so that a supervisor can tell "wrong key"
from a bad command line and stop restarting a server that cannot start."""
ERRORS_SHOWN_MAX: Final = 50
SERVER_COMMAND: Final = "server command"
"""The ``by`` of an audit record a server command wrote: no operator signed in to run it."""


def fail(message: str, code: int = EXIT_REFUSED) -> NoReturn:
    typer.echo(f"gongji: {message}", err=True)
    raise typer.Exit(code)


def refuse_import(kind: str, file: Path, errors: Sequence[LineError]) -> NoReturn:
    """A refused file: the first errors, one line each, then how many more; nothing was written."""
    for error in errors[:ERRORS_SHOWN_MAX]:
        typer.echo(f"line {error.line}: {error.code}: {error.message}")
    hidden = len(errors) - ERRORS_SHOWN_MAX
    if hidden > 0:
        typer.echo(f"… and {hidden} more")
    fail(f"import {kind} {file.name}: {len(errors)} errors; nothing was written")


@contextmanager
def readable_errors() -> Iterator[None]:
    """Refusals, database and settings problems become one line on stderr and exit 2; a key
    refused at start-up exits 3 (not the database's), 4 (missing) or 5 (rotation unfinished)."""
    try:
        yield
    except typer.Exit:
        raise
    except (KeyMismatch, KeyMissing, KeyRotationUnfinished) as error:
        fail(
            f"{error.code}: {error.message('zh')} / {error.message('en')}", _KEY_EXITS[type(error)]
        )
    except GongjiError as error:
        fail(f"{error.code}: {error.message('zh')}")
    except SQLAlchemyError as error:
        first_line = str(getattr(error, "orig", error) or error).strip().splitlines()[0:1]
        fail(f"database error: {first_line[0] if first_line else type(error).__name__}")
    except (ValueError, OSError) as error:
        fail(str(error))


def read_settings() -> Settings:
    """The settings from the environment; a bad one is one line and exit 2, not a traceback."""
    with readable_errors():
        return Settings.from_env()


@contextmanager
def container(migrate: bool = True, *, allow_demo_operator: bool = False) -> Iterator[Container]:
    with readable_errors():
        built = build(Settings.from_env(), migrate=migrate, allow_demo_operator=allow_demo_operator)
        try:
            yield built
        finally:
            built.close()


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def audit_server_command(
    ctx: Context, uow: UnitOfWork, action: str, *, subject: str | None = None, **detail: Any
) -> None:
    """Record, in the command's own transaction, a server command that grants access (an
    operator made, a token or a login code handed out, a signing key issued or revoked) or
    changes data (an import, a clearing): the same trail as the operators' actions through the
    pages and the API, so an auditor sees who could act and what changed whichever door it came
    through. Whoever runs it holds the server, not an operator's sign-in: the actor is the
    system, ``by`` says how. ``detail`` never carries a secret, a password or personal data."""
    log.record(ctx, uow, SYSTEM, action, subject=subject, by=SERVER_COMMAND, **detail)


def audit_import(ctx: Context, uow: UnitOfWork, kind: str, file: Path, **counts: Any) -> None:
    """An import that passed, recorded as the imports page records it (``admin.import.KIND``,
    the file's name, its line counts)."""
    audit_server_command(ctx, uow, f"admin.import.{kind}", source=file.name, **counts)
