"""The operator API's find, a person's whole story, the unmasked view and the audit search, on
the clearing tests' March of shared spending (on SQLite and PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gongji.audit.service import log as audit
from gongji.core.clock import ManualClock
from gongji.identity.service import identity
from gongji.kernel.context import Context
from gongji.mutual_aid.domain.premiums import PremiumKind, PremiumSource
from gongji.mutual_aid.service import authorizations, lifecycle, premiums
from gongji.settlement.service.settlement import settle
from gongji.web.session import OPERATOR_COOKIE
from support.api import make_client, operator_headers, post
from support.clearing import BROTHER, GUANGZHOU_PHARMACY, MOTHER, SON, march_spending
from support.desk import bill
from support.world import IDS, insured, operator, person_actor, relate, run

Api = tuple[TestClient, Context]


@pytest.fixture
def api(ctx: Context, clock: ManualClock, tmp_path: Path) -> Iterator[Api]:
    march_spending(ctx, clock)
    with make_client(ctx, clock, tmp_path) as client:
        yield client, ctx


def _story(client: TestClient, headers: dict[str, str], psn_no: str) -> Any:
    answer = client.get(f"/api/v1/admin/persons/{psn_no}", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_find_by_each_key_names_the_same_person(api: Api) -> None:
    client, ctx = api
    clerk = operator_headers(ctx, "clerk1", "clerk")
    id_number, name = IDS[MOTHER]
    for params in (
        {"id_number": id_number.lower()},
        {"name": name, "region": "370100"},
        {"psn_no": MOTHER},
    ):
        found = client.get("/api/v1/admin/find", params=params, headers=clerk).json()
        assert [p["psn_no"] for p in found["persons"]] == [MOTHER], params
        assert found["persons"][0]["name"] != name  # masked
    wrong_region = client.get(
        "/api/v1/admin/find", params={"name": name, "region": "620100"}, headers=clerk
    )
    assert wrong_region.json()["persons"] == []
    no_region = client.get("/api/v1/admin/find", params={"name": name}, headers=clerk)
    assert no_region.status_code == 400
    assert no_region.json()["code"] == "name_needs_region"


def test_find_a_grant_a_settlement_and_an_institution(api: Api) -> None:
    client, ctx = api
    analyst = operator_headers(ctx, "ana1", "analyst")
    son = _story(client, analyst, SON)
    grant_id = son["grants_given"][0]["grant_id"]
    by_grant = client.get("/api/v1/admin/find", params={"grant_id": grant_id}, headers=analyst)
    assert [p["psn_no"] for p in by_grant.json()["persons"]] == [SON, MOTHER]
    setl_id = son["grants_given"][0]["spent_on"][0]["setl_id"]
    by_setl = client.get("/api/v1/admin/find", params={"setl_id": setl_id}, headers=analyst)
    assert [p["psn_no"] for p in by_setl.json()["persons"]] == [MOTHER]
    place = client.get(
        "/api/v1/admin/find", params={"institution": GUANGZHOU_PHARMACY}, headers=analyst
    ).json()
    assert place["institution"] == GUANGZHOU_PHARMACY
    assert len(place["institution_settlements"]) == 1


def test_a_story_shows_grants_both_ways_and_what_each_paid_for(api: Api) -> None:
    client, ctx = api
    analyst = operator_headers(ctx, "ana1", "analyst")
    son = _story(client, analyst, SON)
    assert son["name"] == "张**" or son["name"].startswith("张")
    assert "*" in son["id_number"]
    directions = {(r["other"], r["direction"]) for r in son["relationships"]}
    assert directions == {(MOTHER, "proposed"), (BROTHER, "proposed_by")}
    given = son["grants_given"][0]
    assert (given["other"], given["amount"], given["spent"]) == (MOTHER, "500.00", "80.00")
    assert sorted(s["amount"] for s in given["spent_on"]) == ["20.00", "60.00"]
    received = son["grants_received"][0]
    assert (received["other"], received["spent"]) == (BROTHER, "30.00")
    account = son["account"]
    assert (account["this_year"], account["earlier_years"]) == ("0.00", "0.00")  # all given away
    mother = _story(client, analyst, MOTHER)
    paid_by = {
        s["setl_id"]: [(d["kind"], d["source_id"], d["amount"]) for d in s["paid_by"]]
        for s in mother["settlements"]
    }
    for spend in given["spent_on"]:
        assert ("grant", given["grant_id"], spend["amount"]) in paid_by[spend["setl_id"]]


def test_a_deceased_persons_balance_is_shown_until_the_heirs_are_paid(api: Api) -> None:
    client, ctx = api
    clerk = operator_headers(ctx, "clerk1", "clerk")
    run(
        ctx,
        lambda uow: lifecycle.record_death(ctx, uow, operator(), BROTHER, date(2026, 4, 1), "D-1"),
    )
    before = _story(client, clerk, BROTHER)
    assert before["death_date"] == "2026-04-01"
    assert before["account"]["awaiting_heirs"] is True
    left = before["account"]["this_year"]
    assert left != "0.00"
    heirs = [{"name": "张小军", "id_number_masked": "370***********1234", "share": left}]
    paid = post(
        client,
        f"/api/v1/admin/persons/{BROTHER}/inheritance",
        clerk,
        {"death_certificate_no": "D-1", "heirs": heirs},
    )
    assert paid.status_code == 200, paid.text
    after = _story(client, clerk, BROTHER)
    assert after["inheritance"]["paid"] == left
    assert after["inheritance"]["heirs"][0]["name"] == "张**"
    assert after["account"]["this_year"] == "0.00"
    assert after["account"]["awaiting_heirs"] is False


def test_the_unmasked_view_needs_the_role_and_a_reason_and_is_recorded(api: Api) -> None:
    client, ctx = api
    analyst = operator_headers(ctx, "ana1", "analyst")
    clerk = operator_headers(ctx, "clerk1", "clerk")
    path = f"/api/v1/admin/persons/{MOTHER}/unmask"
    refused = client.post(path, json={"reason": "来电核实身份"}, headers=analyst)
    assert refused.status_code == 403
    too_short = client.post(path, json={"reason": "看"}, headers=clerk)
    assert too_short.json()["code"] == "unmask_reason_required"
    shown = client.post(path, json={"reason": "来电核实身份"}, headers=clerk)
    assert shown.status_code == 200
    assert (shown.json()["id_number"], shown.json()["name"]) == IDS[MOTHER]
    records = run(ctx, lambda uow: audit.search_by(uow, subject=MOTHER, action="backoffice.unmask"))
    assert [(r.entry.actor, r.entry.reason) for r in records] == [
        ("operator:clerk1", "来电核实身份")
    ]
    assert audit.verify(ctx).ok


def test_operator_writes_and_reads_are_in_the_audit_search(api: Api) -> None:
    client, ctx = api
    risk = operator_headers(ctx, "risk1", "risk_officer")
    auditor = operator_headers(ctx, "audit1", "auditor")
    frozen = post(client, f"/api/v1/admin/wallets/{SON}/freeze", risk, {"reason": "疑似套现"})
    assert frozen.status_code == 200
    _story(client, risk, SON)
    found = client.get(
        "/api/v1/admin/audit", params={"psn_no": SON, "operator": "risk1"}, headers=auditor
    )
    actions = [(r["action"], r["reason"]) for r in found.json()["records"]]
    assert actions == [("backoffice.person.view", None), ("admin.freeze", "疑似套现")]
    today = client.get(
        "/api/v1/admin/audit", params={"from": "2026-04-02", "to": "2026-04-02"}, headers=auditor
    )
    assert len(today.json()["records"]) == 2
    assert client.get("/api/v1/admin/audit", headers=risk).status_code == 200
    clerk = operator_headers(ctx, "clerk1", "clerk")
    assert client.get("/api/v1/admin/audit", headers=clerk).status_code == 403


def test_a_story_shows_enrolments_authorizations_premiums_freezes_and_events(api: Api) -> None:
    """The rest of a person's story (docs/backoffice.md): an authorization with the quota its
    settlement used, a premium paid for the mother by her other son, a freeze, her enrolment and
    her events in order; and she is found by her mobile too."""
    client, ctx = api
    daughter = "P370100000009"
    insured(ctx, daughter, region="370100", current=80_000, name="张建华")
    relate(ctx, daughter, MOTHER, "parent")
    run(ctx, lambda uow: authorizations.bind(ctx, uow, person_actor(daughter), MOTHER, 5_000))
    order = premiums.PremiumOrder(MOTHER, 2026, PremiumKind.RESIDENT, PremiumSource.OWN_ACCOUNT)
    run(ctx, lambda uow: premiums.pay(ctx, uow, person_actor(daughter), order))
    # 1000.00 of 50% items: 420.00 left on her son's grant, then 50.00 of the authorization.
    paid = run(ctx, lambda uow: settle(ctx, uow, bill(MOTHER, "c9", ("TA", "10", 10_000))))
    risk = operator_headers(ctx, "risk1", "risk_officer")
    assert post(
        client, f"/api/v1/admin/wallets/{MOTHER}/freeze", risk, {"reason": "核查"}
    ).is_success

    mother = _story(client, risk, MOTHER)
    assert [(e["insutype"], e["region"], e["start_date"]) for e in mother["enrolments"]] == [
        ("390", "370100", "2020-01-01")
    ]
    (authorization,) = mother["authorizations"]
    assert (authorization["contributor"], authorization["quota"], authorization["used"]) == (
        daughter,
        "50.00",
        "50.00",
    )
    assert [s["setl_id"] for s in authorization["spent_on"]] == [paid.setl_id]
    draws = {s["setl_id"]: s["paid_by"] for s in mother["settlements"]}[paid.setl_id]
    assert ("authorization", authorization["authorization_id"], "50.00") in [
        (d["kind"], d["source_id"], d["amount"]) for d in draws
    ]
    assert [(p["payer"], p["year"], p["kind"]) for p in mother["premiums"]] == [
        (daughter, 2026, "resident")
    ]
    assert [(f["kind"], f["detail"]["reason"]) for f in mother["freezes"]] == [
        ("wallet_frozen", "核查")
    ]
    assert mother["wallet"]["status"] == "frozen"
    seqs = [e["seq"] for e in mother["events"]]
    assert seqs == sorted(seqs) and mother["events"][0]["kind"] == "wallet_opened"
    assert {"premium_paid_for_me", "wallet_frozen"} <= {e["kind"] for e in mother["events"]}
    payer = _story(client, risk, daughter)
    assert [p["psn_no"] for p in payer["premiums"]] == [MOTHER]  # paid by her, for her mother

    shown = client.post(
        f"/api/v1/admin/persons/{MOTHER}/unmask", json={"reason": "本人来电核实"}, headers=risk
    ).json()
    found = client.get("/api/v1/admin/find", params={"mobile": shown["mobile"]}, headers=risk)
    assert [p["psn_no"] for p in found.json()["persons"]] == [MOTHER]


def test_the_audit_page_finds_an_unmasked_read_by_operator_person_and_day(api: Api) -> None:
    client, ctx = api
    clerk = operator_headers(ctx, "clerk9", "clerk")
    shown = client.post(
        f"/api/v1/admin/persons/{MOTHER}/unmask", json={"reason": "本人来电核实"}, headers=clerk
    )
    assert shown.status_code == 200
    run(ctx, lambda uow: identity.create_operator(ctx, uow, "audit9", ["auditor"], None, None))
    token = run(ctx, lambda uow: identity.issue_operator_token(ctx, uow, "audit9")).token
    client.cookies.set(OPERATOR_COOKIE, token, path="/admin")
    wanted = {"operator": "clerk9", "psn_no": MOTHER, "from": "2026-04-02", "to": "2026-04-02"}
    page = client.get("/admin/audit", params=wanted)
    assert page.status_code == 200
    assert "backoffice.unmask" in page.text and "本人来电核实" in page.text
    assert MOTHER in page.text and shown.json()["id_number"] not in page.text
    earlier = client.get(
        "/admin/audit", params={**wanted, "from": "2026-03-01", "to": "2026-03-31"}
    )
    assert "backoffice.unmask" not in earlier.text
    bad = client.get("/admin/audit", params={"from": "yesterday"})
    assert bad.status_code == 400
