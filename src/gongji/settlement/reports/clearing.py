"""A month's clearing as JSON, CSV and terminal rows (the picture is in ``clearing_svg``).

Amounts are yuan strings with two decimals, as everywhere at the edges. The CSV is one table a
spreadsheet can filter by its ``level`` column:

- ``city``: a city pair, ``payer`` (where the contributors are insured) owes ``payee`` (where the
  money was spent) ``amount``, from ``draws`` settlement draws;
- ``province``: the same rolled up across province borders;
- ``province_net``: one province, ``payer`` columns naming it, ``amount`` its net position
  (received − paid: negative when it owes), the ``payee`` columns and ``draws`` empty.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

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


def as_csv(run: ClearingRun, names: Mapping[str, str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    clearing = run.clearing
    for level, lines in (("city", clearing.lines), ("province", clearing.province_lines())):
        for line in lines:
            pair = _pair(line, names)
            writer.writerow([level, *(pair[column] for column in CSV_COLUMNS[1:])])
    for position in clearing.net_positions():
        name = name_of(names, position.region)
        writer.writerow(
            ["province_net", position.region, name, "", "", format_yuan(position.net_fen), ""]
        )
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
