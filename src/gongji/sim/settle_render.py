"""The terminal table of ``gongji bench settle`` (``--json`` prints the report's fields instead)."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from gongji.sim.settle_bench import DatabaseSettleResult, SettleReport, SettleRow

COLUMNS = (
    "layer", "load", "gen", "wk", "per s", "shared", "p50 ms", "p99 ms", "÷ health",
    "CPU ms/req", "db CPU ms", "trips/req", "clients CPU", "machine",
)  # fmt: skip
LEFT = ("layer", "load", "gen")


def render_settle(report: SettleReport) -> Group:
    setting = ", ".join(f"{name} {value}" for name, value in report.environment.items())
    fixed = [row.clients for result in report.results for row in result.rows if row.mode != "max"]
    at_rate = f" ({fixed[0]} at a fixed rate)" if fixed else ""
    threads = f"{report.clients} client threads{at_rate} in {report.client_processes} processes"
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
            "load max: as fast as it goes; N/s: requests due at that fixed rate, latency counted"
            " from when due. gen: in-process (service threads), processes (client processes,"
            " signed ahead), threads (the earlier httpx2 threads); wk: server workers.\n"
            "CPU ms/req: the server's CPU (service: the bench process's) per answered request;"
            " db CPU ms: PostgreSQL's own per request, when it runs on this machine (it shares"
            " the cores);"
            " trips/req: round trips to the database; clients CPU: share of the cores the"
            " clients could use, SATURATED at ≥ 90 % (then the row measured the clients);"
            " machine: share of all cores busy.\n"
            f"set-up {result.setup_s:.1f} s; {result.ledger_check}"
        ),
        caption_justify="left",
    )
    for name in COLUMNS:
        table.add_column(name, justify="left" if name in LEFT else "right")
    for name in ("target", "refused"):
        table.add_column(name, justify="left")
    for row in result.rows:
        table.add_row(*_cells(row))
    return table


def _cells(row: SettleRow) -> list[str]:
    refused = ", ".join(f"{code} ×{count}" for code, count in row.refused.items()) or "—"
    shared = not row.layer.endswith(" health") and row.completed > 0
    target = "—" if row.target is None else f"{row.target}: {'met' if row.met else 'NOT met'}"
    return [
        row.layer,
        row.mode,
        row.generator,
        "—" if row.server_workers is None else str(row.server_workers),
        f"{row.per_s:,.0f}",
        f"{row.shared / row.completed:.0%}" if shared else "—",
        _number(row.p50_ms, ",.1f"),
        _number(row.p99_ms, ",.1f"),
        _number(row.health_ratio, ".2f"),
        _number(row.cpu_ms_per_request, ".2f"),
        _number(row.db_cpu_ms_per_request, ".2f"),
        _number(row.db_trips_per_request, ".1f"),
        _clients(row),
        _number(row.machine_busy, ".0%"),
        target,
        refused,
    ]


def _clients(row: SettleRow) -> str:
    if row.client_cpu_share is None:
        return "—"
    mark = " SATURATED" if row.client_saturated else ""
    return f"{row.client_cpu_share:.0%} of {row.client_processes}{mark}"


def _number(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)
