"""The pages in a real browser: Debian's chromium driven by Playwright, on a real server with the
demo family and a test clock. Every page visited is checked at 360 × 740 (no horizontal
overflow, title, one h1, labels, alt text) and photographed into test-output/screenshots/.

Without /usr/bin/chromium (or Playwright) these tests skip on a laptop, visibly, and fail under
CI=true: nothing here downloads a browser.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from browser.checks import PHONE, check_page
from browser.site import (
    HEAD,
    MOTHER,
    OPERATOR_PASSWORD,
    SHANGHAI,
    SISTER,
    START,
    LiveSite,
    add_operator,
    answer,
    committed,
    link,
    live_site,
    offer,
    open_wallets,
    person,
)

from gongji.core.clock import ManualClock
from gongji.core.enrolment import EnrolmentStatus
from gongji.core.money import format_yuan
from gongji.institutions.service import institutions
from gongji.kernel import chart
from gongji.kernel.context import Context
from gongji.mutual_aid.pages.wallet_pages import voucher_qr
from gongji.mutual_aid.service import guardians, premiums
from gongji.mutual_aid.service.wallet_view import latest, wallet_view
from gongji.people.service.credentials_lookup import (
    Presented,
    identify_presented,
    issue_ec_token,
)
from gongji.people.store import people_repo
from gongji.settlement.domain.bill import LineIn, SettleRequest
from gongji.settlement.service import settlement
from gongji.settlement.store import settlements_repo
from support.xlsx import sheet_rows

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # reported by the fixture: skip locally, fail in CI
    sync_playwright = None

CHROMIUM = Path("/usr/bin/chromium")
PHARMACY = "P37010000001"  # 济南市示范大药房
MONITOR = "C14020100001000000014"  # 电子血压计: class B, 20 % first self-pay
IN_CI = os.environ.get("CI", "").lower() == "true"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
Phone = Callable[[], Any]


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason}: under CI=true the browser tests must run", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if sync_playwright is None:
        _unavailable("Playwright is not installed (pip install -e '.[dev]')")
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[LiveSite]:
    with live_site(tmp_path, ManualClock(START)) as running:
        yield running


@pytest.fixture
def phone(browser: Any, site: LiveSite) -> Iterator[Phone]:
    """A new phone-sized browser profile (its own cookies) each call."""
    contexts: list[Any] = []

    def new_phone() -> Any:
        context = browser.new_context(viewport=PHONE, locale="zh-CN", base_url=site.url)
        context.set_default_timeout(5_000)
        contexts.append(context)
        return context.new_page()

    yield new_phone
    for context in contexts:
        context.close()


def sign_in(page: Any, site: LiveSite, mobile: str, *, shoot: str = "") -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))
    if shoot:
        check_page(page, shoot)
    page.get_by_label("手机号").fill(mobile)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_text("开发环境：验证码已写入服务日志")).to_be_visible()
    page.get_by_label("验证码").fill(site.code_for(mobile))
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page).to_have_url(re.compile(r"/wallet$"))


def open_own_wallet(page: Any) -> None:
    page.goto("/wallet/settings")
    page.get_by_role("button", name="开通", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("医保钱包已开通")


PIN = "470193"


def set_payment_password(page: Any, pin: str = PIN) -> None:
    """支付密码 on the settings page, as a person sets it before giving for the first time."""
    page.goto("/wallet/settings")
    page.get_by_label("新的支付密码（6 位数字）").fill(pin)
    page.get_by_label("再输入一次").fill(pin)
    page.get_by_role("button", name="设置支付密码").click()
    expect(page.get_by_role("status")).to_have_text("支付密码已设置")


def ledger_fen(ctx: Context, account_id: str) -> int:
    """What a credit-normal ledger account holds now, read from the ledger itself."""
    found = committed(ctx, lambda uow: ctx.ledger.accounts_in(uow, [account_id]))
    return found[account_id].credit_available


def yuan(fen: int) -> str:
    """Fen as the pages write yuan: thousands grouped, two decimals."""
    whole, cents = format_yuan(fen).split(".")
    return f"{int(whole):,}.{cents}"


def test_a_family_links_up_and_shares_money_in_the_browser(site: LiveSite, phone: Phone) -> None:
    """The story: 张建国 signs in, opens his wallet, proposes his mother (and his sister); his
    mother signs in, opens hers, confirms; he gives her 500.00 and she accepts; a Jinan pharmacy
    settles a 120.00 purchase at its desk that draws on it; he sees the history and the chart.
    Every figure a page shows is compared with the ledger."""
    ctx = site.ctx
    son = phone()
    sign_in(son, site, HEAD.mobile, shoot="login")
    check_page(son, "wallet-home-unopened")
    open_own_wallet(son)
    check_page(son, "settings")
    set_payment_password(son)
    son.goto("/wallet/family")
    for relative, kind in ((MOTHER, "父母"), (SISTER, "兄弟姐妹")):
        son.get_by_label("亲属的身份证号").fill(relative.id_number)
        son.get_by_label("亲属的姓名").fill(relative.name)
        son.get_by_label("对方是我的").select_option(label=kind)
        son.get_by_role("button", name="发送申请").click()
        expect(son.get_by_role("status")).to_have_text("申请已发出，请等待对方确认")
    expect(son.locator(".relative")).to_have_count(2)
    assert "王桂兰" not in son.content() and MOTHER.id_number not in son.content()
    check_page(son, "family")

    mother = phone()
    sign_in(mother, site, MOTHER.mobile)
    open_own_wallet(mother)
    mother.goto("/wallet/family")
    expect(mother.get_by_text("张** · 我的子女")).to_be_visible()
    mother.get_by_role("button", name="确认", exact=True).click()
    expect(mother.locator(".state-active")).to_have_text("已生效")
    check_page(mother, "family-confirmed")

    son.goto("/wallet/give")
    check_page(son, "give")
    son.get_by_role("radio", name=re.compile("王\\*")).check()
    son.get_by_label("金额（元）").fill("500.00")
    son.get_by_role("button", name="下一步").click()
    expect(son.get_by_role("heading", level=1)).to_have_text("确认共济")
    check_page(son, "give-confirm")
    son.get_by_label("支付密码", exact=True).fill(PIN)
    son.get_by_role("button", name="确认共济").click()
    expect(son.get_by_role("status")).to_have_text("已发起共济，等待对方接收")

    mother.goto("/wallet")
    expect(mother.locator(".offer")).to_contain_text("张** 共济给您 500.00 元")
    check_page(mother, "wallet-home-offer")
    mother.get_by_role("button", name="接收", exact=True).click()
    expect(mother.get_by_role("status")).to_have_text("已接收共济额度")
    expect(mother.locator("#received-h + dl")).to_contain_text("500.00")
    (grant,) = committed(ctx, lambda uow: wallet_view(ctx, uow, MOTHER.psn_no)).received
    assert ledger_fen(ctx, chart.earmark(grant.grant.id)) == 50_000

    mother.goto("/wallet")
    mother.get_by_role("link", name="出示医保电子凭证（看病买药时）").click()
    expect(mother.locator("#ec-qr svg")).to_be_visible()
    check_page(mother, "wallet-voucher")
    token = (mother.locator("#ec-token").text_content() or "").strip()
    drawn = re.findall(r' d="([^"]+)"', mother.locator("#ec-qr").inner_html())
    assert drawn and drawn == re.findall(r' d="([^"]+)"', str(voucher_qr(token)))  # the token's
    settle_at_the_pharmacy(site, phone(), token)

    quota_fen = ledger_fen(ctx, chart.earmark(grant.grant.id))
    assert quota_fen == 50_000 - 7_200  # the grant paid acct_mulaid_pay, 72.00
    mother.goto("/wallet")
    expect(mother.locator("#received-h + dl")).to_contain_text(f"{yuan(quota_fen)} 元")
    check_page(mother, "wallet-home-after-purchase")

    own_fen = ledger_fen(ctx, chart.personal_current(HEAD.region, HEAD.psn_no)) + ledger_fen(
        ctx, chart.personal_earlier(HEAD.region, HEAD.psn_no)
    )
    assert own_fen == 750_000  # 8 000.00 − 500.00 moved into the grant's earmark
    son.goto("/wallet")
    expect(son.locator(".big.money")).to_contain_text(yuan(own_fen))
    earmarked = son.locator("#account-h ~ dl.figures dd").nth(2)  # shared, not yet used
    expect(earmarked).to_have_text(yuan(quota_fen))
    check_page(son, "wallet-home")
    son.goto("/wallet/history")
    expect(son.locator(".bar-given")).to_have_count(1)
    expect(son.locator(".figures-table tbody")).to_contain_text("500.00")
    expect(son.locator("ol.events")).to_contain_text("亲属使用了共济资金 · 72.00 元")
    check_page(son, "history")
    son.goto("/wallet/authorizations")
    check_page(son, "authorizations")
    son.get_by_role("link", name="English").click()
    expect(son.get_by_role("heading", level=1)).to_have_text("Family authorizations")
    son.goto("/wallet")
    expect(son.get_by_role("heading", level=1)).to_have_text("My health wallet")


def settle_at_the_pharmacy(site: LiveSite, desk: Any, e_voucher: str) -> None:
    """济南市示范大药房 signs in at its desk with its key, finds the mother by her ID card and by
    the e-voucher her phone shows, sells
    her a 120.00 blood-pressure monitor that her son's grant pays for, prints the receipt and
    looks at the day; the receipt's figures are the stored settlement's."""
    ctx = site.ctx
    issued = committed(ctx, lambda uow: institutions.issue_credentials(ctx, uow, PHARMACY))
    desk.goto("/desk")
    expect(desk).to_have_url(re.compile(r"/desk/login"))
    check_page(desk, "desk-login")
    desk.get_by_label("密钥编号").fill(issued.key_id)
    desk.get_by_label("密钥", exact=True).fill(issued.secret)
    desk.get_by_role("button", name="登录", exact=True).click()
    expect(desk).to_have_url(re.compile(r"/desk$"))
    check_page(desk, "desk-bill")

    desk.get_by_label("就诊凭证类型").select_option("02")
    desk.get_by_label("凭证号码").fill(MOTHER.id_number)
    desk.get_by_label("参保人姓名").fill("王秀英")  # not the name on her card
    desk.get_by_role("button", name="查找参保人").click()
    expect(desk.locator("#f-mdtrt_cert_no-error")).to_contain_text("未能凭所出示的就诊凭证识别")
    desk.get_by_label("凭证号码").fill(MOTHER.id_number)
    desk.get_by_label("参保人姓名").fill(MOTHER.name)
    desk.get_by_role("button", name="查找参保人").click()
    expect(desk.locator("#patient-name")).to_have_text("王**")
    assert MOTHER.id_number not in desk.content() and MOTHER.name not in desk.content()
    desk.get_by_label("就诊凭证类型").select_option("01")
    desk.get_by_label("凭证号码").fill(e_voucher)  # as a scanner types it
    desk.get_by_role("button", name="查找参保人").click()
    expect(desk.locator("#patient-name")).to_have_text("王**")
    desk.locator("#f-item_code_0").fill(MONITOR)
    desk.locator("#f-unit_price_0").fill("120.00")
    desk.get_by_role("button", name="预结算").click()
    expect(desk.locator("#amt-medfee_sumamt")).to_have_text("120.00")
    expect(desk.locator("#amt-acct_mulaid_pay")).to_have_text("72.00")
    check_page(desk, "desk-quote")
    desk.get_by_role("button", name="确认结算").click()
    expect(desk.get_by_role("status")).to_have_text("结算成功")
    check_page(desk, "desk-receipt")
    setl_id = desk.locator("#setl-id").inner_text()
    with ctx.engine.connect() as connection:
        stored = settlements_repo.settlement(connection, setl_id)
    assert stored is not None and stored.psn_no == MOTHER.psn_no
    for name, fen in stored.amounts().items():
        expect(desk.locator(f"#amt-{name}")).to_have_text(yuan(fen))
    desk.emulate_media(media="print")
    expect(desk.locator("header.top")).to_be_hidden()
    desk.emulate_media(media="screen")

    desk.goto("/desk/day")
    expect(desk.locator("#ours-fixmedins_setl_cnt")).to_have_text("1")
    expect(desk.locator("#ours-medfee_sumamt")).to_have_text(yuan(stored.medfee_sumamt))
    check_page(desk, "desk-day")
    desk.get_by_label("结算笔数").fill("1")
    desk.get_by_label("医疗费总额（元）").fill("120.00")
    desk.get_by_label("基金支付总额（元）").fill(format_yuan(stored.fund_pay_sumamt))
    desk.get_by_label("个人账户支出（元）").fill(format_yuan(stored.acct_pay))
    desk.get_by_role("button", name="对账").click()
    expect(desk.locator(".verdict .big-message")).to_contain_text("平：双方合计一致")
    check_page(desk, "desk-reconciled")
    desk.goto("/desk/catalogue?q=血压")
    expect(desk.locator("tbody tr")).to_have_count(1)
    check_page(desk, "desk-catalogue")
    desk.get_by_role("link", name="English").click()
    expect(desk.get_by_role("heading", level=1)).to_have_text("The catalogue")
    for path, heading, name in (
        ("/desk", "Settle a bill", "desk-bill-en"),
        (f"/desk/settlements/{setl_id}", "Settlement receipt", "desk-receipt-en"),
        ("/desk/day", "The day's settlements and reconciliation", "desk-day-en"),
    ):
        desk.goto(path)
        expect(desk.get_by_role("heading", level=1)).to_have_text(heading)
        check_page(desk, name)
    desk.get_by_role("link", name="中文").click()


def _try_amount(page: Any, amount: str) -> None:
    page.goto("/wallet/give")
    page.get_by_role("radio", name=re.compile("王\\*")).check()
    page.get_by_label("金额（元）").fill(amount)


def test_refusals_are_shown_in_the_page_before_and_after_submitting(
    site: LiveSite, phone: Phone
) -> None:
    """2 000.01, a grant at 22:30 and a fourth grant in a day: the page warns as the amount is
    typed, and the server's refusal appears beside the field (or the form) on submit."""
    ctx = site.ctx
    open_wallets(ctx, HEAD, MOTHER)
    link(ctx, HEAD, MOTHER, "parent")
    son = phone()
    sign_in(son, site, HEAD.mobile)

    _try_amount(son, "2 000.01")
    limit = "单笔共济金额不能超过 2000.00 元"
    expect(son.locator("#amount-check")).to_have_text(limit)
    son.get_by_role("button", name="下一步").click()
    expect(son.locator("#f-amount-error")).to_have_text(limit)
    expect(son.get_by_label("金额（元）")).to_have_value("2 000.01")
    check_page(son, "give-refused-amount")

    site.clock.set(datetime(2026, 3, 2, 22, 30, tzinfo=SHANGHAI))
    _try_amount(son, "100")
    quiet = "22:00 至次日 06:00 不能发起共济"
    expect(son.locator("#amount-check")).to_have_text(quiet)
    son.get_by_role("button", name="下一步").click()
    expect(son.locator(".form-error")).to_have_text(quiet)
    check_page(son, "give-refused-quiet-hours")

    site.clock.set(START)
    answer(ctx, MOTHER, offer(ctx, HEAD, MOTHER, 10_000), accept=True)
    answer(ctx, MOTHER, offer(ctx, HEAD, MOTHER, 10_000), accept=False)
    offer(ctx, HEAD, MOTHER, 10_000)
    _try_amount(son, "100")
    fourth = "今天已发起 3 笔共济，已达每日上限 3 笔"
    expect(son.locator("#amount-check")).to_have_text(fourth)
    son.get_by_role("button", name="下一步").click()
    expect(son.locator(".form-error")).to_have_text(fourth)
    check_page(son, "give-refused-fourth")


def test_an_operator_works_the_back_office(site: LiveSite, phone: Phone) -> None:
    ctx = site.ctx
    totp = add_operator(ctx, "wang.admin", "admin")
    open_wallets(ctx, HEAD, SISTER, MOTHER)
    link(ctx, HEAD, SISTER, "sibling")  # the registry does not know her: a review
    link(ctx, HEAD, MOTHER, "parent")
    answer(ctx, MOTHER, offer(ctx, HEAD, MOTHER, 50_000), accept=True)
    purchase = SettleRequest(
        PHARMACY, "t-1", MOTHER.psn_no, "41", (LineIn(MONITOR, Decimal(1), 12_000),)
    )
    spent = committed(ctx, lambda uow: settlement.settle(ctx, uow, purchase)).acct_mulaid_pay
    site.clock.set(datetime(2026, 4, 1, 9, 0, tzinfo=SHANGHAI))  # March has ended
    page = phone()
    page.goto("/admin")
    expect(page).to_have_url(re.compile(r"/admin/login"))
    check_page(page, "admin-login")
    page.get_by_label("用户名").fill("wang.admin")
    page.get_by_label("密码").fill(OPERATOR_PASSWORD)
    page.get_by_label("动态口令").fill(totp.at(site.clock.now()))
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.locator(".verdict")).to_contain_text("账本平衡")
    check_page(page, "admin-home")

    page.goto("/admin/imports")
    page.get_by_label("数据类型").select_option("kinship")
    bad = "id_number,relative_id_number,kind\n620102196805121317,12345,父母\n"
    page.get_by_label("CSV 文件").set_input_files(
        files=[{"name": "registry.csv", "mimeType": "text/csv", "buffer": bad.encode()}]
    )
    page.get_by_role("button", name="上传并导入").click()
    # The import runs as a background job, its page refreshing each second until it is done:
    # on a machine busy with other tests that can take longer than an assertion's 5 s.
    expect(page.locator(".line-errors tbody tr")).to_have_count(1, timeout=30_000)
    check_page(page, "admin-import-errors")

    page.goto("/admin/reviews")
    check_page(page, "admin-reviews")
    page.get_by_label("审核意见").fill("户口簿已核")
    page.get_by_role("button", name="核验通过").click()
    expect(page.get_by_role("status")).to_have_text("审核结果已保存")

    page.goto(f"/admin/wallets?psn_no={HEAD.psn_no}")
    page.get_by_label("原因").fill("疑似冒用，待核查")
    page.get_by_role("button", name="冻结", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("钱包已冻结")
    check_page(page, "admin-wallets")

    page.get_by_label("原因").fill("核查完毕，本人使用")
    page.get_by_role("button", name="解除冻结", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("钱包已解除冻结")

    page.goto("/admin/lifecycle")
    check_page(page, "admin-lifecycle")
    page.locator("summary").filter(has_text="暂停").click()  # open the event's details
    page.locator("#suspend-psn_no").fill(SISTER.psn_no)
    page.locator("#suspend-reason").fill("断缴待核")
    page.get_by_role("button", name="暂停", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("已办理")
    with ctx.engine.connect() as connection:
        enrolment = people_repo.current_enrolment(connection, SISTER.psn_no)
    assert enrolment is not None and enrolment.status == EnrolmentStatus.SUSPENDED

    page.goto("/admin/policy?region=620100&at=2026-03-02")
    largest = page.locator("ul.policy-list li").filter(has_text="单笔共济金额上限")
    expect(largest).to_contain_text("2000.00 元")
    check_page(page, "admin-policy")

    page.goto("/admin/clearing")
    expect(page.get_by_role("heading", level=2)).to_contain_text("2026-03 尚未清算")
    check_page(page, "admin-clearing-open")
    page.get_by_role("button", name="清算 2026-03").click()
    expect(page.get_by_role("status")).to_have_text("清算完成，结果已保存")
    expect(page.locator("#clearing-total")).to_have_text(yuan(spent))  # Lanzhou owes Jinan
    net = page.locator(".figures-table .net")
    expect(net).to_have_text([yuan(spent), f"-{yuan(spent)}"])  # 山东 receives, 甘肃 pays
    picture = page.locator(".clearing-chart img")
    expect(picture).to_have_attribute("src", "/admin/clearing/2026-03.svg")
    # The chart is an image the page loads after its own HTML: wait for it, then it must have drawn
    page.wait_for_function(
        "() => document.querySelector('.clearing-chart img').complete", timeout=30_000
    )
    assert page.evaluate("() => document.querySelector('.clearing-chart img').naturalWidth") > 0
    check_page(page, "admin-clearing")
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 Excel").click()
    assert download.value.suggested_filename == "clearing-2026-03.xlsx"
    statement = sheet_rows(Path(download.value.path()).read_bytes())
    nets = [row[5] for row in statement[2:] if row[0] == "province_net"]
    assert sorted(nets) == [-spent / 100, spent / 100]  # the page's nets, as numbers
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Monthly clearing")


def test_a_mother_is_told_of_an_offer_reads_it_and_accepts(site: LiveSite, phone: Phone) -> None:
    """Phone viewport: her son proposes and offers while she is away; her pages show the unread
    badge on 消息; the inbox says who offers how much and until when; reading clears the badge;
    she turns 就医时使用家庭共济 off, then accepts from the home page choosing it again."""
    ctx = site.ctx
    open_wallets(ctx, HEAD, MOTHER)
    link(ctx, HEAD, MOTHER, "parent")
    offer(ctx, HEAD, MOTHER, 30_000)
    mother = phone()
    sign_in(mother, site, MOTHER.mobile)
    badge = mother.locator(".messages-tab .badge")
    expect(badge).to_have_text("2")  # the proposal and the offer
    check_page(mother, "wallet-home-badge")
    mother.get_by_role("link", name=re.compile("^消息")).click()
    expect(mother.get_by_role("heading", level=1)).to_have_text("消息")
    expect(mother.locator("li.message.unread")).to_have_count(2)
    expect(mother.locator("ul.messages")).to_contain_text(
        "张**向您共济 300.00 元，请在 03月03日 06:00 前登录医保钱包接收"
    )
    check_page(mother, "messages")
    mother.goto("/wallet")
    expect(badge).to_have_count(0)
    expect(mother.locator("#choice-state")).to_contain_text("已开启")  # the demo seed chose it
    mother.get_by_role("button", name="关闭", exact=True).click()
    expect(mother.get_by_role("status")).to_have_text("就医时不再使用家庭共济")
    expect(mother.locator("#choice-state")).to_contain_text("未开启")
    mother.get_by_label(re.compile("同时开启“就医时使用家庭共济”")).check()
    check_page(mother, "wallet-home-accept-choosing")
    mother.get_by_role("button", name="接收", exact=True).click()
    expect(mother.get_by_role("status")).to_have_text("已接收共济额度；就医时将使用家庭共济")
    expect(mother.locator("#choice-state")).to_contain_text("已开启")

    bought = SettleRequest(PHARMACY, "records-1", MOTHER.psn_no, "41",
                           (LineIn(MONITOR, Decimal(1), 12_000),))  # fmt: skip
    row = committed(ctx, lambda uow: settlement.settle(ctx, uow, bought))
    mother.get_by_role("link", name="记录", exact=True).click()
    record = mother.locator("section.record").first
    expect(record.get_by_role("heading")).to_have_text("济南市示范大药房")
    expect(record.locator(".amt-medfee")).to_have_text("120.00")
    expect(record.locator(".amt-family")).to_have_text(yuan(row.acct_mulaid_pay))
    expect(record.locator(".amt-cash")).to_have_text(yuan(row.psn_cash_pay))
    expect(record.locator(".items")).to_contain_text("电子血压计")
    check_page(mother, "records")
    son = phone()
    sign_in(son, site, HEAD.mobile)
    son.get_by_role("link", name="记录", exact=True).click()
    expect(son.locator("section.record .amt-mine")).to_contain_text(yuan(row.acct_mulaid_pay))
    expect(son.locator(".messages-tab .badge")).to_have_text("2")  # she confirmed; she spent


def test_a_cashier_scans_chooses_settles_and_prints_at_a_desktop(
    browser: Any, site: LiveSite
) -> None:
    """Desktop viewport: the pharmacy's cashier scans the mother's e-voucher (the scanner types
    the token and Enter), enters the item by its code, lets her decline family money
    for this bill, sees the pre-settlement at the top of the page, settles and prints."""
    ctx = site.ctx
    open_wallets(ctx, HEAD, MOTHER)
    link(ctx, HEAD, MOTHER, "parent")
    answer(ctx, MOTHER, offer(ctx, HEAD, MOTHER, 50_000), accept=True)
    token = issue_ec_token(ctx, MOTHER.psn_no)
    issued = committed(ctx, lambda uow: institutions.issue_credentials(ctx, uow, PHARMACY))
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN",
                                  base_url=site.url)  # fmt: skip
    context.set_default_timeout(5_000)
    desk = context.new_page()
    try:
        desk.goto("/desk/login")
        expect(desk.get_by_text("结算台密钥")).to_be_visible()
        desk.get_by_label("密钥编号").fill(issued.key_id)
        desk.get_by_label("密钥", exact=True).fill(issued.secret)
        desk.get_by_role("button", name="登录", exact=True).click()
        desk.get_by_label("就诊凭证类型").select_option("01")
        desk.get_by_label("凭证号码").fill(token)
        desk.get_by_label("凭证号码").press("Enter")  # as a scanner ends its input
        expect(desk.locator("#patient-name")).to_have_text("王**")
        expect(desk.locator("dl.patient")).to_contain_text("济南市")
        desk.locator("#f-item_code_0").fill(MONITOR)
        desk.locator("#f-unit_price_0").fill("120.00")
        desk.get_by_label("家庭共济", exact=True).select_option("0")
        desk.get_by_role("button", name="预结算").click()
        expect(desk.locator("#amt-acct_mulaid_pay")).to_have_text("0.00")
        quote_top = desk.locator("#quote-h").bounding_box()
        form_top = desk.get_by_role("button", name="预结算").bounding_box()
        assert quote_top is not None and form_top is not None
        assert quote_top["y"] < form_top["y"] and quote_top["y"] < 800  # seen without scrolling
        desk.get_by_role("button", name="确认结算").click()
        expect(desk.get_by_role("status")).to_have_text("结算成功")
        expect(desk.locator("#amt-acct_mulaid_pay")).to_have_text("0.00")
        desk.emulate_media(media="print")
        expect(desk.locator("header.top")).to_be_hidden()
        desk.screenshot(path="test-output/screenshots/desk-receipt-desktop.png")
    finally:
        context.close()
    left = committed(ctx, lambda uow: wallet_view(ctx, uow, MOTHER.psn_no)).received_total_fen
    assert left == 50_000  # she declined family money: the grant is untouched


def test_the_payment_password_is_asked_before_money_leaves(site: LiveSite, phone: Phone) -> None:
    """A weak password is refused; the confirmation page asks to set one first, then refuses a
    wrong one beside its field and keeps the page; the right one makes the offer."""
    ctx = site.ctx
    open_wallets(ctx, HEAD, MOTHER)
    link(ctx, HEAD, MOTHER, "parent")
    son = phone()
    sign_in(son, site, HEAD.mobile)
    _try_amount(son, "100")
    son.get_by_role("button", name="下一步").click()
    expect(son.get_by_role("alert")).to_contain_text("请先设置 6 位支付密码再共济")
    expect(son.get_by_role("button", name="确认共济")).to_be_disabled()
    check_page(son, "give-confirm-no-password")

    son.goto("/wallet/settings")
    son.get_by_label("新的支付密码（6 位数字）").fill("123456")
    son.get_by_label("再输入一次").fill("123456")
    son.get_by_role("button", name="设置支付密码").click()
    expect(son.locator("#f-new_payment_password-error")).to_contain_text("连续的数字")
    expect(son.get_by_label("新的支付密码（6 位数字）")).to_have_value("")
    check_page(son, "settings-password-weak")
    set_payment_password(son)
    expect(son.locator("#pin-state")).to_contain_text("已设置")

    _try_amount(son, "100")
    son.get_by_role("button", name="下一步").click()
    son.get_by_label("支付密码", exact=True).fill("470194")
    son.get_by_role("button", name="确认共济").click()
    expect(son.locator("#f-payment_password-error")).to_have_text("支付密码不正确，还可尝试 4 次")
    expect(son.get_by_role("heading", level=1)).to_have_text("确认共济")
    check_page(son, "give-confirm-wrong-password")
    son.get_by_label("支付密码", exact=True).fill(PIN)
    son.get_by_role("button", name="确认共济").click()
    expect(son.get_by_role("status")).to_have_text("已发起共济，等待对方接收")
    assert committed(ctx, lambda uow: wallet_view(ctx, uow, MOTHER.psn_no)).offers_to_me


def test_a_mother_lets_her_son_show_her_voucher_from_his_phone(
    site: LiveSite, phone: Phone
) -> None:
    """亲情账户 at a phone's size: the mother allows it on her page; the son shows her QR code,
    which a desk reads as hers, and sees her wallet read-only; she revokes it and his next
    request is refused."""
    ctx = site.ctx
    open_wallets(ctx, HEAD, MOTHER)
    link(ctx, HEAD, MOTHER, "parent")
    mother, son = phone(), phone()
    sign_in(mother, site, MOTHER.mobile)
    mother.get_by_role("link", name=re.compile("亲情账户")).click()
    expect(mother.get_by_role("heading", level=1)).to_have_text("亲情账户")
    expect(mother.locator(".relative")).to_contain_text("张** · 我的子女")
    mother.get_by_role("button", name="允许代我出示").click()
    expect(mother.get_by_role("status")).to_have_text("已授权亲属代为出示")
    expect(mother.locator(".relative .state-active")).to_contain_text("已允许代为出示")
    check_page(mother, "guardian-granted")

    sign_in(son, site, HEAD.mobile)
    expect(son.locator(".messages-tab .badge")).to_be_visible()
    son.goto("/wallet/guardian")
    expect(son.locator("li.held")).to_contain_text("王**")
    check_page(son, "guardian-held")
    son.get_by_role("link", name="代出示电子凭证").click()
    expect(son.locator("#on-behalf")).to_contain_text("代 王** 出示")
    expect(son.locator("#ec-qr svg")).to_be_visible()
    check_page(son, "guardian-voucher")
    token = (son.locator("#ec-token").text_content() or "").strip()
    drawn = re.findall(r' d="([^"]+)"', son.locator("#ec-qr").inner_html())
    assert drawn and drawn == re.findall(r' d="([^"]+)"', str(voucher_qr(token)))
    presented = Presented("01", token)
    found = committed(ctx, lambda uow: identify_presented(ctx, uow, presented))
    assert found.psn_no == MOTHER.psn_no
    son.get_by_role("link", name="刷新凭证码").click()
    expect(son.locator("#on-behalf")).to_be_visible()

    son.goto(f"/wallet/guardian/for/{MOTHER.psn_no}")
    expect(son.locator(".notice")).to_contain_text("王**")
    expect(son.locator("ol.events")).to_contain_text("亲属代为出示电子凭证")
    assert "<form" not in son.locator("main").inner_html()  # read-only: nothing to submit
    check_page(son, "guardian-wallet")

    mother.goto("/wallet/guardian")
    mother.get_by_role("button", name="撤销").click()
    expect(mother.get_by_role("status")).to_have_text("已撤销代为出示授权")
    refused = son.goto(f"/wallet/guardian/for/{MOTHER.psn_no}/voucher")
    assert refused is not None and refused.status == 403
    expect(son.locator("main")).to_contain_text("对方未授权您代为出示或查看")
    son.goto("/wallet/guardian")
    expect(son.locator("li.held")).to_have_count(0)


def test_her_guardian_reads_her_records_with_the_family_money_part(
    site: LiveSite, phone: Phone
) -> None:
    """亲情账户 at a phone's size: with the mother's consent the son opens her records from her
    read-only wallet — the purchase, its items and what family money paid, as she sees them —
    and the reading is in her history; once she revokes it, the same address is refused."""
    ctx = site.ctx
    open_wallets(ctx, HEAD, MOTHER)
    relationship_id = link(ctx, HEAD, MOTHER, "parent")
    answer(ctx, MOTHER, offer(ctx, HEAD, MOTHER, 50_000), accept=True)
    bought = SettleRequest(PHARMACY, "guardian-records-1", MOTHER.psn_no, "41",
                           (LineIn(MONITOR, Decimal(1), 12_000),))  # fmt: skip
    row = committed(ctx, lambda uow: settlement.settle(ctx, uow, bought))
    assert row.acct_mulaid_pay > 0
    consent = committed(ctx, lambda uow: guardians.grant(ctx, uow, person(MOTHER), relationship_id))

    son = phone()
    sign_in(son, site, HEAD.mobile)
    son.goto(f"/wallet/guardian/for/{MOTHER.psn_no}")
    son.get_by_role("link", name="查看TA的看病买药记录").click()
    expect(son.get_by_role("heading", level=1)).to_have_text("亲属的看病买药记录")
    expect(son.locator("#on-behalf")).to_contain_text("王**")
    record = son.locator("section.record").first
    expect(record.get_by_role("heading")).to_have_text("济南市示范大药房")
    expect(record.locator(".amt-medfee")).to_have_text("120.00")
    expect(record.locator(".amt-family")).to_have_text(yuan(row.acct_mulaid_pay))
    expect(record.locator(".amt-cash")).to_have_text(yuan(row.psn_cash_pay))
    expect(record.locator(".items")).to_contain_text("电子血压计")
    check_page(son, "guardian-records")
    month = son.locator(".month-total").first.get_attribute("id") or ""
    son.locator("h3 a").first.click()  # the month filter stays on her records
    expect(son).to_have_url(re.compile(rf"/wallet/guardian/for/{MOTHER.psn_no}/records\?month="))
    expect(son.locator(f"#{month}")).to_be_visible()
    (newest,) = committed(ctx, lambda uow: latest(uow, MOTHER.psn_no, 1))
    assert (newest.kind, newest.actor) == ("guardian_records_viewed", f"person:{HEAD.psn_no}")

    committed(ctx, lambda uow: guardians.revoke(ctx, uow, person(MOTHER), consent.id))
    refused = son.goto(f"/wallet/guardian/for/{MOTHER.psn_no}/records")
    assert refused is not None and refused.status == 403
    expect(son.locator("main")).to_contain_text("对方未授权您代为出示或查看")
    expect(son.locator("section.record")).to_have_count(0)


def test_a_son_pays_his_mothers_premium_from_a_page_with_the_password(
    site: LiveSite, phone: Phone
) -> None:
    """代缴保费 at a phone's size, from 我的亲属: a payment that would be refused is refused before
    the password is asked; a wrong password is refused beside its field and writes nothing; the
    right one pays once and shows the receipt; paying the same year again is refused."""
    ctx = site.ctx
    open_wallets(ctx, HEAD, MOTHER)
    link(ctx, HEAD, MOTHER, "parent")
    son = phone()
    sign_in(son, site, HEAD.mobile)
    set_payment_password(son)
    available = committed(ctx, lambda uow: wallet_view(ctx, uow, HEAD.psn_no)).account
    assert available is not None

    def fill(source: str, pin: str) -> None:
        son.get_by_label("为谁缴费").select_option(MOTHER.psn_no)
        son.get_by_label("缴费年度").select_option("2026")
        son.get_by_label("险种").select_option("resident")
        son.get_by_label("支付方式").select_option(source)
        son.get_by_label("支付密码", exact=True).fill(pin)
        son.get_by_role("button", name="确认缴费").click()

    son.goto("/wallet/family")
    son.get_by_role("link", name=re.compile("为亲属代缴保费")).click()
    expect(son.get_by_role("heading", level=1)).to_have_text("为亲属代缴保费")
    check_page(son, "premiums")
    fill("grants", "470194")  # he received no quotas: refused before the password is checked
    expect(son.locator("#f-source-error")).to_contain_text("亲属共济给您的额度不足")
    expect(son.locator("#f-payment_password-error")).to_have_count(0)
    fill("own_account", "470194")
    expect(son.locator("#f-payment_password-error")).to_have_text("支付密码不正确，还可尝试 4 次")
    expect(son.get_by_label("支付密码", exact=True)).to_have_value("")
    check_page(son, "premiums-wrong-password")
    assert committed(ctx, lambda uow: premiums.premiums_of(uow, MOTHER.psn_no)) == []
    after = committed(ctx, lambda uow: wallet_view(ctx, uow, HEAD.psn_no)).account
    assert after is not None and after.available_fen == available.available_fen

    fill("own_account", PIN)
    expect(son.get_by_role("status")).to_have_text("缴费成功")
    expect(son.get_by_role("heading", level=1)).to_have_text("缴费凭证")
    expect(son.locator("#receipt-insured")).to_have_text("王**")
    [paid] = committed(ctx, lambda uow: premiums.premiums_of(uow, MOTHER.psn_no))
    expect(son.locator("#receipt-amount")).to_contain_text(yuan(paid.amount_fen))
    assert (paid.payer, paid.source, paid.year) == (HEAD.psn_no, "own_account", 2026)
    check_page(son, "premium-receipt")

    son.goto("/wallet/premiums")
    expect(son.locator("ul.premiums")).to_contain_text("王**")
    fill("own_account", PIN)
    expect(son.locator("#f-psn_no-error")).to_contain_text("2026 年的城乡居民医保费已缴纳")
    assert len(committed(ctx, lambda uow: premiums.premiums_of(uow, MOTHER.psn_no))) == 1
