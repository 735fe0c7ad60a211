"""The statistics as files: one table of rows (section, key, name, count, yuan) written as CSV
or XLSX, and the daily chart as SVG.

One table for both files, so a spreadsheet filters it by ``section`` and the CSV and the XLSX
never disagree. Amounts are yuan strings at this edge (CSV) and numbers with two decimals in
the XLSX cells, computed from integer fen.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from decimal import Decimal
from typing import Final
from xml.sax.saxutils import escape

import xlsxwriter  # type: ignore[import-untyped]

from gongji.backoffice.service.reports import MonthlyReport
from gongji.backoffice.service.statistics import Amount, DayPoint, Figures, MonthPoint
from gongji.core.money import format_yuan

COLUMNS: Final = ("section", "key", "name", "count", "amount")
SECTIONS_ZH: Final = {
    "overview": "总体",
    "grant_state": "共济状态",
    "relationship_kind": "共济关系类型",
    "region": "统筹区",
    "province_pair": "跨省流向（参保地→就医地）",
    "spending_type": "机构类型与医疗类别",
    "region_spent_out": "统筹区共济资金流出",
    "region_spent_in": "统筹区共济资金流入",
    "month_shared": "按月共济金额（已接收）",
    "month_spent": "按月共济资金使用",
    "top_institution": "共济资金使用最多的机构",
    "inheritance_payout": "个人账户继承支付",
}
_OVERVIEW: Final = (
    ("wallets_opened", "开通医保钱包"),
    ("grants_offered", "发起共济"),
    ("grants_accepted", "共济金额（已接收）"),
    ("spent", "共济资金使用"),
    ("premiums_for_others", "为亲属代缴保费"),
)

Row = tuple[str, str, str, int, int | None]  # section, key, name, count, fen (None: no amount)


def rows(
    figures: Figures, names: Mapping[str, str], months: list[MonthPoint] | None = None
) -> list[Row]:
    """The period's figures as rows; with ``months`` (``statistics.month_series``) also yuan
    shared and spent per month, so a span of months reads month by month."""
    overview: dict[str, Amount] = {
        "wallets_opened": Amount(figures.wallets_opened, 0),
        "grants_offered": figures.offered,
        "grants_accepted": figures.accepted,
        "spent": figures.spent,
        "premiums_for_others": figures.premiums_for_others,
    }
    table: list[Row] = [
        (
            "overview",
            key,
            label,
            overview[key].count,
            None if key == "wallets_opened" else overview[key].fen,
        )
        for key, label in _OVERVIEW
    ]
    table += [("grant_state", k, k, v.count, v.fen) for k, v in sorted(figures.grants.items())]
    table += [
        ("relationship_kind", k, k, n, None) for k, n in sorted(figures.relationships.items())
    ]
    for region, values in figures.by_region.items():
        shared, out = values.get("shared_fen", 0), values.get("spent_out_fen", 0)
        table.append(
            ("region", region, names.get(region, region), values.get("offered", 0), shared)
        )
        table.append(("region_spent_out", region, names.get(region, region), 0, out))
        table.append(
            ("region_spent_in", region, names.get(region, region), 0, values.get("spent_in_fen", 0))
        )
    for (payer, payee), amount in sorted(figures.province_pairs.items()):
        label = f"{names.get(payer, payer)}→{names.get(payee, payee)}"
        table.append(("province_pair", f"{payer}>{payee}", label, amount.count, amount.fen))
    table += [
        ("spending_type", k, k, v.count, v.fen) for k, v in sorted(figures.spending_by_type.items())
    ]
    for point in months or []:
        given, used = point.shared, point.spent
        table.append(("month_shared", point.month, point.month, given.count, given.fen))
        table.append(("month_spent", point.month, point.month, used.count, used.fen))
    return table


def to_json(table: list[Row]) -> list[dict[str, object]]:
    """The rows as JSON objects, amounts as yuan strings (``None`` where a row has none)."""
    return [
        {
            "section": section,
            "key": key,
            "name": name,
            "count": count,
            "amount": None if fen is None else format_yuan(fen),
        }
        for section, key, name, count, fen in table
    ]


def to_csv(table: list[Row]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for section, key, name, count, fen in table:
        writer.writerow((section, key, name, count, "" if fen is None else format_yuan(fen)))
    return out.getvalue()


def to_xlsx(table: list[Row], title: str) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("统计")
    money = book.add_format({"num_format": "#,##0.00"})
    bold = book.add_format({"bold": True})
    sheet.write(0, 0, title, bold)
    for col, name in enumerate(COLUMNS):
        sheet.write(1, col, name, bold)
    for n, (section, key, name, count, fen) in enumerate(table, start=2):
        sheet.write_row(n, 0, (section, key, name, count))
        if fen is not None:
            sheet.write_number(n, 4, float(Decimal(fen) / 100), money)
    sheet.set_column(0, 2, 18)
    book.close()
    return out.getvalue()


def chart_svg(points: list[DayPoint], title: str) -> str:
    """Yuan shared (accepted) and spent per day as paired bars, with the axis in yuan."""
    width, height, left, bottom, top = 720, 300, 70, 40, 30
    plot_w, plot_h = width - left - 20, height - top - bottom
    peak = max([max(p.shared_fen, p.spent_fen) for p in points] + [100])
    step = plot_w / max(len(points), 1)
    bar = max(step / 2 - 1, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="chart-title">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<text x="{left}" y="18" font-size="14">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'stroke="#555"/>',
        f'<text x="{left - 6}" y="{top + 4}" font-size="11" text-anchor="end">'
        f"{format_yuan(peak)}</text>",
        f'<text x="{left - 6}" y="{top + plot_h}" font-size="11" text-anchor="end">0</text>',
    ]
    for n, point in enumerate(points):
        x = left + n * step
        for offset, fen, color in (
            (0, point.shared_fen, "#2b6cb0"),
            (bar, point.spent_fen, "#c05621"),
        ):
            h = plot_h * fen / peak
            parts.append(
                f'<rect class="bar" x="{x + offset:.1f}" y="{top + plot_h - h:.1f}" '
                f'width="{bar:.1f}" height="{h:.1f}" fill="{color}">'
                f"<title>{point.day} {format_yuan(fen)}</title></rect>"
            )
        if n % max(len(points) // 6, 1) == 0:
            parts.append(
                f'<text x="{x:.1f}" y="{height - 20}" font-size="10">{point.day[5:]}</text>'
            )
    parts += [
        f'<rect x="{left}" y="{height - 14}" width="10" height="10" fill="#2b6cb0"/>',
        f'<text x="{left + 14}" y="{height - 5}" font-size="11">共济金额 shared</text>',
        f'<rect x="{left + 140}" y="{height - 14}" width="10" height="10" fill="#c05621"/>',
        f'<text x="{left + 154}" y="{height - 5}" font-size="11">使用金额 spent</text>',
        "</svg>",
    ]
    return "\n".join(parts)


def report_totals(report: MonthlyReport) -> dict[str, object]:
    """The report's sums, to check a file against: the region rows, cross-province flows, top
    institutions and payouts each added up (yuan strings, counts as integers)."""
    regions = report.region_figures.values()
    flows = [amount for _, amount in report.province_flows]
    return {
        "grants_offered": sum(v.get("offered", 0) for v in regions),
        "shared": format_yuan(sum(v.get("shared_fen", 0) for v in regions)),
        "spent_out": format_yuan(sum(v.get("spent_out_fen", 0) for v in regions)),
        "spent_in": format_yuan(sum(v.get("spent_in_fen", 0) for v in regions)),
        "cross_province": format_yuan(sum(a.fen for a in flows)),
        "top_institutions": format_yuan(sum(a.fen for _, a in report.top_institutions)),
        "inheritance_payouts": len(report.payouts),
        "inheritance_paid": format_yuan(report.payouts_fen),
    }


def report_rows(report: MonthlyReport, names: Mapping[str, str]) -> list[Row]:
    """The monthly report as the same five columns: regions, flows, top institutions, payouts."""
    table: list[Row] = []
    for region, values in report.region_figures.items():
        name = names.get(region, region)
        table.append(
            ("region", region, name, values.get("offered", 0), values.get("shared_fen", 0))
        )
        table.append(("region_spent_out", region, name, 0, values.get("spent_out_fen", 0)))
        table.append(("region_spent_in", region, name, 0, values.get("spent_in_fen", 0)))
    for (payer, payee), amount in report.province_flows:
        label = f"{names.get(payer, payer)}→{names.get(payee, payee)}"
        table.append(("province_pair", f"{payer}>{payee}", label, amount.count, amount.fen))
    for code, amount in report.top_institutions:
        name = report.institution_names.get(code, code)
        table.append(("top_institution", code, name, amount.count, amount.fen))
    for payout in report.payouts:
        heirs = len(payout.heirs)
        table.append(
            ("inheritance_payout", payout.psn_no, f"{heirs} 名继承人", heirs, payout.amount_fen)
        )
    return table
