"""The permission matrix (docs/backoffice.md, ``kernel/permissions.py``) enforced on every
operator endpoint and page, walked for every role.

The table below names each operator route's permission. A route the app serves under the
operator prefixes but the table does not name fails the first test, so a new endpoint cannot
slip in unchecked. Then every route is called as every role: refused with 403 exactly when the
matrix does not grant the permission (an allowed call may still fail on its input, never 403).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Route

from gongji.core.clock import ManualClock
from gongji.identity.service import identity
from gongji.kernel.context import Context, Role
from gongji.kernel.permissions import MATRIX, Permission
from gongji.web.session import OPERATOR_COOKIE, csrf_token
from support.api import key, make_client
from support.world import insured, run

P = Permission
PSN = "P620100000001"
OPERATOR_PREFIXES = ("/api/v1/admin", "/api/v1/clearing", "/admin")
NOT_GUARDED = {("GET", "/admin/login"), ("POST", "/admin/login"), ("POST", "/admin/logout")}
NOT_GUARDED |= {("GET", "/admin/{rest:path}")}  # the 404 page for unknown addresses

ENDPOINTS: dict[tuple[str, str], Permission] = {
    ("GET", "/api/v1/admin/relationships/review-queue"): P.REVIEW_KINSHIP,
    ("POST", "/api/v1/admin/relationships/{relationship_id}/review"): P.REVIEW_KINSHIP,
    ("POST", "/api/v1/admin/wallets/{psn_no}/freeze"): P.FREEZE_WALLETS,
    ("POST", "/api/v1/admin/wallets/{psn_no}/unfreeze"): P.FREEZE_WALLETS,
    ("POST", "/api/v1/admin/persons/{psn_no}/suspend"): P.CHANGE_ENROLMENT,
    ("POST", "/api/v1/admin/persons/{psn_no}/resume"): P.CHANGE_ENROLMENT,
    ("POST", "/api/v1/admin/persons/{psn_no}/terminate"): P.CHANGE_ENROLMENT,
    ("POST", "/api/v1/admin/persons/{psn_no}/move"): P.CHANGE_ENROLMENT,
    ("POST", "/api/v1/admin/persons/{psn_no}/death"): P.CHANGE_ENROLMENT,
    ("POST", "/api/v1/admin/persons/{psn_no}/inheritance"): P.CHANGE_ENROLMENT,
    ("POST", "/api/v1/admin/jobs/expire-grants/run"): P.RUN_JOBS,
    ("GET", "/api/v1/admin/policy/{region}"): P.VIEW_POLICY,
    ("POST", "/api/v1/admin/imports/{kind}"): P.IMPORT_DATA,
    ("GET", "/api/v1/admin/find"): P.FIND_PERSONS,
    ("GET", "/api/v1/admin/persons/{psn_no}"): P.FIND_PERSONS,
    ("POST", "/api/v1/admin/persons/{psn_no}/unmask"): P.UNMASK_PERSONAL_DATA,
    ("GET", "/api/v1/admin/audit"): P.VIEW_AUDIT,
    ("GET", "/api/v1/clearing/{month}.csv"): P.VIEW_CLEARING,
    ("GET", "/api/v1/clearing/{month}.svg"): P.VIEW_CLEARING,
    ("GET", "/api/v1/clearing/{month}.png"): P.VIEW_CLEARING,
    ("GET", "/api/v1/clearing/{month}.xlsx"): P.VIEW_CLEARING,
    ("GET", "/api/v1/clearing/{month}"): P.VIEW_CLEARING,
    ("POST", "/api/v1/clearing/{month}/run"): P.RUN_CLEARING,
    ("GET", "/admin"): P.VIEW_OVERVIEW,
    ("GET", "/admin/reviews"): P.REVIEW_KINSHIP,
    ("POST", "/admin/reviews/{relationship_id}"): P.REVIEW_KINSHIP,
    ("GET", "/admin/wallets"): P.FREEZE_WALLETS,
    ("POST", "/admin/wallets/{verb}"): P.FREEZE_WALLETS,
    ("GET", "/admin/lifecycle"): P.CHANGE_ENROLMENT,
    ("POST", "/admin/lifecycle/{event}"): P.CHANGE_ENROLMENT,
    ("GET", "/admin/policy"): P.VIEW_POLICY,
    ("GET", "/admin/imports"): P.IMPORT_DATA,
    ("POST", "/admin/imports"): P.IMPORT_DATA,
    ("GET", "/admin/imports/{job_id}"): P.IMPORT_DATA,
    ("GET", "/admin/clearing"): P.VIEW_CLEARING,
    ("POST", "/admin/clearing/run"): P.RUN_CLEARING,
    ("GET", "/admin/clearing/{month}.svg"): P.VIEW_CLEARING,
    ("GET", "/admin/clearing/{month}.csv"): P.VIEW_CLEARING,
    ("GET", "/admin/clearing/{month}.xlsx"): P.VIEW_CLEARING,
    ("GET", "/admin/find"): P.FIND_PERSONS,
    ("GET", "/admin/persons/{psn_no}"): P.FIND_PERSONS,
    ("POST", "/admin/persons/{psn_no}/unmask"): P.UNMASK_PERSONAL_DATA,
    ("GET", "/admin/audit"): P.VIEW_AUDIT,
    ("GET", "/api/v1/admin/stats"): P.VIEW_STATISTICS,
    ("GET", "/api/v1/admin/stats.csv"): P.VIEW_STATISTICS,
    ("GET", "/api/v1/admin/stats.xlsx"): P.VIEW_STATISTICS,
    ("GET", "/admin/stats"): P.VIEW_STATISTICS,
    ("GET", "/admin/stats.svg"): P.VIEW_STATISTICS,
    ("GET", "/admin/stats.{kind}"): P.VIEW_STATISTICS,
    ("GET", "/admin/reports"): P.VIEW_REPORTS,
    ("GET", "/admin/reports.{kind}"): P.VIEW_REPORTS,
    ("GET", "/api/v1/admin/reports/monthly"): P.VIEW_REPORTS,
    ("GET", "/api/v1/admin/reports/inheritance-payouts"): P.VIEW_REPORTS,
    ("GET", "/api/v1/admin/reports/clearing"): P.VIEW_REPORTS,
    ("POST", "/api/v1/admin/relationships/{relationship_id}/withdraw-kinship"): P.REVIEW_KINSHIP,
    ("GET", "/admin/kinship"): P.REVIEW_KINSHIP,
    ("POST", "/admin/kinship"): P.REVIEW_KINSHIP,
    ("GET", "/admin/desk-keys"): P.ISSUE_DESK_KEYS,
    ("POST", "/admin/desk-keys"): P.ISSUE_DESK_KEYS,
    ("GET", "/admin/risk"): P.HANDLE_RISK_CASES,
    ("GET", "/admin/risk/alerts/{alert_id:int}"): P.HANDLE_RISK_CASES,
    ("POST", "/admin/risk/alerts/{alert_id:int}/case"): P.HANDLE_RISK_CASES,
    ("GET", "/admin/risk/cases/{case_id}"): P.HANDLE_RISK_CASES,
    ("POST", "/admin/risk/cases/{case_id}/{verb}"): P.HANDLE_RISK_CASES,
    ("GET", "/admin/risk/subjects/{kind}/{subject}"): P.HANDLE_RISK_CASES,
    ("GET", "/admin/risk/held-grants"): P.HANDLE_RISK_CASES,
    ("POST", "/admin/risk/held-grants/{grant_id}/release"): P.HANDLE_RISK_CASES,
    ("POST", "/admin/risk/held-grants/{grant_id}/reject"): P.HANDLE_RISK_CASES,
    ("GET", "/api/v1/admin/risk/alerts"): P.HANDLE_RISK_CASES,
    ("GET", "/api/v1/admin/risk/alerts/{alert_id}"): P.HANDLE_RISK_CASES,
    ("POST", "/api/v1/admin/risk/alerts/{alert_id}/case"): P.HANDLE_RISK_CASES,
    ("GET", "/api/v1/admin/risk/cases"): P.HANDLE_RISK_CASES,
    ("GET", "/api/v1/admin/risk/cases/{case_id}"): P.HANDLE_RISK_CASES,
    ("POST", "/api/v1/admin/risk/cases/{case_id}/investigate"): P.HANDLE_RISK_CASES,
    ("POST", "/api/v1/admin/risk/cases/{case_id}/freeze-wallet"): P.HANDLE_RISK_CASES,
    ("POST", "/api/v1/admin/risk/cases/{case_id}/suspend-institution"): P.HANDLE_RISK_CASES,
    ("POST", "/api/v1/admin/risk/cases/{case_id}/close"): P.HANDLE_RISK_CASES,
    ("POST", "/api/v1/admin/risk/cases/{case_id}/recoveries"): P.HANDLE_RISK_CASES,
    ("GET", "/api/v1/admin/risk/institutions/{code}"): P.HANDLE_RISK_CASES,
    ("GET", "/api/v1/admin/risk/persons/{psn_no}"): P.HANDLE_RISK_CASES,
    ("GET", "/api/v1/admin/risk/runs"): P.HANDLE_RISK_CASES,
    ("GET", "/api/v1/admin/risk/held-grants"): P.HANDLE_RISK_CASES,
    ("POST", "/api/v1/admin/risk/held-grants/{grant_id}/release"): P.HANDLE_RISK_CASES,
    ("POST", "/api/v1/admin/risk/held-grants/{grant_id}/reject"): P.HANDLE_RISK_CASES,
}

PARAMS = {
    "relationship_id": "R0000000000000000",
    "psn_no": PSN,
    "region": "620100",
    "kind": "persons",
    "month": "2026-02",
    "verb": "freeze",
    "event": "suspend",
    "job_id": "none",
    "case_id": "1",
    "subject": PSN,
    "alert_id": "1",
    "grant_id": "G0000000000000000",
    "code": "H62010000001",
}


def _routes(routes: list[Any]) -> Iterator[Route]:
    """Every route, also inside included routers (which keep theirs as ``original_router``;
    every operator router carries its prefix itself, so a route's path is its full path)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _routes(inner.routes)
        elif isinstance(route, Route):
            yield route


def _operator_routes(client: TestClient) -> set[tuple[str, str]]:
    found = set()
    for route in _routes(client.app.routes):  # type: ignore[attr-defined]
        if route.path.startswith(OPERATOR_PREFIXES):
            found |= {(m, route.path) for m in route.methods or () if m != "HEAD"}
    return found


@pytest.fixture
def client(ctx: Context, clock: ManualClock, tmp_path: Path) -> Iterator[TestClient]:
    insured(ctx, PSN, current=10_000)
    with make_client(ctx, clock, tmp_path) as made:
        yield made


def test_every_operator_route_is_in_the_table(client: TestClient) -> None:
    assert _operator_routes(client) - NOT_GUARDED == set(ENDPOINTS)


def _token(ctx: Context, role: Role) -> str:
    name = f"op.{role.value}"
    run(ctx, lambda uow: identity.create_operator(ctx, uow, name, [role.value], None, None))
    return run(ctx, lambda uow: identity.issue_operator_token(ctx, uow, name)).token


def _call(client: TestClient, ctx: Context, token: str, method: str, template: str) -> int:
    path = template.replace("{rest:path}", "x").replace("{alert_id:int}", "1").format(**PARAMS)
    if path.startswith("/api/"):
        headers = {"Authorization": f"Bearer {token}", **key()}
        body = {} if method == "POST" else None
        return client.request(method, path, json=body, headers=headers).status_code
    client.cookies.set(OPERATOR_COOKIE, token, path="/admin")
    data = {"csrf_token": csrf_token(ctx, token)} if method == "POST" else None
    answer = client.request(method, path, data=data, follow_redirects=False)
    return answer.status_code


@pytest.mark.parametrize("role", list(Role))
def test_every_endpoint_answers_each_role_by_the_matrix(
    client: TestClient, ctx: Context, role: Role
) -> None:
    token = _token(ctx, role)
    wrong = []
    for (method, template), permission in sorted(ENDPOINTS.items()):
        status = _call(client, ctx, token, method, template)
        allowed = permission in MATRIX[role]
        if (status == 403) == allowed:
            wrong.append(f"{method} {template}: {status}, allowed={allowed}")
    assert wrong == []


def test_a_person_cannot_use_an_operator_endpoint(client: TestClient, ctx: Context) -> None:
    issued = run(ctx, lambda uow: identity.issue_person_token(ctx, uow, PSN))
    headers = {"Authorization": f"Bearer {issued.token}"}
    assert client.get(f"/api/v1/admin/persons/{PSN}", headers=headers).status_code == 403


@pytest.mark.parametrize("role", [r for r in Role if Permission.HANDLE_RISK_CASES not in MATRIX[r]])
def test_the_risk_case_page_asks_the_matrix_before_the_service(
    client: TestClient, ctx: Context, role: Role, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening a case from an alert page is refused by the matrix itself, as every operator
    route is, not left to the service's own role check (which it never reaches)."""
    from gongji.risk.service import cases

    reached: list[int] = []
    monkeypatch.setattr(cases, "open_case", lambda ctx, uow, actor, alert_id: reached.append(1))
    status = _call(client, ctx, _token(ctx, role), "POST", "/admin/risk/alerts/{alert_id:int}/case")
    assert (status, reached) == (403, [])
