"""`gongji stats`: the back office's business figures for a period, refreshed first."""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from gongji.backoffice.reports import statistics_files as files
from gongji.backoffice.service import statistics
from gongji.cli.common import container, readable_errors
from gongji.core.money import format_yuan
from gongji.store.uow import run_in_transaction


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


def _period(first: str | None, last: str | None, today: date) -> tuple[date, date]:
    try:
        end = date.fromisoformat(last) if last else today
        start = date.fromisoformat(first) if first else end.replace(day=1)
    except ValueError:
        raise typer.BadParameter("dates are YYYY-MM-DD") from None
    if start > end:
        raise typer.BadParameter("--from is after --to")
    return start, end


def stats(
    first: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")] = None,
    last: Annotated[str | None, typer.Option("--to", help="Last day (default: today).")] = None,
    output: Annotated[Format, typer.Option("--format", help="table, json or csv.")] = Format.TABLE,
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help="Also write an XLSX file.")] = None,
) -> None:
    """Wallets, relationships, grants by state, yuan shared and spent, by region and province,
    by institution type and med_type, and month by month."""
    with container() as built, readable_errors():
        ctx = built.context
        start, end = _period(first, last, ctx.today())
        statistics.refresh(ctx)
        figures, months = run_in_transaction(
            ctx.engine,
            lambda uow: (
                statistics.figures(uow, start, end),
                statistics.month_series(uow, start, end),
            ),
            read_only=True,
        )
        names = {code: region.name for code, region in ctx.regions.items()}
    table = files.rows(figures, names, months)
    if xlsx is not None:
        xlsx.write_bytes(files.to_xlsx(table, f"共济统计 {start} — {end}"))
    if output is Format.CSV:
        typer.echo(files.to_csv(table), nl=False)
    elif output is Format.JSON:
        typer.echo(json.dumps(files.to_json(table), ensure_ascii=False))
    else:
        typer.echo(f"共济统计 {start} — {end}")
        for section, _key, name, count, fen in table:
            amount = "" if fen is None else format_yuan(fen)
            typer.echo(f"{files.SECTIONS_ZH.get(section, section)}\t{name}\t{count}\t{amount}")
