"""The month's inheritance payouts (个人账户继承支付清单) as JSON, CSV and XLSX.

One row per payout: when it was paid (business time), whose account, how much, to how many
heirs, by which operator. The heirs themselves are named only in the JSON, masked as the people
area hands them out (王**, 3701**********1263) with each one's share; the files a bureau sends
on carry the count. Amounts are yuan strings in JSON and CSV, numbers with two decimals in the
XLSX, all made from the same integer fen, so every file's sum is the JSON's ``total``.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any, Final

import xlsxwriter  # type: ignore[import-untyped]

from gongji.core.clock import from_us
from gongji.core.money import format_yuan
from gongji.kernel.context import BUSINESS_TZ
from gongji.people.service.search import InheritancePayout

COLUMNS: Final = ("paid_at", "psn_no", "amount", "heirs", "operator")


def paid_at(payout: InheritancePayout) -> str:
    return from_us(payout.paid_at_us).astimezone(BUSINESS_TZ).isoformat(timespec="seconds")


def to_json(month: str, payouts: list[InheritancePayout]) -> dict[str, Any]:
    return {
        "month": month,
        "count": len(payouts),
        "total": format_yuan(sum(p.amount_fen for p in payouts)),
        "payouts": [
            {
                "paid_at": paid_at(p),
                "psn_no": p.psn_no,
                "amount": format_yuan(p.amount_fen),
                "operator": p.operator,
                "heirs": [
                    {
                        "name": str(heir.get("name", "")),
                        "id_number": str(heir.get("id", "")),
                        "share": format_yuan(int(heir.get("share_fen", 0))),
                    }
                    for heir in p.heirs
                ],
            }
            for p in payouts
        ],
    }


def to_csv(payouts: list[InheritancePayout]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for p in payouts:
        writer.writerow((paid_at(p), p.psn_no, format_yuan(p.amount_fen), len(p.heirs), p.operator))
    return out.getvalue()


def to_xlsx(month: str, payouts: list[InheritancePayout]) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("继承支付")
    money = book.add_format({"num_format": "#,##0.00"})
    bold = book.add_format({"bold": True})
    sheet.write(0, 0, f"个人账户继承支付清单 {month}", bold)
    for col, name in enumerate(COLUMNS):
        sheet.write(1, col, name, bold)
    for n, p in enumerate(payouts, start=2):
        sheet.write_row(n, 0, (paid_at(p), p.psn_no))
        sheet.write_number(n, 2, float(Decimal(p.amount_fen) / 100), money)
        sheet.write_row(n, 3, (len(p.heirs), p.operator))
    sheet.set_column(0, 1, 22)
    book.close()
    return out.getvalue()
