"""风险监控: the alert queue, an alert with its evidence graph, a case and its steps, a
subject's view (an institution's or a person's alerts and cases), and the grants a write-time
check held for review (待审核) with the officer's release or rejection.

The pages need the risk officer's role (admin passes); the services check it again on every
write. Persons appear by psn_no; the evidence is ids, figures and the graph of who gave to
whom, never a name or an ID number. The held-grants list adds the two parties' masked names
(王**, as the back office shows names everywhere), which the decision on one grant needs.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from gongji.audit.service import log
from gongji.core.errors import GongjiError
from gongji.kernel.permissions import Permission
from gongji.risk.domain.alerts import RuleCode
from gongji.risk.domain.cases import CaseState
from gongji.risk.reports.evidence_svg import render_graph
from gongji.risk.service import cases, held_grants, queries
from gongji.web import i18n
from gongji.web.forms import FieldError, commit, errors_for, read, read_amount, required
from gongji.web.render import render, see_other
from gongji.web.routing import WebRoute
from gongji.web.session import (
    OperatorPage,
    OperatorPost,
    Posted,
    Session,
    context_of,
    require_permission,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)
RULE_LABELS = {rule.value: rule.label_zh for rule in RuleCode}
STATE_LABELS = {state.value: state.label_zh for state in CaseState}


def _page(request: Request, session: Session, template: str, **context: Any) -> Response:
    require_permission(session, Permission.HANDLE_RISK_CASES)
    return render(
        request, template, session=session, rules=RULE_LABELS, states=STATE_LABELS, **context
    )


@router.get("/admin/risk")
def queue(request: Request, session: OperatorPage) -> Response:
    require_permission(session, Permission.HANDLE_RISK_CASES)
    ctx = context_of(request)
    alerts = read(ctx, lambda uow: queries.alert_queue(uow, open_only=True))
    open_cases = read(ctx, queries.case_list)
    waiting = len(read(ctx, held_grants.held))
    return _page(
        request, session, "risk/queue.html", alerts=alerts, cases=open_cases, held_count=waiting
    )


@router.get("/admin/risk/alerts/{alert_id:int}")
def alert(request: Request, session: OperatorPage, alert_id: int) -> Response:
    require_permission(session, Permission.HANDLE_RISK_CASES)
    ctx = context_of(request)

    def work(uow: Any) -> tuple[Any, str, list[str]]:
        found = queries.alert(uow, alert_id)
        edges = queries.evidence_edges(uow, [found])
        graph = render_graph(found.subject, edges, _graph_title(found.subject))
        return found, graph, queries.grants_held_by(uow, alert_id)

    found, graph, held = read(ctx, work)
    return _page(request, session, "risk/alert.html", alert=found, graph=graph, held=held)


def _graph_title(subject: str) -> str:
    return f"资金往来图：{subject}"


@router.post("/admin/risk/alerts/{alert_id:int}/case")
def open_case(request: Request, posted: OperatorPost, alert_id: int) -> Response:
    require_permission(posted.session, Permission.HANDLE_RISK_CASES)
    ctx = context_of(request)
    try:
        made = commit(ctx, lambda uow: cases.open_case(ctx, uow, posted.actor, alert_id))
    except GongjiError as problem:
        return _refused(request, posted.session, problem, f"/admin/risk/alerts/{alert_id}")
    return see_other(request, f"/admin/risk/cases/{made.id}")


def _case_page(request: Request, session: Session, case_id: str, **context: Any) -> Response:
    ctx = context_of(request)

    def work(uow: Any) -> tuple[Any, str]:
        detail = queries.case_detail(uow, case_id)
        edges = queries.evidence_edges(uow, detail.alerts)
        return detail, render_graph(detail.case.subject, edges, _graph_title(detail.case.subject))

    detail, graph = read(ctx, work)
    return _page(request, session, "risk/case.html", detail=detail, graph=graph, **context)


@router.get("/admin/risk/cases/{case_id}")
def case(request: Request, session: OperatorPage, case_id: str) -> Response:
    require_permission(session, Permission.HANDLE_RISK_CASES)
    return _case_page(request, session, case_id)


@router.post("/admin/risk/cases/{case_id}/{verb}")
def case_step(request: Request, posted: OperatorPost, case_id: str, verb: str) -> Response:
    require_permission(posted.session, Permission.HANDLE_RISK_CASES)
    ctx, form, actor = context_of(request), posted.form, posted.actor
    try:
        if verb == "investigate":
            commit(ctx, lambda uow: cases.investigate(ctx, uow, actor, case_id))
        elif verb == "freeze":
            commit(ctx, lambda uow: cases.freeze_wallet(ctx, uow, actor, case_id))
        elif verb == "suspend":
            commit(ctx, lambda uow: cases.suspend_institution(ctx, uow, actor, case_id))
        elif verb in ("confirm", "unfound"):
            reason = required(form, "reason", "结案理由", "a reason")
            recovered = read_amount(form, "recovered") if form.get("recovered") else None
            confirmed = verb == "confirm"
            commit(
                ctx,
                lambda uow: cases.close(ctx, uow, actor, case_id, confirmed, reason, recovered),
            )
        else:
            return see_other(request, f"/admin/risk/cases/{case_id}")
    except (FieldError, GongjiError) as problem:
        return _refused(request, posted.session, problem, case_id=case_id, values=form.kept())
    return see_other(request, f"/admin/risk/cases/{case_id}?done={verb}")


def _refused(
    request: Request,
    session: Session,
    problem: FieldError | GongjiError,
    back: str = "",
    *,
    case_id: str = "",
    values: Any = None,
) -> Response:
    lang = i18n.language(request)
    if isinstance(problem, FieldError):
        errors = {problem.name: problem.error.message(lang)}
    else:
        errors = errors_for(problem, lang, {"risk_reason_required": "reason"})
    if case_id:
        return _case_page(request, session, case_id, status=400, errors=errors, values=values)
    return _page(request, session, "risk/refused.html", status=400, errors=errors, back=back)


@router.get("/admin/risk/subjects/{kind}/{subject}")
def subject(request: Request, session: OperatorPage, kind: str, subject: str) -> Response:
    """The institution view (``kind`` institution) or a person's (``kind`` person)."""
    require_permission(session, Permission.HANDLE_RISK_CASES)
    ctx = context_of(request)
    view = read(ctx, lambda uow: queries.subject_view(uow, kind, subject))
    return _page(request, session, "risk/subject.html", view=view)


HELD_FIELDS = {"risk_hold_reason_required": "reason"}


def _held_page(request: Request, session: Session, active: str = "", **context: Any) -> Response:
    """The list; ``active`` names the grant a refusal shown with ``errors`` concerns."""
    require_permission(session, Permission.HANDLE_RISK_CASES)
    waiting = read(context_of(request), held_grants.held_with_alerts)
    return _page(request, session, "risk/held.html", held=waiting, active=active, **context)


@router.get("/admin/risk/held-grants")
def held_list(request: Request, session: OperatorPage) -> Response:
    """The grants held for review, oldest first: who gives to whom, how much, since when, and
    the alerts that held each (linked to their evidence)."""
    return _held_page(request, session)


@router.post("/admin/risk/held-grants/{grant_id}/release")
def release_held(request: Request, posted: OperatorPost, grant_id: str) -> Response:
    """Release: the grant becomes the offer it would have been. Recorded as the REST route's
    command (``risk.grant.release``) beside the service's own ``risk_grant_released``."""
    require_permission(posted.session, Permission.HANDLE_RISK_CASES)
    ctx, actor = context_of(request), posted.actor

    def work(uow: Any) -> None:
        held_grants.release(ctx, uow, actor, grant_id)
        log.record_action(ctx, uow, actor, "risk.grant.release", {"grant_id": grant_id})

    try:
        commit(ctx, work)
    except GongjiError as problem:
        return _held_refused(request, posted, grant_id, problem)
    return see_other(request, "/admin/risk/held-grants?done=grant_released")


@router.post("/admin/risk/held-grants/{grant_id}/reject")
def reject_held(request: Request, posted: OperatorPost, grant_id: str) -> Response:
    """Reject with a reason: the money goes back to the contributor. Recorded as the REST
    route's command (``risk.grant.reject``) beside the service's own ``risk_grant_rejected``."""
    require_permission(posted.session, Permission.HANDLE_RISK_CASES)
    ctx, actor = context_of(request), posted.actor
    reason = posted.form.get("reason")

    def work(uow: Any) -> None:
        held_grants.reject(ctx, uow, actor, grant_id, reason)
        fields = {"grant_id": grant_id, "reason": reason}
        log.record_action(ctx, uow, actor, "risk.grant.reject", fields)

    try:
        commit(ctx, work)
    except GongjiError as problem:
        return _held_refused(request, posted, grant_id, problem)
    return see_other(request, "/admin/risk/held-grants?done=grant_refused")


def _held_refused(
    request: Request, posted: Posted, grant_id: str, problem: GongjiError
) -> Response:
    """The list again, the refusal in Chinese beside the grant it concerns."""
    errors = errors_for(problem, i18n.language(request), HELD_FIELDS)
    return _held_page(
        request, posted.session, status=400, errors=errors, active=grant_id,
        values=posted.form.kept(),
    )  # fmt: skip
