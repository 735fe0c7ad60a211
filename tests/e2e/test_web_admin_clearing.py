"""The back office's monthly clearing page over HTTP, on SQLite and PostgreSQL: a clerk clears an
ended month once, the page and its flow chart show the stored figures, a month still open or
malformed is refused beside the field, and an auditor may look but not run.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from browser.site import (
    HEAD,
    MOTHER,
    OPERATOR_PASSWORD,
    SHANGHAI,
    add_operator,
    answer,
    committed,
    link,
    offer,
    open_wallets,
)
from fastapi.testclient import TestClient

from gongji.core.clock import ManualClock
from gongji.kernel.context import Context
from gongji.settlement.domain.bill import LineIn, SettleRequest
from gongji.settlement.reports.clearing import CSV_COLUMNS
from gongji.settlement.service import clearing, settlement
from gongji.sim import demo
from support.api import make_client
from support.xlsx import sheet_rows

XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(page: Any) -> str:
    found = _CSRF.search(page.text)
    assert found is not None
    return found.group(1)


def operator_client(ctx: Context, clock: ManualClock, tmp_path: Path, role: str) -> TestClient:
    totp = add_operator(ctx, f"op.{role}", role)
    client = make_client(ctx, clock, tmp_path)
    page = client.get("/admin/login")
    form = {
        "csrf_token": csrf_of(page),
        "name": f"op.{role}",
        "password": OPERATOR_PASSWORD,
        "totp": totp.at(clock.now()),
    }
    assert client.post("/admin/login", data=form, follow_redirects=False).status_code == 303
    return client


def test_a_clerk_clears_march_and_everyone_reads_the_same_figures(
    ctx: Context, clock: ManualClock, tmp_path: Path
) -> None:
    demo.seed(ctx)
    open_wallets(ctx, HEAD, MOTHER)
    link(ctx, HEAD, MOTHER, "parent")
    answer(ctx, MOTHER, offer(ctx, HEAD, MOTHER, 50_000), accept=True)
    purchase = SettleRequest(
        "P37010000001", "r-1", MOTHER.psn_no, "41",
        (LineIn("C14020100001000000014", Decimal(1), 12_000),),
    )  # fmt: skip
    committed(ctx, lambda uow: settlement.settle(ctx, uow, purchase))
    clock.set(datetime(2026, 4, 1, 9, 0, tzinfo=SHANGHAI))
    clerk = operator_client(ctx, clock, tmp_path, "clerk")

    bad = clerk.get("/admin/clearing", params={"month": "2026-13"})
    assert bad.status_code == 200 and 'id="q-month-error"' in bad.text
    page = clerk.get("/admin/clearing", params={"month": "2026-04"})
    refused = clerk.post(
        "/admin/clearing/run", data={"csrf_token": csrf_of(page), "month": "2026-04"}
    )
    assert refused.status_code == 400 and "2026-04 尚未结束" in refused.text
    assert clerk.post("/admin/clearing/run", data={"month": "2026-03"}).status_code == 403

    page = clerk.get("/admin/clearing")
    assert "2026-03 尚未清算" in page.text  # last month by default
    run = {"csrf_token": csrf_of(page), "month": "2026-03"}
    done = clerk.post("/admin/clearing/run", data=run)
    assert "清算完成" in done.text and 'id="clearing-total">72.00<' in done.text
    stored = committed(ctx, lambda uow: clearing.clearing_of(uow, "2026-03"))
    assert stored.clearing.digest in done.text
    assert clerk.post("/admin/clearing/run", data=run).status_code == 200  # unchanged
    again = committed(ctx, lambda uow: clearing.clearing_of(uow, "2026-03"))
    assert again.computed_at_us == stored.computed_at_us

    picture = clerk.get("/admin/clearing/2026-03.svg")
    assert picture.headers["content-type"].startswith("image/svg+xml")
    assert picture.text.startswith("<?xml") and "山东" in picture.text
    assert clerk.get("/admin/clearing/2026-02.svg").status_code == 404

    auditor = operator_client(ctx, clock, tmp_path / "auditor", "auditor")
    seen = auditor.get("/admin/clearing", params={"month": "2026-03"})
    assert stored.clearing.digest in seen.text
    empty = auditor.get("/admin/clearing", params={"month": "2026-02"})
    assert "/admin/clearing/run" not in empty.text
    forbidden = auditor.post(
        "/admin/clearing/run", data={"csrf_token": csrf_of(empty), "month": "2026-02"}
    )
    assert forbidden.status_code == 403

    assert 'href="/admin/clearing/2026-03.xlsx"' in seen.text
    as_csv = list(csv.DictReader(io.StringIO(auditor.get("/admin/clearing/2026-03.csv").text)))
    workbook = auditor.get("/admin/clearing/2026-03.xlsx")
    assert workbook.headers["content-type"].startswith(XLSX_MEDIA)
    assert "clearing-2026-03.xlsx" in workbook.headers["content-disposition"]
    title, header, *rows = sheet_rows(workbook.content)
    assert (
        title[:1] == ["职工医保个人账户共济跨地区清算表 2026-03"]
        and stored.clearing.digest in title
    )
    assert tuple(header) == CSV_COLUMNS
    assert [(r["level"], r["payer"], Decimal(r["amount"])) for r in as_csv] == [
        (row[0], row[1], Decimal(str(row[5]))) for row in rows
    ]
    city = sum(Decimal(str(row[5])) for row in rows if row[0] == "city")
    assert city == Decimal("72.00") == Decimal(stored.clearing.total_fen) / 100
    assert sum(Decimal(r["amount"]) for r in as_csv if r["level"] == "province_net") == 0
    assert auditor.get("/admin/clearing/2026-02.xlsx").status_code == 404
