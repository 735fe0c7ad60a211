"""The payment password on the wallet's pages (docs/rules.md §16), without a browser: the reset
by SMS code and ID number on 设置 — a wrong ID number refused beside the code, nothing typed
shown back — and the authorization page asking for the password before it binds."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from gongji.core.clock import ManualClock
from gongji.kernel.context import Context
from gongji.kernel.sms import LogSmsGateway
from gongji.mutual_aid.service import authorizations, premiums
from support.api import make_client
from support.world import (
    ELDER,
    IDS,
    PAYMENT_PIN,
    at,
    build_context,
    insured,
    relate,
    run,
    set_payment_password,
)

SON, MOTHER = "P620100000001", "P620100000002"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _csrf(page: Any) -> str:
    found = _CSRF.search(page.text)
    assert found is not None, page.text[:300]
    return found.group(1)


def _mobile(psn_no: str) -> str:
    return f"138{abs(hash(psn_no)) % 10**8:08d}"


@pytest.fixture
def signed_in(engine: Engine, tmp_path: Path) -> Iterator[tuple[TestClient, Context]]:
    clock = ManualClock(at("2026-03-02 10:00:00"))
    ctx = build_context(engine, clock)
    insured(ctx, SON, current=180_000, earlier=620_000, name="张建国")
    insured(ctx, MOTHER, current=10_000, name="王桂兰", born=ELDER)
    relate(ctx, SON, MOTHER, "parent")
    set_payment_password(ctx, SON)
    with make_client(ctx, clock, tmp_path) as client:
        client.post("/login/code", data={"csrf_token": _csrf(client.get("/login")),
                                         "mobile": _mobile(SON)})  # fmt: skip
        sms = ctx.sms
        assert isinstance(sms, LogSmsGateway)
        code = sms.last_code(_mobile(SON))
        form = {"csrf_token": _csrf(client.get("/login?step=code")), "code": code or ""}
        assert client.post("/login", data=form, follow_redirects=False).status_code == 303
        yield client, ctx


def test_a_reset_on_the_settings_page(signed_in: tuple[TestClient, Context]) -> None:
    client, ctx = signed_in
    page = client.get("/wallet/settings")
    assert "忘记支付密码" in page.text and 'id="pin-state"' in page.text
    sent = client.post(
        "/wallet/settings/payment-password/reset-code", data={"csrf_token": _csrf(page)}
    )
    assert "验证码已发送至您登记的手机" in sent.text
    code = ctx.sms.last_code(_mobile(SON))  # type: ignore[attr-defined]
    form = {
        "csrf_token": _csrf(sent),
        "reset_code": code,
        "own_id_number": IDS[MOTHER][0],
        "new_payment_password": "581302",
        "repeat_payment_password": "581302",
    }
    refused = client.post("/wallet/settings/payment-password/reset", data=form)
    assert refused.status_code == 400
    assert "验证码或身份证号不正确" in refused.text
    assert IDS[MOTHER][0] not in refused.text and "581302" not in refused.text
    form["own_id_number"] = IDS[SON][0]
    done = client.post("/wallet/settings/payment-password/reset", data=form)
    assert "支付密码已重置" in done.text


def test_the_authorization_page_asks_for_the_password(
    signed_in: tuple[TestClient, Context],
) -> None:
    client, ctx = signed_in
    page = client.get("/wallet/authorizations")
    assert 'name="payment_password"' in page.text
    form = {"csrf_token": _csrf(page), "recipient": MOTHER, "payment_password": "581302"}
    wrong = client.post("/wallet/authorizations/bind", data=form)
    assert wrong.status_code == 400 and "支付密码不正确" in wrong.text
    assert run(ctx, lambda uow: authorizations.list_for(uow, SON)) == []
    form["payment_password"] = PAYMENT_PIN
    bound = client.post("/wallet/authorizations/bind", data=form)
    assert "已授权亲属使用家庭共济" in bound.text
    assert [a.recipient for a in run(ctx, lambda uow: authorizations.list_for(uow, SON))] == [
        MOTHER
    ]


def test_the_premium_page_asks_for_the_password_and_pays_once(
    signed_in: tuple[TestClient, Context],
) -> None:
    """代缴保费 on both databases: no CSRF token is refused; a missing or wrong password writes
    nothing and is not shown back; the right one pays and shows the receipt; the same form
    submitted twice (a double tap: the same confirmation key) pays once, to the same receipt."""
    client, ctx = signed_in
    page = client.get("/wallet/premiums")
    assert page.status_code == 200 and 'name="payment_password"' in page.text
    key = re.search(r'name="key" value="([^"]+)"', page.text)
    assert key is not None
    form = {"csrf_token": _csrf(page), "key": key.group(1), "psn_no": MOTHER, "year": "2026",
            "kind": "long_term_care", "source": "own_account"}  # fmt: skip
    forged = {name: value for name, value in form.items() if name != "csrf_token"}
    assert client.post("/wallet/premiums", data=forged).status_code == 403
    missing = client.post("/wallet/premiums", data=form)
    assert missing.status_code == 400 and 'id="f-payment_password-error"' in missing.text
    wrong = client.post("/wallet/premiums", data={**form, "payment_password": "581302"})
    assert wrong.status_code == 400 and "支付密码不正确" in wrong.text
    assert "581302" not in wrong.text
    assert run(ctx, lambda uow: premiums.premiums_of(uow, MOTHER)) == []

    right = {**form, "payment_password": PAYMENT_PIN}
    paid = client.post("/wallet/premiums", data=right, follow_redirects=False)
    assert paid.status_code == 303
    receipt = paid.headers["location"]
    assert receipt.startswith(f"/wallet/premiums/{MOTHER}/2026/long_term_care")
    shown = client.get(receipt)
    assert "缴费成功" in shown.text and "长期护理保险费" in shown.text and "王**" in shown.text
    [row] = run(ctx, lambda uow: premiums.premiums_of(uow, MOTHER))
    assert (row.payer, row.source) == (SON, "own_account")
    again = client.post("/wallet/premiums", data=right, follow_redirects=False)
    assert (again.status_code, again.headers["location"]) == (303, receipt)
    changed = client.post("/wallet/premiums", data={**right, "year": "2027"})
    assert changed.status_code == 400  # the key was used for another payment: nothing paid
    assert len(run(ctx, lambda uow: premiums.premiums_of(uow, MOTHER))) == 1
    assert client.get(f"/wallet/premiums/{MOTHER}/2027/long_term_care").status_code == 404
