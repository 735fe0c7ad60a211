"""`gongji clearing run --month 2026-03`: the monthly clearing (清算) of mutual-aid money spent
outside the contributor's insured city, as a terminal table, JSON or CSV, and as a picture.

The first run of a month stores its result; running it again prints the stored result and says
so. A month that has not ended is refused (exit 2). The run that stores a month is recorded in
the audit trail (``admin.clearing.run``), as the API's is. The PNG is drawn by cairosvg from the
SVG; on a machine without cairo the SVG is still written and one line says why there is no PNG.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from gongji.cli.common import audit_server_command, container, readable_errors, stdout_is_terminal
from gongji.core.money import format_yuan
from gongji.kernel.context import Context
from gongji.kernel.png import PngConverterMissing, svg_to_png
from gongji.settlement.reports import clearing as report
from gongji.settlement.reports.clearing_svg import render_svg
from gongji.settlement.service.clearing import ClearingRun, run_clearing
from gongji.store.uow import UnitOfWork, run_in_transaction

clearing_app = typer.Typer(
    help="Monthly clearing (清算) of mutual-aid money between regions.", no_args_is_help=True
)


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


@clearing_app.command("run")
def run_command(
    month: Annotated[str, typer.Option("--month", help="The month, YYYY-MM; it must have ended.")],
    output: Annotated[
        OutputFormat, typer.Option("--format", help="How to print the result.")
    ] = OutputFormat.TABLE,
    svg: Annotated[
        Path | None, typer.Option("--svg", dir_okay=False, help="Write the picture.")
    ] = None,
    png: Annotated[
        Path | None, typer.Option("--png", dir_okay=False, help="Write the picture as PNG.")
    ] = None,
) -> None:
    """Clear a month (once; later runs print the stored result unchanged)."""
    with container() as built, readable_errors():
        ctx = built.context

        def work(uow: UnitOfWork) -> ClearingRun:
            result = run_clearing(ctx, uow, month)
            if not result.stored_earlier:  # a stored month is printed again, nothing changed
                audit_server_command(ctx, uow, "admin.clearing.run", month=month)
            uow.commit()
            return result

        run = run_in_transaction(built.engine, work)
        names = region_names(ctx)
        _print(run, names, output)
        _pictures(run, names, svg, png, quiet=output is not OutputFormat.TABLE)


def region_names(ctx: Context) -> dict[str, str]:
    return {code: region.name for code, region in ctx.regions.items()}


def _status(run: ClearingRun) -> str:
    if run.stored_earlier:
        return f"{run.clearing.month} 已清算过：以下为已保存的结果，本次未做任何改变"
    return f"{run.clearing.month} 清算完成并已保存"


def _print(run: ClearingRun, names: dict[str, str], output: OutputFormat) -> None:
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(report.as_json(run, names), ensure_ascii=False, indent=2))
    elif output is OutputFormat.CSV:
        typer.echo(report.as_csv(run, names), nl=False)
        typer.echo(_status(run), err=True)
    else:
        _print_tables(run, names)


def _print_tables(run: ClearingRun, names: dict[str, str]) -> None:
    console = Console(width=None if stdout_is_terminal() else 120)
    clearing = run.clearing
    console.print(_status(run))
    console.print(
        f"合计 {format_yuan(clearing.total_fen)} 元，{clearing.draws} 笔跨城市共济支付，"
        f"摘要 {clearing.digest}"
    )
    for title, lines in (
        ("城市间清算（参保地付给就医地）", clearing.lines),
        ("省际清算", clearing.province_lines()),
    ):
        table = Table("付款方（参保地）", "收款方（就医地）", "金额（元）", "笔数", title=title)
        for row in report.pair_rows(lines, names):
            table.add_row(*row)
        console.print(table)
    table = Table("省份", "收入（元）", "支出（元）", "净额（元）", title="各省净额")
    for row in report.net_rows(run, names):
        table.add_row(*row)
    console.print(table)


def _pictures(
    run: ClearingRun, names: dict[str, str], svg: Path | None, png: Path | None, quiet: bool
) -> None:
    """Write the SVG and the PNG asked for; messages go to stderr when stdout carries data."""
    if svg is None and png is None:
        return
    picture = render_svg(run, names)
    if svg is not None:
        svg.write_text(picture, encoding="utf-8")
        typer.echo(f"wrote {svg}", err=quiet)
    if png is not None:
        try:
            svg_to_png(picture, png)
        except PngConverterMissing as missing:
            typer.echo(f"PNG not written: {missing}", err=True)
            return
        typer.echo(f"wrote {png}", err=quiet)
