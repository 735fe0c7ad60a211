"""The back office in a real browser (Debian's chromium, as in test_web_browser): a clerk finds
the mother by her ID number, sees her family, the grant she received and the purchase it paid
for, shows her data in full with a reason; a deceased spouse's balance and its payout; the
statistics page with its chart and an export; a read-only analyst refused the unmasked view.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from browser.checks import check_page
from browser.site import (
    HEAD,
    MOTHER,
    OPERATOR_PASSWORD,
    SPOUSE,
    LiveSite,
    add_operator,
    answer,
    committed,
    link,
    offer,
    open_wallets,
)
from test_web_browser import MONITOR, PHARMACY, browser, phone, site, yuan

from gongji.backoffice.service import statistics
from gongji.kernel.context import Actor, ActorKind, Role
from gongji.mutual_aid.service import lifecycle
from gongji.settlement.domain.bill import LineIn, SettleRequest
from gongji.settlement.service import settlement

try:
    from playwright.sync_api import expect
except ImportError:  # the fixtures skip (or fail under CI) before any test body runs
    expect = None

__all__ = ["browser", "phone", "site"]  # the fixtures, shared with test_web_browser
CLERK = Actor(ActorKind.OPERATOR, "setup", frozenset({Role.CLERK}))


def operator_signs_in(page: Any, site: LiveSite, name: str, role: str) -> None:
    totp = add_operator(site.ctx, name, role)
    page.goto("/admin")
    expect(page).to_have_url(re.compile(r"/admin/login"))
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(OPERATOR_PASSWORD)
    page.get_by_label("动态口令").fill(totp.at(site.clock.now()))
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.locator("#ledger-health")).to_contain_text("账本平衡")


def family_story(site: LiveSite) -> int:
    """The head gives his mother 500.00; she buys a blood-pressure monitor with it. Returns
    the fen her grant paid."""
    ctx = site.ctx
    open_wallets(ctx, HEAD, MOTHER)
    link(ctx, HEAD, MOTHER, "parent")
    answer(ctx, MOTHER, offer(ctx, HEAD, MOTHER, 50_000), accept=True)
    purchase = SettleRequest(
        PHARMACY, "b-1", MOTHER.psn_no, "41", (LineIn(MONITOR, Decimal(1), 12_000),)
    )
    paid = committed(ctx, lambda uow: settlement.settle(ctx, uow, purchase)).acct_mulaid_pay
    statistics.refresh(ctx)
    return paid


def test_a_clerk_finds_the_mother_and_follows_her_grant(site: LiveSite, phone: Any) -> None:
    paid = family_story(site)
    page = phone()
    operator_signs_in(page, site, "li.clerk", "clerk")
    check_page(page, "admin-home-figures")
    expect(page.locator("#month-figures")).to_contain_text("500.00")
    page.goto("/admin/find")
    page.get_by_label("身份证号").fill(MOTHER.id_number)
    page.get_by_role("button", name="查询", exact=True).click()
    check_page(page, "admin-find")
    page.get_by_role("link", name=re.compile(MOTHER.psn_no)).click()
    expect(page.locator("#family")).to_contain_text(HEAD.psn_no)
    received = page.locator("section", has=page.get_by_role("heading", name="收到的共济"))
    expect(received).to_contain_text("500.00")
    check_page(page, "admin-person")
    received.get_by_role("link", name=re.compile(yuan(paid))).click()
    expect(page).to_have_url(re.compile(r"#setl-"))
    bought = page.locator(".settlement").first
    expect(bought).to_contain_text("亲属共济额度")
    expect(bought).to_contain_text(yuan(paid))
    expect(page.locator("#who-id")).not_to_have_text(MOTHER.id_number)
    page.get_by_label("查看完整信息的事由").fill("本人来电核实身份")
    page.get_by_role("button", name="查看完整信息").click()
    expect(page.locator("#who-id")).to_have_text(MOTHER.id_number)
    expect(page.get_by_role("status")).to_contain_text("已记入审计日志")


def test_a_deceased_spouses_balance_and_its_payout(site: LiveSite, phone: Any) -> None:
    ctx = site.ctx
    committed(
        ctx,
        lambda uow: lifecycle.record_death(ctx, uow, CLERK, SPOUSE.psn_no, date(2026, 3, 1), "D-9"),
    )
    page = phone()
    operator_signs_in(page, site, "li.clerk", "clerk")
    page.goto(f"/admin/persons/{SPOUSE.psn_no}")
    expect(page.locator("#awaiting-heirs")).to_be_visible()
    expect(page.locator("#acct-current")).to_have_text(yuan(SPOUSE.current_fen))
    expect(page.locator("#acct-earlier")).to_have_text(yuan(SPOUSE.earlier_fen))
    check_page(page, "admin-person-deceased")
    balance = SPOUSE.current_fen + SPOUSE.earlier_fen
    heirs = [lifecycle.Heir("张伟", "620102********3571", balance)]
    committed(
        ctx,
        lambda uow: lifecycle.pay_inheritance(ctx, uow, CLERK, SPOUSE.psn_no, "D-9", heirs),
    )
    page.reload()
    expect(page.locator("#awaiting-heirs")).to_have_count(0)
    expect(page.locator("#inheritance")).to_contain_text(
        yuan(SPOUSE.current_fen + SPOUSE.earlier_fen)
    )
    expect(page.locator("#acct-current")).to_have_text("0.00")


def test_statistics_with_a_chart_and_an_export(site: LiveSite, phone: Any) -> None:
    family_story(site)
    page = phone()
    operator_signs_in(page, site, "zhao.analyst", "analyst")
    page.goto("/admin/stats")
    expect(page.locator("#stats-shared")).to_have_text("500.00")
    chart = page.get_by_role("img", name=re.compile("每日共济金额"))
    expect(chart).to_be_visible()
    assert page.evaluate("() => document.querySelector('img.chart').naturalWidth") > 0
    check_page(page, "admin-stats")
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("section,key,name,count,amount")
    assert "grants_accepted,共济金额（已接收）,1,500.00" in text


def test_a_read_only_analyst_is_refused_the_unmasked_view(site: LiveSite, phone: Any) -> None:
    page = phone()
    operator_signs_in(page, site, "zhao.analyst", "analyst")
    tabs = page.get_by_role("navigation", name="经办功能")
    expect(tabs.get_by_role("link", name="统计")).to_be_visible()
    for offered_to_others in ("数据导入", "钱包冻结", "审计日志"):
        expect(tabs.get_by_role("link", name=offered_to_others)).to_have_count(0)
    page.goto(f"/admin/persons/{MOTHER.psn_no}")
    expect(page.locator("#no-unmask")).to_be_visible()
    expect(page.get_by_role("button", name="查看完整信息")).to_have_count(0)
    expect(page.locator("#who-id")).not_to_have_text(MOTHER.id_number)
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value") or ""
    refused = page.request.post(
        f"/admin/persons/{MOTHER.psn_no}/unmask",
        form={"csrf_token": csrf, "reason": "想看看"},
    )
    assert refused.status == 403
    assert MOTHER.id_number not in refused.text()
