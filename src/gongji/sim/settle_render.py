"""The terminal table of ``gongji bench settle`` (``--json`` prints the report's fields instead)."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from gongji.sim.settle_bench import DatabaseSettleResult, SettleReport, SettleRow


def render_settle(report: SettleReport) -> Group:
    setting = ", ".join(f"{name} {value}" for name, value in report.environment.items())
    fixed = [row.clients for result in report.results for row in result.rows if row.mode != "max"]
    at_rate = f" ({fixed[0]} at a fixed rate)" if fixed else ""
    threads = f"{report.clients} client threads{at_rate}"
    header = Text(
        f"gongji bench settle, {report.started_at}: {setting}\n"
        f"{report.persons} insured persons; {report.mix}; {threads};"
        f" {report.server_workers} server process(es)"
    )
    return Group(header, *(_table(result, report.seconds) for result in report.results))


def _table(result: DatabaseSettleResult, seconds: float) -> Table:
    verdicts = [row.met for row in result.rows if row.target is not None]
    verdict = "met" if verdicts and all(verdicts) else "NOT met" if verdicts else "not judged"
    table = Table(
        title=f"{result.database}: settlements/s over {seconds:g} s — targets {verdict}",
        caption=(
            f"load max: as fast as it goes; N/s: requests due at that fixed rate, latency"
            f" counted from when due. shared: settlements that drew a grant.\n"
            f"set-up {result.setup_s:.1f} s; {result.ledger_check}"
        ),
        caption_justify="left",
    )
    for name in ("layer", "load", "per s", "shared", "p50 ms", "p95 ms", "p99 ms", "÷ health"):
        table.add_column(name, justify="left" if name in ("layer", "load") else "right")
    for name in ("target", "refused"):
        table.add_column(name, justify="left")
    for row in result.rows:
        table.add_row(*_cells(row))
    return table


def _cells(row: SettleRow) -> list[str]:
    """``max``: as fast as it goes (closed loop); ``500/s``: requests due at that fixed rate."""
    refused = ", ".join(f"{code} ×{count}" for code, count in row.refused.items()) or "—"
    shared = row.layer != "http health" and row.completed > 0
    target = "—" if row.target is None else f"{row.target}: {'met' if row.met else 'NOT met'}"
    return [
        row.layer,
        row.mode,
        f"{row.per_s:,.0f}",
        f"{row.shared / row.completed:.0%}" if shared else "—",
        *(_ms(value) for value in (row.p50_ms, row.p95_ms, row.p99_ms)),
        "—" if row.health_ratio is None else f"{row.health_ratio:.2f}",
        target,
        refused,
    ]


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"
