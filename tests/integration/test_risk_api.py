"""The risk officer's REST routes (/api/v1/admin/risk, docs/api.md) on SQLite and PostgreSQL:
the queue and its filters, an alert's evidence, a case worked from open to closed with a
recovery, refusals with stable codes that change nothing, idempotent writes, the institution
view and the run status."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gongji.audit.service import log
from gongji.audit.store.audit_repo import AuditQuery
from gongji.core.clock import ManualClock
from gongji.institutions.domain.institutions import (
    Institution,
    InstitutionKind,
    InstitutionLevel,
    InstitutionStatus,
)
from gongji.institutions.service import institutions
from gongji.kernel.context import SYSTEM, Context
from gongji.mutual_aid.service import wallets
from gongji.risk.domain.alerts import Alert, Evidence, RuleCode, SubjectKind
from gongji.risk.service import runs
from gongji.risk.store import alerts_repo
from support.api import key, make_client, operator_headers
from support.world import give, insured, relate, run

TAKER = "P620100000900"
GIVERS = [f"P62010000091{k}" for k in range(6)]
PHARMACY = "P62010000001"
BASE = "/api/v1/admin/risk"

Api = tuple[TestClient, Context, dict[str, str]]


@pytest.fixture
def api(ctx: Context, clock: ManualClock, tmp_path: Path) -> Iterator[Api]:
    insured(ctx, TAKER, insutype="390", name="王桂兰")
    for giver in GIVERS:
        insured(ctx, giver, earlier=300_000, name="张三")
        relate(ctx, giver, TAKER, "sibling")
    for giver in GIVERS[:5]:
        give(ctx, giver, TAKER, 20_000)
    clock.advance(timedelta(hours=1))
    with make_client(ctx, clock, tmp_path) as client:
        yield client, ctx, operator_headers(ctx, "li.risk", "risk_officer")


def _post(client: TestClient, path: str, headers: dict[str, str], body: Any = None) -> Any:
    return client.post(f"{BASE}{path}", json=body or {}, headers={**headers, **key()})


def _fan_in_alert(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    queue = client.get(f"{BASE}/alerts", params={"rule": "fan_in"}, headers=headers)
    assert queue.status_code == 200, queue.text
    (found,) = queue.json()["alerts"]
    return dict(found)


def test_the_run_status_says_full_then_incremental(api: Api) -> None:
    client, ctx, officer = api
    before = client.get(f"{BASE}/runs", headers=officer).json()
    assert (before["next_run"], before["runs"]) == ("full", [])
    runs.run(ctx)
    after = client.get(f"{BASE}/runs", headers=officer).json()
    assert after["next_run"] == "incremental"
    (last,) = after["runs"]
    assert (last["mode"], last["grants_read"], last["alerts_raised"]) == ("full", 5, 1)
    assert after["watermark_seq"] == last["watermark_seq"]


def test_an_alert_shows_its_evidence_and_who_gave_to_whom(api: Api) -> None:
    client, ctx, officer = api
    runs.run(ctx)
    listed = _fan_in_alert(client, officer)
    assert listed["subject"] == TAKER
    assert client.get(f"{BASE}/alerts", params={"rule": "loop"}, headers=officer).json() == {
        "alerts": [],
        "next_before_id": None,
    }
    by_subject = client.get(f"{BASE}/alerts", params={"subject": GIVERS[0]}, headers=officer)
    assert by_subject.json()["alerts"] == []
    one = client.get(f"{BASE}/alerts/{listed['alert_id']}", headers=officer).json()
    assert one["rule_zh"] == "多人转入"
    assert set(one["evidence"]["persons"]) == set(GIVERS[:5])
    assert len(one["evidence"]["grants"]) == 5
    assert sorted((e["contributor"], e["recipient"], e["amount"]) for e in one["edges"]) == [
        (giver, TAKER, "200.00") for giver in GIVERS[:5]
    ]
    assert "王" not in str(one) and "张" not in str(one)  # ids only, never a name
    missing = client.get(f"{BASE}/alerts/999999", headers=officer)
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    assert "风险预警" in missing.json()["message"]
    bad_rule = client.get(f"{BASE}/alerts", params={"rule": "nonsense"}, headers=officer)
    assert (bad_rule.status_code, bad_rule.json()["code"]) == (422, "request_invalid")


def test_a_case_from_open_to_closed_with_a_recovery_each_step_audited(api: Api) -> None:
    client, ctx, officer = api
    runs.run(ctx)
    alert_id = _fan_in_alert(client, officer)["alert_id"]
    opened = _post(client, f"/alerts/{alert_id}/case", officer)
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case_id"]
    assert opened.json()["state"] == "open"
    assert client.get(f"{BASE}/alerts", headers=officer).json()["alerts"] == []  # now in a case
    cased = client.get(f"{BASE}/alerts", params={"include_cased": "true"}, headers=officer)
    assert [a["case_id"] for a in cased.json()["alerts"]] == [case_id]
    assert _post(client, f"/cases/{case_id}/investigate", officer).json()["state"] == (
        "investigating"
    )
    assert _post(client, f"/cases/{case_id}/freeze-wallet", officer).status_code == 200
    assert run(ctx, lambda uow: wallets.wallet_status(uow, TAKER)) == "frozen"
    closed = _post(
        client, f"/cases/{case_id}/close", officer,
        {"confirmed": True, "reason": "亲属关系虚构", "recovered": "800.00"},
    )  # fmt: skip
    assert closed.status_code == 200, closed.text
    assert (closed.json()["state"], closed.json()["recovered"]) == ("closed_confirmed", "800.00")
    more = _post(client, f"/cases/{case_id}/recoveries", officer, {"amount": "50.00"})
    assert more.json()["recovered"] == "850.00"
    detail = client.get(f"{BASE}/cases/{case_id}", headers=officer).json()
    assert detail["score"] > 0 and len(detail["alerts"]) == 1 and len(detail["edges"]) == 5
    assert [step["action"] for step in detail["trail"]] == [
        "risk_case_opened",
        "risk_case_investigating",
        "risk_wallet_frozen",
        "risk_case_closed_confirmed",
        "risk_recovery_recorded",
    ]
    commands = run(ctx, lambda uow: log.search(uow, AuditQuery(actor="operator:li.risk")))
    assert [
        (e.entry.action, e.entry.detail.get("case_id"))
        for e in reversed(commands)
        if e.entry.action.startswith("risk.")
    ] == [
        (f"risk.case.{verb}", None if verb == "open" else case_id)
        for verb in ("open", "investigate", "freeze-wallet", "close", "recovery")
    ]
    assert [c["case_id"] for c in client.get(f"{BASE}/cases", headers=officer).json()] == [case_id]
    person = client.get(f"{BASE}/persons/{TAKER}", headers=officer).json()
    assert [c["case_id"] for c in person["cases"]] == [case_id] and person["score"] > 0


def test_refusals_have_stable_codes_and_change_nothing(api: Api) -> None:
    client, ctx, officer = api
    runs.run(ctx)
    alert_id = _fan_in_alert(client, officer)["alert_id"]
    case_id = _post(client, f"/alerts/{alert_id}/case", officer).json()["case_id"]
    refusals = [
        (_post(client, f"/alerts/{alert_id}/case", officer), 409, "risk_alert_in_case"),
        (_post(client, "/cases/RC0/investigate", officer), 404, "risk_case_unknown"),
        (
            _post(client, f"/cases/{case_id}/close", officer,
                  {"confirmed": True, "reason": "x", "recovered": "1.00"}),
            409, "risk_case_step_refused",
        ),
        (
            _post(client, f"/cases/{case_id}/close", officer,
                  {"confirmed": False, "reason": "查无实据", "recovered": "1.00"}),
            400, "risk_recovery_invalid",
        ),
        (
            _post(client, f"/cases/{case_id}/close", officer,
                  {"confirmed": False, "reason": "   "}),
            400, "risk_reason_required",
        ),
        (_post(client, f"/cases/{case_id}/suspend-institution", officer), 400,
         "risk_action_not_for_subject"),
        (_post(client, f"/cases/{case_id}/recoveries", officer, {"amount": 5.5}), 400,
         "amount_float_refused"),
        (_post(client, f"/cases/{case_id}/close", officer, {"confirmed": 1, "reason": "x"}), 422,
         "request_invalid"),
    ]  # fmt: skip
    for answer, status, code in refusals:
        assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
        assert answer.json()["message"]  # in Chinese by default
    clerk = operator_headers(ctx, "wang.clerk", "clerk")
    assert _post(client, f"/cases/{case_id}/investigate", clerk).status_code == 403
    detail = client.get(f"{BASE}/cases/{case_id}", headers=officer).json()
    assert (detail["state"], detail["recovered"]) == ("open", "0.00")
    assert [s["action"] for s in detail["trail"]] == ["risk_case_opened"]


def test_a_write_replayed_with_its_key_is_done_once(api: Api) -> None:
    client, ctx, officer = api
    runs.run(ctx)
    alert_id = _fan_in_alert(client, officer)["alert_id"]
    case_id = _post(client, f"/alerts/{alert_id}/case", officer).json()["case_id"]
    once = {**officer, **key()}
    first = client.post(f"{BASE}/cases/{case_id}/investigate", json={}, headers=once)
    again = client.post(f"{BASE}/cases/{case_id}/investigate", json={}, headers=once)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.headers["Idempotency-Replayed"] == "true" and again.json() == first.json()
    trail = run(ctx, lambda uow: log.search(uow, AuditQuery(subject=case_id)))
    assert [e.entry.action for e in trail].count("risk_case_investigating") == 1
    no_key = client.post(f"{BASE}/cases/{case_id}/investigate", json={}, headers=officer)
    assert no_key.json()["code"] == "idempotency_key_required"


def test_the_institution_view_and_a_suspension_from_its_case(api: Api) -> None:
    client, ctx, officer = api
    value = Institution(
        PHARMACY, "兰州示范药房", "620100", InstitutionKind.PHARMACY, InstitutionLevel.NONE,
        True, InstitutionStatus.ACTIVE,
    )  # fmt: skip
    run(ctx, lambda uow: institutions.register_institution(ctx, uow, SYSTEM, value))
    alert = Alert(
        RuleCode.INSTITUTION, 1, SubjectKind.INSTITUTION, PHARMACY, "620100", 30,
        "shared_share", Evidence(figures=(("shared_share_pct", 80),)),
    )  # fmt: skip
    run(ctx, lambda uow: alerts_repo.insert_alerts(uow.connection, [alert], ctx.now_us(), None))
    view = client.get(f"{BASE}/institutions/{PHARMACY}", headers=officer).json()
    assert (view["score"], view["alerts"][0]["rule"]) == (30, "institution")
    case_id = _post(client, f"/alerts/{view['alerts'][0]['alert_id']}/case", officer).json()[
        "case_id"
    ]
    assert _post(client, f"/cases/{case_id}/freeze-wallet", officer).json()["code"] == (
        "risk_action_not_for_subject"
    )
    assert _post(client, f"/cases/{case_id}/suspend-institution", officer).status_code == 200
    found = run(ctx, lambda uow: institutions.get_institution(ctx, uow, PHARMACY))
    assert found.status is InstitutionStatus.SUSPENDED
    after = client.get(f"{BASE}/institutions/{PHARMACY}", headers=officer).json()
    assert [c["state"] for c in after["cases"]] == ["open"]


def test_the_openapi_document_describes_the_routes_and_their_refusals(api: Api) -> None:
    client, _, _ = api
    paths = client.get("/openapi.json").json()["paths"]
    close = paths[f"{BASE}/cases/{{case_id}}/close"]["post"]
    assert close["responses"]["default"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert {f"{BASE}/alerts", f"{BASE}/runs", f"{BASE}/institutions/{{code}}"} <= set(paths)
