"""`gongji import`: the operators' CSV files (docs/rules.md §3; formats in docs/import-formats.md).

All or nothing: a file with any bad line writes nothing, prints each problem with its line and
exits 2, so the operator fixes the file and imports it again. Importing the same file twice
changes nothing. An import that passed is recorded in the audit trail as the imports page
records it (``admin.import.KIND``, the file's name and its line counts), by the server command.
After an import that created rows, PostgreSQL's planner statistics are gathered at once
(gongji.store.planner), so the first settlements after a bulk load do not wait for
autovacuum's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Final

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from gongji.cli.common import (
    audit_import,
    container,
    readable_errors,
    refuse_import,
    stdout_is_terminal,
)
from gongji.kernel.context import Context
from gongji.people.domain.import_errors import ImportFileUnreadable
from gongji.people.service import imports
from gongji.people.service.imports import ImportResult, ProgressCallback
from gongji.store.planner import gather_statistics
from gongji.store.uow import UnitOfWork, run_in_transaction

FILE_BYTES_MAX: Final = 512 * 1024 * 1024

Importer = Callable[[Context, UnitOfWork, str, ProgressCallback | None], ImportResult]
CsvFile = Annotated[
    Path, typer.Argument(help="A UTF-8 CSV file.", exists=True, dir_okay=False, readable=True)
]

import_app = typer.Typer(
    help="Import operators' CSV files: checked whole, written all or nothing, idempotent.",
    no_args_is_help=True,
)


@import_app.command("persons")
def persons(file: CsvFile) -> None:
    """Persons with one enrolment each and, for employees (310), opening balances."""
    _run(file, lambda ctx, uow, text, bar: imports.import_persons(ctx, uow, text, progress=bar))


@import_app.command("injections")
def injections(file: CsvFile) -> None:
    """Monthly injections (划入) into employees' this-year personal accounts."""
    _run(file, lambda ctx, uow, text, bar: imports.import_injections(ctx, uow, text, progress=bar))


@import_app.command("kinship")
def kinship(file: CsvFile) -> None:
    """Kinship registry records (stored as keyed hashes), so relationships verify by themselves."""
    source = file.name

    def action(
        ctx: Context, uow: UnitOfWork, text: str, bar: ProgressCallback | None
    ) -> ImportResult:
        return imports.import_kinship(ctx, uow, text, source=source, progress=bar)

    _run(file, action)


@import_app.command("regions")
def regions(file: CsvFile) -> None:
    """Regions (code,name,level) over the shipped provinces and capitals."""
    _run(file, lambda ctx, uow, text, bar: imports.import_regions(ctx, uow, text, progress=bar))


def _run(file: Path, importer: Importer) -> None:
    with container() as built, readable_errors():
        text = read_import_file(file)
        with _progress_bar(file.name) as bar:

            def work(uow: UnitOfWork) -> ImportResult:
                result = importer(built.context, uow, text, bar)
                if result.ok:
                    audit_import(
                        built.context,
                        uow,
                        result.kind.value,
                        file,
                        lines=result.lines,
                        created=result.created,
                    )
                    uow.commit()
                return result

            result = run_in_transaction(built.engine, work)
        if result.ok and result.created:
            gather_statistics(built.engine)
    _report(result, file)


def read_import_file(file: Path) -> str:
    """The file as text; refused when too large or not UTF-8 (a spreadsheet's BOM is fine)."""
    try:
        if file.stat().st_size > FILE_BYTES_MAX:
            raise ImportFileUnreadable(source=file.name, reason=f"over {FILE_BYTES_MAX} bytes")
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ImportFileUnreadable(source=file.name, reason=type(error).__name__) from None


@contextmanager
def _progress_bar(label: str) -> Iterator[ProgressCallback | None]:
    """A progress bar on a terminal, nothing in a pipe or a log."""
    if not stdout_is_terminal():
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), transient=True) as progress:
        task = progress.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update


def _report(result: ImportResult, file: Path) -> None:
    if result.ok:
        typer.echo(
            f"import {result.kind} {file.name}: {result.lines} lines, "
            f"{result.created} created, {result.unchanged} unchanged"
        )
        return
    refuse_import(result.kind, file, result.errors)
