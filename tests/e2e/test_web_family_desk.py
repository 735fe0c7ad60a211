"""The desk's 家庭共济 choice for one bill, regions named on the desk, and the two back-office
pages of issue 19: desk keys handed out by an admin, kinship withdrawn by a reviewer."""

from __future__ import annotations

import re
from pathlib import Path

from browser.site import HEAD, MOTHER
from test_web_admin_clearing import operator_client
from test_web_desk import PHARMACY, amount, bill, csrf_of, family, key_of, signed_in

from gongji.core.clock import ManualClock
from gongji.kernel.context import Context
from gongji.mutual_aid.service import relationships
from gongji.notify.service import preferences
from support.api import make_client
from support.credentials import card_of
from support.world import person_actor, run

__all__ = ["family"]  # the fixture, shared with the desk's own tests


def test_the_desk_follows_the_patients_choice_unless_told_otherwise(
    family: Context, clock: ManualClock, tmp_path: Path
) -> None:
    client = make_client(family, clock, tmp_path)
    csrf = csrf_of(signed_in(client, key_of(family, PHARMACY)))
    found = client.post(
        "/desk/find", data={"csrf_token": csrf, **card_of(MOTHER.id_number, MOTHER.name)}
    )
    assert "济南市（370100）" in found.text  # the region by name
    standing = client.post("/desk/quote", data=bill(csrf))
    assert amount(standing, "acct_mulaid_pay") == "72.00"
    declined = client.post("/desk/quote", data=bill(csrf, mutual_aid="0"))
    assert amount(declined, "acct_mulaid_pay") == "0.00"
    assert 'name="mutual_aid" value="0"' in declined.text  # carried into the settle form
    assert "兰州市" in standing.text  # whose money: the son's city, by name
    mother = person_actor(MOTHER.psn_no)
    run(family, lambda uow: preferences.set_use_mutual_aid(family, uow, mother, False))
    unchosen = client.post("/desk/quote", data=bill(csrf))
    assert amount(unchosen, "acct_mulaid_pay") == "0.00"  # she turned it off
    chosen_here = client.post("/desk/quote", data=bill(csrf, mutual_aid="1"))
    assert amount(chosen_here, "acct_mulaid_pay") == "72.00"  # she asks for it at the counter


def test_an_admin_hands_out_a_desk_key_and_the_cashier_signs_in_with_it(
    family: Context, clock: ManualClock, tmp_path: Path
) -> None:
    admin = operator_client(family, clock, tmp_path / "admin", "admin")
    page = admin.get("/admin/desk-keys")
    bad = admin.post(
        "/admin/desk-keys", data={"csrf_token": csrf_of(page), "institution_code": "x"}
    )
    assert bad.status_code == 400 and "12 位" in bad.text
    issued = admin.post(
        "/admin/desk-keys", data={"csrf_token": csrf_of(page), "institution_code": PHARMACY}
    )
    key_id = re.search(r'id="key-id">([^<]+)<', issued.text)
    secret = re.search(r'id="key-secret">([^<]+)<', issued.text)
    assert key_id and secret
    assert secret.group(1) not in admin.get("/admin/desk-keys").text  # shown once
    cashier = make_client(family, clock, tmp_path / "desk")
    login = cashier.get("/desk/login")
    assert "gongji institutions" not in login.text and "结算台密钥" in login.text
    form = {"csrf_token": csrf_of(login), "key_id": key_id.group(1), "secret": secret.group(1)}
    assert cashier.post("/desk/login", data=form, follow_redirects=False).status_code == 303
    clerk = operator_client(family, clock, tmp_path / "clerk", "clerk")
    assert clerk.get("/admin/desk-keys").status_code == 403


def test_a_reviewer_withdraws_a_kinship_on_its_page(
    family: Context, clock: ManualClock, tmp_path: Path
) -> None:
    [relationship] = run(family, lambda uow: relationships.list_for(uow, HEAD.psn_no))
    reviewer = operator_client(family, clock, tmp_path, "reviewer")
    page = reviewer.get("/admin/kinship")
    without_reason = {"csrf_token": csrf_of(page), "relationship_id": relationship.id}
    missing = reviewer.post("/admin/kinship", data=without_reason)
    assert missing.status_code == 400
    done = reviewer.post(
        "/admin/kinship",
        data={
            "csrf_token": csrf_of(page),
            "relationship_id": relationship.id,
            "reason": "离婚登记",
        },
    )
    assert done.status_code == 200 and "亲属关系已撤销，共济关系已终止" in done.text
    [ended] = run(family, lambda uow: relationships.list_for(uow, HEAD.psn_no))
    assert (ended.status, ended.end_reason) == ("ended", "kinship_withdrawn")
