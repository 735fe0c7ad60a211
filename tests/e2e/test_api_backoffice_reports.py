"""The reports through the operator API (/api/v1/admin/reports/…): the monthly mutual-aid report,
the inheritance payouts and the clearing statement, each as JSON, CSV and XLSX, on the clearing
tests' March of shared spending and April's inheritance payout (SQLite and PostgreSQL).

The files are read back (the CSV with the csv module, the XLSX from its sheet XML) and their
rows and sums checked against the JSON; each read is found in the audit trail.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gongji.audit.service import log as audit
from gongji.backoffice.service import statistics
from gongji.core.clock import ManualClock
from gongji.kernel.context import Context, Role
from gongji.mutual_aid.service import lifecycle
from gongji.settlement.service import clearing
from support.api import make_client, operator_headers, person_headers
from support.clearing import (
    BROTHER,
    GUANGZHOU_PHARMACY,
    MOTHER,
    account_balance,
    march_spending,
)
from support.desk import PHARMACY
from support.world import operator, run
from support.xlsx import sheet_rows

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONTHLY = "/api/v1/admin/reports/monthly"
PAYOUTS = "/api/v1/admin/reports/inheritance-payouts"
CLEARING = "/api/v1/admin/reports/clearing"
Api = tuple[TestClient, Context]


@pytest.fixture
def api(ctx: Context, clock: ManualClock, tmp_path: Path) -> Iterator[Api]:
    march_spending(ctx, clock)  # leaves the clock on 2026-04-02
    run(
        ctx,
        lambda uow: lifecycle.record_death(ctx, uow, operator(), BROTHER, date(2026, 3, 20), "D"),
    )
    balance = account_balance(ctx, BROTHER, "370100")
    heirs = [
        lifecycle.Heir("张小军", "370***********1234", balance // 2),
        lifecycle.Heir("张小红", "370***********5678", balance - balance // 2),
    ]
    run(ctx, lambda uow: lifecycle.pay_inheritance(ctx, uow, operator(), BROTHER, "D", heirs))
    run(ctx, lambda uow: clearing.run_clearing(ctx, uow, "2026-03"))
    statistics.refresh(ctx)
    with make_client(ctx, clock, tmp_path) as client:
        yield client, ctx


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _fen(yuan: str | float | None) -> int:
    return 0 if yuan in (None, "") else int(Decimal(str(yuan)).scaleb(2).to_integral_value())


def _xlsx(answer: Any) -> tuple[list[Any], list[dict[str, Any]]]:
    """A workbook's title line and its table (header on the second row) as dicts."""
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == XLSX
    title, header, *rows = sheet_rows(answer.content)
    width = len(header)
    return title, [
        dict(zip(header, row + [None] * (width - len(row)), strict=True)) for row in rows
    ]


def test_the_monthly_report_is_the_same_in_json_csv_and_xlsx(api: Api) -> None:
    client, ctx = api
    analyst = operator_headers(ctx, "ana1", "analyst")
    march = {"month": "2026-03"}
    answer = client.get(MONTHLY, params=march, headers=analyst)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["month"], report["region"]) == ("2026-03", None)
    rows = report["rows"]
    top = [(r["key"], r["name"], r["amount"]) for r in rows if r["section"] == "top_institution"]
    assert top == [
        (PHARMACY, "济南测试药房", "60.00"),
        ("H62010000001", "兰州测试医院", "30.00"),
        (GUANGZHOU_PHARMACY, "广州测试药房", "20.00"),
    ]
    flows = {r["key"]: r["amount"] for r in rows if r["section"] == "province_pair"}
    assert flows == {"620000>370000": "60.00", "620000>440000": "20.00", "370000>620000": "30.00"}
    totals = report["totals"]
    assert totals["cross_province"] == "110.00" and totals["top_institutions"] == "110.00"
    shared = sum(_fen(r["amount"]) for r in rows if r["section"] == "region")
    assert _fen(totals["shared"]) == shared == 60_000  # 500.00 to the mother, 100.00 to the son
    assert totals["spent_out"] == totals["spent_in"] == "110.00"

    by_format = client.get(MONTHLY, params={**march, "format": "csv"}, headers=analyst)
    by_accept = client.get(MONTHLY, params=march, headers={**analyst, "Accept": "text/csv"})
    for answer in (by_format, by_accept):
        assert answer.headers["content-type"].startswith("text/csv")
        assert "gongji-report-2026-03-all.csv" in answer.headers["content-disposition"]
        as_csv = _csv(answer.text)
        assert [(r["section"], r["key"], r["amount"] or None) for r in as_csv] == [
            (r["section"], r["key"], r["amount"]) for r in rows
        ]
    title, as_xlsx = _xlsx(client.get(MONTHLY, params=march, headers={**analyst, "Accept": XLSX}))
    assert title == ["医保个人账户共济月报 2026-03"]
    assert [(r["section"], r["key"], _fen(r["amount"])) for r in as_xlsx] == [
        (r["section"], r["key"], _fen(r["amount"])) for r in rows
    ]
    assert sum(_fen(r["amount"]) for r in as_xlsx if r["section"] == "region") == shared

    lanzhou = client.get(MONTHLY, params={**march, "region": "620100"}, headers=analyst).json()
    assert {r["key"] for r in lanzhou["rows"] if r["section"] == "region"} == {"620100"}
    assert lanzhou["totals"]["shared"] == "500.00"  # the son's grant to his mother
    assert lanzhou["totals"]["spent_out"] == "80.00"  # her 60.00 in Jinan, 20.00 in Guangzhou
    jinan = client.get(MONTHLY, params={**march, "region": "370100"}, headers=analyst).json()
    flows = {r["key"]: r["amount"] for r in jinan["rows"] if r["section"] == "province_pair"}
    assert flows == {"620000>370000": "60.00", "370000>620000": "30.00"}  # not Gansu→Guangdong
    assert jinan["totals"]["cross_province"] == "90.00"


def test_the_inheritance_payouts_list_sums_the_same_in_every_file(api: Api) -> None:
    client, ctx = api
    auditor = operator_headers(ctx, "aud1", "auditor")
    april = client.get(PAYOUTS, params={"month": "2026-04"}, headers=auditor).json()
    assert april["count"] == 1
    (payout,) = april["payouts"]
    assert payout["psn_no"] == BROTHER and payout["paid_at"].startswith("2026-04-02T09:00")
    assert [heir["name"] for heir in payout["heirs"]] == ["张**", "张**"]  # masked
    shares = [_fen(heir["share"]) for heir in payout["heirs"]]
    assert sum(shares) == _fen(payout["amount"]) > 0  # the clerk's shares account for every fen
    assert april["total"] == payout["amount"]

    as_csv = _csv(
        client.get(PAYOUTS, params={"month": "2026-04", "format": "CSV"}, headers=auditor).text
    )
    assert [(r["psn_no"], r["amount"], r["heirs"]) for r in as_csv] == [
        (BROTHER, april["total"], "2")
    ]
    assert "张小军" not in str(as_csv)
    title, as_xlsx = _xlsx(
        client.get(PAYOUTS, params={"month": "2026-04", "format": "xlsx"}, headers=auditor)
    )
    assert title == ["个人账户继承支付清单 2026-04"]
    assert sum(_fen(r["amount"]) for r in as_xlsx) == _fen(april["total"])
    assert [r["psn_no"] for r in as_xlsx] == [BROTHER]

    march = client.get(PAYOUTS, params={"month": "2026-03"}, headers=auditor).json()
    assert (march["count"], march["total"], march["payouts"]) == (0, "0.00", [])


def test_the_clearing_statement_in_every_file_nets_to_zero(api: Api) -> None:
    client, ctx = api
    clerk = operator_headers(ctx, "clerk1", "clerk")
    statement = client.get(CLEARING, headers=clerk).json()  # default: last month, March
    assert statement["month"] == "2026-03" and statement["total"] == "110.00"
    nets = {n["province"]: n["net"] for n in statement["province_net"]}
    assert nets == {"370000": "30.00", "440000": "20.00", "620000": "-50.00"}

    as_csv = _csv(client.get(CLEARING, params={"format": "csv"}, headers=clerk).text)
    title, as_xlsx = _xlsx(client.get(CLEARING, params={"format": "xlsx"}, headers=clerk))
    assert title[0] == "职工医保个人账户共济跨地区清算表 2026-03"
    assert statement["digest"] in title
    for rows in (as_csv, as_xlsx):
        by_level: dict[str, int] = {}
        for row in rows:
            by_level[row["level"]] = by_level.get(row["level"], 0) + _fen(row["amount"])
        assert by_level == {"city": 11_000, "province": 11_000, "province_net": 0}
    assert [(r["level"], r["payer"], r["payee"] or None, _fen(r["amount"])) for r in as_csv] == [
        (r["level"], r["payer"], r["payee"], _fen(r["amount"])) for r in as_xlsx
    ]
    city = [(p["payer"], p["payee"], p["amount"]) for p in statement["city_pairs"]]
    assert city == [(r["payer"], r["payee"], r["amount"]) for r in as_csv if r["level"] == "city"]

    same = client.get("/api/v1/clearing/2026-03.xlsx", headers=clerk)
    assert same.headers["content-type"] == XLSX
    assert (
        sheet_rows(same.content)[1:]
        == sheet_rows(client.get(CLEARING, params={"format": "xlsx"}, headers=clerk).content)[1:]
    )


def test_bad_months_regions_and_formats_are_refused_with_codes(api: Api) -> None:
    client, ctx = api
    analyst = operator_headers(ctx, "ana2", "analyst")
    refusals = [
        (MONTHLY, {"month": "2026-13"}, 400, "report_month_invalid"),
        (MONTHLY, {"month": "2026-05"}, 400, "report_month_invalid"),  # has not begun
        (MONTHLY, {"month": "March"}, 400, "report_month_invalid"),
        (MONTHLY, {"month": "2026-03", "region": "999999"}, 400, "region_unknown"),
        (MONTHLY, {"month": "2026-03", "format": "pdf"}, 400, "report_format_invalid"),
        (PAYOUTS, {"month": "2026-3"}, 400, "report_month_invalid"),
        (PAYOUTS, {"format": "html"}, 400, "report_format_invalid"),
        (CLEARING, {"month": "2026-13"}, 400, "clearing_month_invalid"),
        (CLEARING, {"month": "2026-04"}, 404, "not_found"),  # not cleared
    ]
    for path, params, status, code in refusals:
        answer = client.get(path, params=params, headers=analyst)
        assert (answer.status_code, answer.json()["code"]) == (status, code), (path, params)
        message = answer.json()["message"]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message  # said in Chinese
    assert client.get(MONTHLY).status_code == 401
    assert client.get(MONTHLY, headers=person_headers(ctx, MOTHER)).status_code == 403


@pytest.mark.parametrize("role", list(Role))
def test_every_role_takes_the_reports_and_each_read_is_recorded(api: Api, role: Role) -> None:
    client, ctx = api
    headers = operator_headers(ctx, f"op.{role.value}", role.value)
    for path, params in (
        (MONTHLY, {"month": "2026-03", "region": "370100", "format": "xlsx"}),
        (PAYOUTS, {"month": "2026-04"}),
        (CLEARING, {"month": "2026-03", "format": "csv"}),
    ):
        assert client.get(path, params=params, headers=headers).status_code == 200, path
    records = run(
        ctx,
        lambda uow: audit.search_by(
            uow, actor=f"operator:op.{role.value}", action="backoffice.report.read"
        ),
    )
    assert sorted(
        (r.entry.detail["report"], r.entry.detail["month"], r.entry.detail["format"])
        for r in records
    ) == [
        ("clearing", "2026-03", "csv"),
        ("inheritance_payouts", "2026-04", "json"),
        ("monthly", "2026-03", "xlsx"),
    ]
    monthly = next(r for r in records if r.entry.detail["report"] == "monthly")
    assert monthly.entry.detail["region"] == "370100"
