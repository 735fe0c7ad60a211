"""The monthly report, the statistics exports and the home page's figures over HTTP, on the
clearing tests' March of shared spending (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gongji.audit.service import log as audit
from gongji.backoffice.service import statistics
from gongji.core.clock import ManualClock
from gongji.identity.service import identity
from gongji.kernel.context import Context
from gongji.mutual_aid.service import lifecycle
from gongji.web.session import OPERATOR_COOKIE
from support.api import make_client
from support.clearing import BROTHER, GUANGZHOU_PHARMACY, account_balance, march_spending
from support.desk import PHARMACY
from support.world import operator, run


@pytest.fixture
def analyst(ctx: Context, clock: ManualClock, tmp_path: Path) -> Iterator[TestClient]:
    march_spending(ctx, clock)
    run(
        ctx,
        lambda uow: lifecycle.record_death(ctx, uow, operator(), BROTHER, date(2026, 3, 20), "D"),
    )
    heirs = [
        lifecycle.Heir("张小军", "370***********1234", account_balance(ctx, BROTHER, "370100"))
    ]
    run(ctx, lambda uow: lifecycle.pay_inheritance(ctx, uow, operator(), BROTHER, "D", heirs))
    statistics.refresh(ctx)
    run(ctx, lambda uow: identity.create_operator(ctx, uow, "zhao", ["analyst"], None, None))
    token = run(ctx, lambda uow: identity.issue_operator_token(ctx, uow, "zhao")).token
    with make_client(ctx, clock, tmp_path) as client:
        client.cookies.set(OPERATOR_COOKIE, token, path="/admin")
        yield client


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_monthly_report_names_flows_institutions_and_payouts(analyst: TestClient) -> None:
    page = analyst.get("/admin/reports", params={"month": "2026-03"})
    assert page.status_code == 200
    assert "甘肃省 → 山东省" in page.text and "甘肃省 → 广东省" in page.text
    rows = _rows(analyst.get("/admin/reports.csv", params={"month": "2026-03"}).text)
    top = [(r["key"], r["amount"]) for r in rows if r["section"] == "top_institution"]
    assert top == [(PHARMACY, "60.00"), ("H62010000001", "30.00"), (GUANGZHOU_PHARMACY, "20.00")]
    assert [r for r in rows if r["section"] == "inheritance_payout"] == []
    april = _rows(analyst.get("/admin/reports.csv", params={"month": "2026-04"}).text)
    payouts = [r for r in april if r["section"] == "inheritance_payout"]
    assert [p["key"] for p in payouts] == [BROTHER]  # paid on 2026-04-02
    lanzhou = analyst.get("/admin/reports.csv", params={"month": "2026-03", "region": "620100"})
    regions = {r["key"] for r in _rows(lanzhou.text) if r["section"] == "region"}
    assert regions == {"620100"}
    workbook = analyst.get("/admin/reports.xlsx", params={"month": "2026-03"}).content
    assert "xl/worksheets/sheet1.xml" in zipfile.ZipFile(io.BytesIO(workbook)).namelist()
    refused = analyst.get("/admin/reports", params={"month": "2026-13"})
    assert refused.status_code == 400 and "报表月份" in refused.text
    unknown = analyst.get("/admin/reports", params={"month": "2026-03", "region": "999999"})
    assert unknown.status_code == 400 and "未知的医保区划" in unknown.text


def test_each_report_file_taken_from_the_page_is_recorded(
    analyst: TestClient, ctx: Context
) -> None:
    analyst.get("/admin/reports", params={"month": "2026-03"})  # the page itself: not a file
    analyst.get("/admin/reports.csv", params={"month": "2026-03", "region": "620100"})
    analyst.get("/admin/reports.xlsx", params={"month": "2026-04"})
    records = run(
        ctx,
        lambda uow: audit.search_by(uow, actor="operator:zhao", action="backoffice.report.read"),
    )
    assert sorted(
        (r.entry.detail["month"], r.entry.detail["region"], r.entry.detail["format"])
        for r in records
    ) == [("2026-03", "620100", "csv"), ("2026-04", "all", "xlsx")]


def test_statistics_page_exports_and_home_figures_agree(analyst: TestClient) -> None:
    params = {"from": "2026-03-01", "to": "2026-03-31"}
    rows = _rows(analyst.get("/admin/stats.csv", params=params).text)
    overview = {r["key"]: r["amount"] for r in rows if r["section"] == "overview"}
    assert overview["grants_accepted"] == "600.00"  # 500.00 to the mother, 100.00 to the son
    assert overview["spent"] == "110.00"  # 60.00 + 20.00 of the mother's, 30.00 of the son's
    pairs = {r["key"]: r["amount"] for r in rows if r["section"] == "province_pair"}
    assert pairs == {"620000>370000": "60.00", "620000>440000": "20.00", "370000>620000": "30.00"}
    chart = analyst.get("/admin/stats.svg", params=params)
    assert chart.headers["content-type"].startswith("image/svg+xml")
    assert chart.text.count('class="bar"') == 62  # two bars a day
    page = analyst.get("/admin/stats", params=params)
    assert "110.00" in page.text
    assert analyst.get("/admin/stats", params={"from": "2026-04-01", "to": "x"}).status_code == 400


def test_statistics_month_by_month_over_a_span_of_months(analyst: TestClient) -> None:
    params = {"from": "2026-02-15", "to": "2026-04-30"}
    rows = _rows(analyst.get("/admin/stats.csv", params=params).text)
    shared = [(r["key"], r["count"], r["amount"]) for r in rows if r["section"] == "month_shared"]
    assert shared == [
        ("2026-02", "0", "0.00"),
        ("2026-03", "2", "600.00"),
        ("2026-04", "0", "0.00"),
    ]
    spent = {r["key"]: r["amount"] for r in rows if r["section"] == "month_spent"}
    assert spent == {"2026-02": "0.00", "2026-03": "110.00", "2026-04": "0.00"}
    page = analyst.get("/admin/stats", params=params)
    assert "按月共济资金使用" in page.text
    mid_march = _rows(
        analyst.get("/admin/stats.csv", params={"from": "2026-03-05", "to": "2026-03-31"}).text
    )
    assert [r["amount"] for r in mid_march if r["section"] == "month_shared"] == [
        "0.00"
    ]  # given on 03-02
