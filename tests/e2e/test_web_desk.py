"""The institution desk (结算台) over HTTP, on SQLite and PostgreSQL: signing in with the
institution's key, CSRF and cookies, finding a patient by credential, pre-settling, settling
(idempotent), the receipt, reversal, the day's list and the reconciliation verdict; every
figure compared with what the services stored.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from browser.site import HEAD, MOTHER, answer, link, offer, open_wallets
from fastapi.testclient import TestClient

from gongji.core.clock import ManualClock
from gongji.core.money import format_yuan
from gongji.identity.service import desk_sessions
from gongji.institutions.service import institutions
from gongji.kernel.context import Context
from gongji.mutual_aid.service.wallet_view import wallet_view
from gongji.people.service.credentials_lookup import issue_ec_token
from gongji.settlement.store import settlements_repo
from gongji.sim import demo
from support.api import make_client
from support.credentials import card_of
from support.world import run

PHARMACY, HOSPITAL = "P37010000001", "H62010000001"
MONITOR = "C14020100001000000014"  # 电子血压计, class B with 20 % first self-pay, ceiling 198.00
NOT_IDENTIFIED = "未能凭所出示的就诊凭证识别参保人，请核对凭证和姓名"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_REQUEST_ID = re.compile(r'name="request_id" value="([^"]+)"')


def csrf_of(page: Any) -> str:
    found = _CSRF.search(page.text)
    assert found is not None, page.text[:500]
    return found.group(1)


def amount(page: Any, name: str) -> str:
    found = re.search(rf'id="amt-{name}">([^<]*)<', page.text)
    assert found is not None, f"{name} not on the page"
    return found.group(1)


def yuan(fen: int) -> str:
    whole, cents = format_yuan(fen).split(".")
    return f"{int(whole):,}.{cents}"


@pytest.fixture
def family(ctx: Context) -> Context:
    """The demo world: the mother holds an accepted 500.00 grant from her son."""
    demo.seed(ctx)
    open_wallets(ctx, HEAD, MOTHER)
    link(ctx, HEAD, MOTHER, "parent")
    answer(ctx, MOTHER, offer(ctx, HEAD, MOTHER, 50_000), accept=True)
    return ctx


def key_of(ctx: Context, code: str) -> institutions.IssuedCredentials:
    return run(ctx, lambda uow: institutions.issue_credentials(ctx, uow, code))


def signed_in(client: TestClient, issued: institutions.IssuedCredentials) -> Any:
    """Sign the client in at the desk; the desk's first page (it holds the session's CSRF)."""
    page = client.get("/desk/login")
    form = {"csrf_token": csrf_of(page), "key_id": issued.key_id, "secret": issued.secret}
    answer_ = client.post("/desk/login", data=form, follow_redirects=False)
    assert answer_.status_code == 303, answer_.text[:300]
    return client.get("/desk")


def bill(csrf: str, **extra: str) -> dict[str, str]:
    return {
        "csrf_token": csrf,
        "page": "/desk",
        **card_of(MOTHER.id_number, MOTHER.name),
        "med_type": "41",
        "item_code_0": MONITOR,
        "quantity_0": "1",
        "unit_price_0": "120.00",
        "acct_used_flag": "1",
        **extra,
    }


def test_signing_in_needs_the_institution_key_and_sets_a_strict_cookie(
    family: Context, clock: ManualClock, tmp_path: Path
) -> None:
    client = make_client(family, clock, tmp_path)
    issued = key_of(family, PHARMACY)
    assert client.get("/desk", follow_redirects=False).headers["location"] == (
        "/desk/login?next=%2Fdesk"
    )
    page = client.get("/desk/login")
    wrong = {"csrf_token": csrf_of(page), "key_id": issued.key_id, "secret": "not-the-secret"}
    refused = client.post("/desk/login", data=wrong)
    assert refused.status_code == 401
    assert "密钥编号或密钥不正确" in refused.text
    no_csrf = client.post("/desk/login", data={"key_id": issued.key_id, "secret": issued.secret})
    assert no_csrf.status_code == 403

    form = {"csrf_token": csrf_of(page), "key_id": issued.key_id, "secret": issued.secret}
    done = client.post("/desk/login", data=form, follow_redirects=False)
    cookie = done.headers["set-cookie"]
    assert cookie.startswith("gongji_desk=") and "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower() and "Path=/desk" in cookie
    home = client.get("/desk")
    assert home.status_code == 200 and "济南市示范大药房" in home.text

    run(family, lambda uow: institutions.revoke_credentials(family, uow, issued.key_id))
    assert client.get("/desk", follow_redirects=False).status_code == 303  # the key ended it


def test_find_quote_settle_print_reverse_and_reconcile(
    family: Context, clock: ManualClock, tmp_path: Path
) -> None:
    client = make_client(family, clock, tmp_path)
    csrf = csrf_of(signed_in(client, key_of(family, PHARMACY)))

    found = client.post(
        "/desk/find", data={"csrf_token": csrf, **card_of(MOTHER.id_number, MOTHER.name)}
    )
    assert found.status_code == 200
    assert "王*" in found.text and MOTHER.id_number not in found.text
    assert MOTHER.name not in found.text
    assert MOTHER.id_masked in found.text

    unknown = client.post("/desk/quote", data=bill(csrf, item_code_0="NOPE"))
    assert unknown.status_code == 400
    assert 'id="f-item_code_0-error"' in unknown.text and "NOPE" in unknown.text
    assert client.post("/desk/quote", data=bill("forged")).status_code == 403

    quoted = client.post("/desk/quote", data=bill(csrf))
    assert quoted.status_code == 200, quoted.text[:500]
    expected = {
        "medfee_sumamt": "120.00",
        "preselfpay_amt": "24.00",
        "inscp_scp_amt": "96.00",
        "hifp_pay": "48.00",
        "acct_mulaid_pay": "72.00",
        "psn_cash_pay": "0.00",
    }
    assert {name: amount(quoted, name) for name in expected} == expected
    request_id_match = _REQUEST_ID.search(quoted.text)
    assert request_id_match is not None
    request_id = request_id_match.group(1)
    with family.engine.connect() as connection:
        assert settlements_repo.by_request(connection, PHARMACY, request_id) is None

    settled = client.post("/desk/settle", data=bill(csrf, request_id=request_id))
    again = client.post("/desk/settle", data=bill(csrf, request_id=request_id))
    assert settled.url.path == again.url.path  # the same settlement, not a second one
    setl_id = settled.url.path.rsplit("/", 1)[1]
    with family.engine.connect() as connection:
        stored = settlements_repo.settlement(connection, setl_id)
    assert stored is not None
    for name, fen in stored.amounts().items():
        assert amount(settled, name) == yuan(fen), name
    assert "结算成功" in settled.text and "data-print" in settled.text
    quota = run(family, lambda uow: wallet_view(family, uow, MOTHER.psn_no)).received_total_fen
    assert quota == 50_000 - 7_200

    day = client.get("/desk/day")
    assert f"/desk/settlements/{setl_id}" in day.text
    assert re.search(r'id="ours-fixmedins_setl_cnt">1<', day.text)
    theirs = {"check": "1", "fixmedins_setl_cnt": "1", "medfee_sumamt": "120.00"}
    balanced = client.get(
        "/desk/day", params={**theirs, "fund_pay_sumamt": "48.00", "acct_pay": "72.00"}
    )
    assert "stmt_rslt = 0" in balanced.text
    off = client.get("/desk/day", params={**theirs, "fund_pay_sumamt": "48.00", "acct_pay": "0"})
    assert "stmt_rslt = 1" in off.text

    reverse_form = {"csrf_token": csrf, "page": f"/desk/settlements/{setl_id}"}
    reversed_ = client.post(f"/desk/settlements/{setl_id}/reverse", data=reverse_form)
    assert "已撤销结算" in reversed_.text and amount(reversed_, "medfee_sumamt") == "-120.00"
    twice = client.post(f"/desk/settlements/{setl_id}/reverse", data=reverse_form)
    assert twice.url.path == reversed_.url.path
    quota = run(family, lambda uow: wallet_view(family, uow, MOTHER.psn_no)).received_total_fen
    assert quota == 50_000
    netted = client.get("/desk/day")
    assert re.search(r'id="ours-fixmedins_setl_cnt">0<', netted.text)

    other = TestClient(client.app)
    signed_in(other, key_of(family, HOSPITAL))
    assert other.get(f"/desk/settlements/{setl_id}").status_code == 404


def test_every_credential_finds_the_patient_and_an_expired_session_keeps_the_bill(
    family: Context, clock: ManualClock, tmp_path: Path
) -> None:
    client = make_client(family, clock, tmp_path)
    issued = key_of(family, PHARMACY)
    csrf = csrf_of(signed_in(client, issued))
    token = issue_ec_token(family, MOTHER.psn_no)
    for presented in (
        {"mdtrt_cert_type": "01", "mdtrt_cert_no": token},
        card_of(MOTHER.id_number, MOTHER.name),
        card_of(MOTHER.id_number, MOTHER.name, cert_type="03"),
    ):
        found = client.post("/desk/find", data={"csrf_token": csrf, **presented})
        assert found.status_code == 200 and MOTHER.id_masked in found.text, presented
    wrong = client.post(
        "/desk/find",
        data={"csrf_token": csrf, "mdtrt_cert_type": "01", "mdtrt_cert_no": token[:-2] + "xx"},
    )
    assert wrong.status_code == 400 and 'id="f-mdtrt_cert_no-error"' in wrong.text
    assert NOT_IDENTIFIED in wrong.text

    client.post("/desk/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert client.get("/desk", follow_redirects=False).status_code == 303
    assert client.get("/desk/nowhere").status_code in (303, 404)

    csrf = csrf_of(signed_in(client, issued))
    run(family, lambda uow: desk_sessions.desk_logout(family, uow, client.cookies["gongji_desk"]))
    late = client.post("/desk/quote", data=bill(csrf), follow_redirects=False)
    assert late.status_code == 303
    assert late.headers["location"] == "/desk/login?next=%2Fdesk&expired=1"
    again = signed_in(client, issued)
    assert "已为您保留刚才填写的内容" in again.text
    assert f'value="{MONITOR}"' in again.text and 'value="120.00"' in again.text


def test_a_bad_day_or_bad_totals_are_refused_beside_their_field(
    family: Context, clock: ManualClock, tmp_path: Path
) -> None:
    client = make_client(family, clock, tmp_path)
    signed_in(client, key_of(family, PHARMACY))
    bad_date = client.get("/desk/day", params={"date": "2026-02-30"})
    assert bad_date.status_code == 200 and 'id="d-date-error"' in bad_date.text
    for last_day in ("9999-12-31", "0001-01-01"):  # no day after or before it to link
        edge = client.get("/desk/day", params={"date": last_day})
        assert edge.status_code == 200 and 'id="d-date-error"' in edge.text
    bad_count = client.get(
        "/desk/day",
        params={"check": "1", "fixmedins_setl_cnt": "one", "medfee_sumamt": "0"},
    )
    assert 'id="f-fixmedins_setl_cnt-error"' in bad_count.text and "笔数应为整数" in bad_count.text
    assert "stmt_rslt" not in bad_count.text
    too_precise = client.get(
        "/desk/day",
        params={
            "check": "1",
            "fixmedins_setl_cnt": "0",
            "medfee_sumamt": "1.001",
            "fund_pay_sumamt": "0",
            "acct_pay": "0",
        },
    )
    assert 'id="f-medfee_sumamt-error"' in too_precise.text
    nothing = client.get(
        "/desk/day",
        params={
            "check": "1",
            "fixmedins_setl_cnt": "0",
            "medfee_sumamt": "0",
            "fund_pay_sumamt": "0",
            "acct_pay": "0",
        },
    )
    assert "stmt_rslt = 0" in nothing.text  # nothing settled, nothing claimed: balanced
