"""The terminal table of ``gongji bench ledger`` (``--json`` prints the report's fields instead)."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from gongji.sim.ledger_bench import BenchReport, DatabaseResult

COLUMNS = (
    "row", "transfers/s", "baseline/s", "ratio", "slice ratios", "target", "met",
    "CPU µs/transfer", "trips/transfer", "machine",
)  # fmt: skip


def render_ledger(report: BenchReport) -> Group:
    setting = ", ".join(f"{name} {value}" for name, value in report.environment.items())
    header = Text(f"gongji bench ledger, {report.started_at}: {setting}")
    return Group(header, *(_table(result, report.seconds) for result in report.results))


def _table(result: DatabaseResult, seconds: float) -> Table:
    verdict = {None: "not judged (no baseline)", True: "met", False: "NOT met"}[result.targets_met]
    table = Table(
        title=(
            f"{result.database}: durable transfers/s, {seconds:g} s a side taken in turns"
            f" — targets {verdict}"
        ),
        caption=(
            f"baseline: {result.baseline}\n{result.ledger_check}; refused: {result.refused}\n"
            "CPU: this process's (the ledger and its client threads) per transfer; trips: round"
            " trips to the database per transfer; machine: share of all cores busy meanwhile"
        ),
        caption_justify="left",
    )
    for name in COLUMNS:
        table.add_column(name, justify="left" if name == "row" else "right")
    for row in result.rows:
        table.add_row(
            row.label,
            f"{row.transfers_per_s:,.0f}",
            _or_dash(row.baseline_per_s, "{:,.0f}"),
            _or_dash(row.ratio, "{:.2f}×"),
            _range(row.ratio_low, row.ratio_high),
            _or_dash(row.target_ratio, "≥ {:g}×"),
            {None: "—", True: "yes", False: "NO"}[row.met],
            _or_dash(None if row.cpu_ms_per_transfer is None else row.cpu_ms_per_transfer * 1000,
                     "{:,.0f}"),
            _or_dash(row.db_trips_per_transfer, "{:.2f}"),
            _or_dash(row.machine_busy, "{:.0%}"),
        )  # fmt: skip
    return table


def _range(low: float | None, high: float | None) -> str:
    return "—" if low is None or high is None else f"{low:.2f}–{high:.2f}×"


def _or_dash(value: float | None, template: str) -> str:
    return "—" if value is None else template.format(value)
