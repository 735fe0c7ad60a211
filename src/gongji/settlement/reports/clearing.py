"""A month's clearing as JSON, CSV, XLSX and terminal rows (the picture is in ``clearing_svg``).

Amounts are yuan strings with two decimals, as everywhere at the edges. The CSV is one table a
spreadsheet can filter by its ``level`` column:

- ``city``: a city pair, ``payer`` (where the contributors are insured) owes ``payee`` (where the
  money was spent) ``amount``, from ``draws`` settlement draws;
- ``province``: the same rolled up across province borders;
- ``province_net``: one province, ``payer`` columns naming it, ``amount`` its net position
  (received − paid: negative when it owes), the ``payee`` columns and ``draws`` empty.

The XLSX (the clearing statement a bureau files) holds the same rows under a title line, amounts
as numbers with two decimals made from the same integer fen, so its sums are the CSV's.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

import xlsxwriter  # type: ignore[import-untyped]

from gongji.core.clock import from_us
from gongji.core.money import format_yuan
from gongji.settlement.domain.clearing import NetPosition, PairLine
from gongji.settlement.service.clearing import ClearingRun

CSV_COLUMNS = ("level", "payer", "payer_name", "payee", "payee_name", "amount", "draws")


def name_of(names: Mapping[str, str], code: str) -> str:
    """A region's name, or its code when the reference data does not know it."""
    return names.get(code, code)


def _pair(line: PairLine, names: Mapping[str, str]) -> dict[str, Any]:
    return {
        "payer": line.payer,
        "payer_name": name_of(names, line.payer),
        "payee": line.payee,
        "payee_name": name_of(names, line.payee),
        "amount": format_yuan(line.amount_fen),
        "draws": line.draws,
    }


def _net(position: NetPosition, names: Mapping[str, str]) -> dict[str, Any]:
    return {
        "province": position.region,
        "name": name_of(names, position.region),
        "received": format_yuan(position.received_fen),
        "paid": format_yuan(position.paid_fen),
        "net": format_yuan(position.net_fen),
    }


def as_json(run: ClearingRun, names: Mapping[str, str]) -> dict[str, Any]:
    """The whole result: what was stored, when, and whether this run found it already there."""
    clearing = run.clearing
    return {
        "month": clearing.month,
        "digest": clearing.digest,
        "computed_at": from_us(run.computed_at_us).isoformat(),
        "stored_earlier": run.stored_earlier,
        "draws": clearing.draws,
        "total": format_yuan(clearing.total_fen),
        "city_pairs": [_pair(line, names) for line in clearing.lines],
        "province_pairs": [_pair(line, names) for line in clearing.province_lines()],
        "province_net": [_net(position, names) for position in clearing.net_positions()],
    }


StatementRow = tuple[str, str, str, str, str, int, int | None]  # …, amount in fen, draws


def statement_rows(run: ClearingRun, names: Mapping[str, str]) -> Iterator[StatementRow]:
    """The statement's rows in :data:`CSV_COLUMNS` order, amounts in fen (``None``: no draws)."""
    clearing = run.clearing
    for level, lines in (("city", clearing.lines), ("province", clearing.province_lines())):
        for line in lines:
            yield (
                level,
                line.payer,
                name_of(names, line.payer),
                line.payee,
                name_of(names, line.payee),
                line.amount_fen,
                line.draws,
            )
    for position in clearing.net_positions():
        name = name_of(names, position.region)
        yield ("province_net", position.region, name, "", "", position.net_fen, None)


def as_csv(run: ClearingRun, names: Mapping[str, str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for *text, fen, draws in statement_rows(run, names):
        writer.writerow([*text, format_yuan(fen), "" if draws is None else draws])
    return out.getvalue()


def as_xlsx(run: ClearingRun, names: Mapping[str, str]) -> bytes:
    """The clearing statement as a workbook: a title line, the CSV's header and rows."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("清算")
    money = book.add_format({"num_format": "#,##0.00"})
    bold = book.add_format({"bold": True})
    clearing = run.clearing
    sheet.write(0, 0, f"职工医保个人账户共济跨地区清算表 {clearing.month}", bold)
    sheet.write(0, 4, "摘要", bold)
    sheet.write(0, 5, clearing.digest)
    for col, name in enumerate(CSV_COLUMNS):
        sheet.write(1, col, name, bold)
    for n, (*text, fen, draws) in enumerate(statement_rows(run, names), start=2):
        sheet.write_row(n, 0, text)
        sheet.write_number(n, 5, float(Decimal(fen) / 100), money)
        if draws is not None:
            sheet.write_number(n, 6, draws)
    sheet.set_column(0, 4, 16)
    book.close()
    return out.getvalue()


def pair_rows(lines: tuple[PairLine, ...], names: Mapping[str, str]) -> list[tuple[str, ...]]:
    """Rows for a terminal table: payer, payee, amount, draws."""
    return [
        (
            f"{name_of(names, line.payer)} {line.payer}",
            f"{name_of(names, line.payee)} {line.payee}",
            format_yuan(line.amount_fen),
            str(line.draws),
        )
        for line in lines
    ]


def net_rows(run: ClearingRun, names: Mapping[str, str]) -> list[tuple[str, ...]]:
    """Rows for a terminal table: province, received, paid, net."""
    return [
        (
            f"{name_of(names, position.region)} {position.region}",
            format_yuan(position.received_fen),
            format_yuan(position.paid_fen),
            format_yuan(position.net_fen),
        )
        for position in run.clearing.net_positions()
    ]
