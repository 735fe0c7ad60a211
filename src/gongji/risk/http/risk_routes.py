"""/api/v1/admin/risk: risk monitoring for the risk officer's own tools (稽核) — the alert queue,
an alert with its evidence, cases and their steps, a subject's view, the rule runs.

Every route needs ``handle_risk_cases`` (the pages' permission: the risk officer and the
administrator); the case services check the role again. Writes go through ``api.writes.write``:
an Idempotency-Key, one transaction, the operator's command in the audit trail next to the
case's own step record. Persons appear by psn_no only: evidence is row ids, figures and who gave
to whom, never a name or an ID number. Amounts are yuan strings, as everywhere in /api/v1.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictBool

from gongji.api.deps import get_context, require_permission
from gongji.api.reads import read
from gongji.api.schemas import AmountIn, iso, parse_amount
from gongji.api.schemas import Request as RequestBody
from gongji.api.writes import write
from gongji.core.money import format_yuan
from gongji.kernel.context import Actor, Context
from gongji.kernel.permissions import Permission
from gongji.risk.domain.alerts import RuleCode, SubjectKind
from gongji.risk.domain.cases import CaseState
from gongji.risk.service import cases, held_grants, queries
from gongji.risk.service.held_grants import HeldGrant
from gongji.risk.store.alerts_repo import AlertRow, RunRow
from gongji.risk.store.cases_repo import CaseRow
from gongji.store.records import GrantRecord
from gongji.store.uow import UnitOfWork

router = APIRouter(prefix="/api/v1/admin/risk", tags=["risk"])
Ctx = Annotated[Context, Depends(get_context)]
RiskOfficer = Annotated[Actor, Depends(require_permission(Permission.HANDLE_RISK_CASES))]


class FigureOut(BaseModel):
    name: str
    value: int | str


class EvidenceOut(BaseModel):
    grants: list[str]
    settlements: list[str]
    relationships: list[str]
    persons: list[str]
    figures: list[FigureOut]


class AlertOut(BaseModel):
    alert_id: int
    rule: str
    rule_zh: str
    rule_version: int
    reason: str
    subject_kind: str
    subject: str
    region: str
    weight: int
    source: str
    held: bool
    raised_at: str | None
    case_id: str | None
    evidence: EvidenceOut

    @classmethod
    def of(cls, row: AlertRow) -> AlertOut:
        found = row.evidence
        return cls(
            alert_id=row.id, rule=row.rule, rule_zh=RuleCode(row.rule).label_zh,
            rule_version=row.rule_version, reason=row.reason, subject_kind=row.subject_kind,
            subject=row.subject, region=row.region, weight=row.weight, source=row.source,
            held=row.held, raised_at=iso(row.raised_at_us), case_id=row.case_id,
            evidence=EvidenceOut(
                grants=list(found.grants), settlements=list(found.settlements),
                relationships=list(found.relationships), persons=list(found.persons),
                figures=[FigureOut(name=name, value=value) for name, value in found.figures],
            ),
        )  # fmt: skip


class EdgeOut(BaseModel):
    """Money given by ``contributor`` to ``recipient`` in the grants the evidence names."""

    contributor: str
    recipient: str
    amount: str
    grants: int


class AlertDetailOut(AlertOut):
    edges: list[EdgeOut]
    held_grants: list[str]
    """The grant offers this alert held for review (待审核), as linked when it held them."""


class AlertListOut(BaseModel):
    alerts: list[AlertOut]
    next_before_id: int | None
    """Pass as ``before_id`` for the next (older) page; ``None`` on the last one."""


class CaseOut(BaseModel):
    case_id: str
    subject_kind: str
    subject: str
    state: str
    state_zh: str
    opened_by: str
    opened_at: str | None
    updated_at: str | None
    closed_at: str | None
    recovered: str

    @classmethod
    def of(cls, row: CaseRow) -> CaseOut:
        return cls(
            case_id=row.id, subject_kind=row.subject_kind, subject=row.subject, state=row.state,
            state_zh=CaseState(row.state).label_zh, opened_by=row.opened_by,
            opened_at=iso(row.opened_at_us), updated_at=iso(row.updated_at_us),
            closed_at=iso(row.closed_at_us), recovered=format_yuan(row.recovered_fen),
        )  # fmt: skip


class TrailStepOut(BaseModel):
    at: str | None
    actor: str
    action: str
    reason: str | None


class CaseDetailOut(CaseOut):
    score: int
    alerts: list[AlertOut]
    edges: list[EdgeOut]
    trail: list[TrailStepOut]


class SubjectOut(BaseModel):
    subject_kind: str
    subject: str
    score: int
    alerts: list[AlertOut]
    cases: list[CaseOut]


class RunOut(BaseModel):
    run_id: int
    mode: str
    window_start: str | None
    window_end: str | None
    changes_after_seq: int | None
    watermark_seq: int
    persons_judged: int
    grants_read: int
    alerts_raised: int
    started_at: str | None
    finished_at: str | None
    seconds: float

    @classmethod
    def of(cls, run_id: int, row: RunRow) -> RunOut:
        return cls(
            run_id=run_id, mode=row.mode, window_start=iso(row.window_start_us),
            window_end=iso(row.window_end_us), changes_after_seq=row.changes_after_seq,
            watermark_seq=row.watermark_seq, persons_judged=row.persons_judged,
            grants_read=row.grants_read, alerts_raised=row.alerts_raised,
            started_at=iso(row.started_at_us), finished_at=iso(row.finished_at_us),
            seconds=(row.finished_at_us - row.started_at_us) / 1_000_000,
        )  # fmt: skip


class RunStatusOut(BaseModel):
    next_run: str
    """``full`` before the first run, ``incremental`` after."""
    watermark_seq: int | None
    runs: list[RunOut]


class CloseIn(RequestBody):
    confirmed: StrictBool
    """``true``: 属实 (confirmed); ``false``: 不成立 (unfounded)."""
    reason: Annotated[str, Field(min_length=1, max_length=200)]
    recovered: AmountIn | None = None
    """What was recovered (追回), yuan; only on a confirmed close."""


class RecoveryIn(RequestBody):
    amount: AmountIn


class RejectIn(RequestBody):
    reason: Annotated[str, Field(min_length=1, max_length=200)]


class HeldGrantOut(BaseModel):
    """A grant held for review (待审核), or as the decision left it."""

    grant_id: str
    contributor: str
    recipient: str
    amount: str
    state: str
    offered_at: str | None
    expires_at: str | None
    """The acceptance deadline of an offer (a released grant's counts from the release); none
    while held or after the decision."""

    @classmethod
    def of(cls, grant: GrantRecord) -> HeldGrantOut:
        return cls(
            grant_id=grant.id, contributor=grant.contributor, recipient=grant.recipient,
            amount=format_yuan(grant.amount_fen), state=grant.state,
            offered_at=iso(grant.offered_at_us),
            expires_at=iso(grant.expires_at_us) if grant.state == "offered" else None,
        )  # fmt: skip


class HoldingAlertOut(BaseModel):
    """A write-time alert that held the grant (its evidence: ``GET /alerts/{alert_id}``)."""

    alert_id: int
    rule: str
    reason: str
    subject: str


class WaitingGrantOut(HeldGrantOut):
    held_by: list[HoldingAlertOut]
    """The alerts that held it, as the write-time check linked them when it held the offer."""

    @classmethod
    def waiting(cls, held: HeldGrant) -> WaitingGrantOut:
        return cls(
            **HeldGrantOut.of(held.grant).model_dump(),
            held_by=[
                HoldingAlertOut(alert_id=a.id, rule=a.rule, reason=a.reason, subject=a.subject)
                for a in held.alerts
            ],
        )


def _edges(uow: UnitOfWork, alerts: list[AlertRow]) -> list[EdgeOut]:
    return [
        EdgeOut(contributor=e.giver, recipient=e.taker, amount=format_yuan(e.amount_fen),
                grants=e.grants)
        for e in queries.evidence_edges(uow, alerts)
    ]  # fmt: skip


@router.get("/alerts", response_model=AlertListOut, summary="The alert queue, newest first")
def alert_list(
    _: RiskOfficer,
    ctx: Ctx,
    rule: Annotated[RuleCode | None, Query()] = None,
    subject: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    include_cased: Annotated[bool, Query()] = False,
    before_id: Annotated[int | None, Query(ge=1)] = None,
) -> AlertListOut:
    """Alerts not yet in a case (``include_cased=true``: all), by rule family and subject."""
    found = read(
        ctx,
        lambda uow: queries.alert_queue(
            uow, open_only=not include_cased, rule=rule.value if rule else None, subject=subject,
            before_id=before_id,
        ),
    )  # fmt: skip
    full_page = len(found) == queries.QUEUE_LENGTH
    return AlertListOut(
        alerts=[AlertOut.of(a) for a in found],
        next_before_id=found[-1].id if full_page else None,
    )


@router.get(
    "/alerts/{alert_id}",
    response_model=AlertDetailOut,
    summary="One alert with its evidence and the graph of who gave to whom",
)
def alert_detail(alert_id: int, _: RiskOfficer, ctx: Ctx) -> AlertDetailOut:
    def work(uow: UnitOfWork) -> AlertDetailOut:
        found = queries.alert(uow, alert_id)
        return AlertDetailOut(
            **AlertOut.of(found).model_dump(), edges=_edges(uow, [found]),
            held_grants=queries.grants_held_by(uow, alert_id),
        )  # fmt: skip

    return read(ctx, work)


@router.post(
    "/alerts/{alert_id}/case",
    response_model=CaseOut,
    status_code=201,
    summary="Open a case (立案) on the alert's subject, gathering its alerts not yet in one",
)
def open_case(alert_id: int, request: Request, officer: RiskOfficer) -> JSONResponse:
    return write(
        request,
        officer,
        "risk.case.open",
        {"alert_id": alert_id},
        lambda ctx, uow: CaseOut.of(cases.open_case(ctx, uow, officer, alert_id)),
        status_code=201,
    )


@router.get("/cases", response_model=list[CaseOut], summary="Cases, newest first")
def case_list(_: RiskOfficer, ctx: Ctx) -> list[CaseOut]:
    return [CaseOut.of(c) for c in read(ctx, queries.case_list)]


@router.get(
    "/cases/{case_id}",
    response_model=CaseDetailOut,
    summary="A case: its alerts, score, evidence graph and every step taken",
)
def case_detail(case_id: str, _: RiskOfficer, ctx: Ctx) -> CaseDetailOut:
    def work(uow: UnitOfWork) -> CaseDetailOut:
        detail = queries.case_detail(uow, case_id)
        return CaseDetailOut(
            **CaseOut.of(detail.case).model_dump(),
            score=detail.score,
            alerts=[AlertOut.of(a) for a in detail.alerts],
            edges=_edges(uow, detail.alerts),
            trail=[TrailStepOut(at=iso(t.at_us), actor=t.actor, action=t.action,
                                reason=t.reason) for t in detail.trail],
        )  # fmt: skip

    return read(ctx, work)


def _step_route(verb: str, summary: str, step: Any) -> None:
    """``POST /cases/{case_id}/{verb}``: a step that takes nothing but the case."""

    def route(case_id: str, request: Request, officer: RiskOfficer) -> JSONResponse:
        return write(
            request,
            officer,
            f"risk.case.{verb}",
            {"case_id": case_id},
            lambda ctx, uow: CaseOut.of(step(ctx, uow, officer, case_id)),
        )

    router.add_api_route(
        f"/cases/{{case_id}}/{verb}", route, methods=["POST"], response_model=CaseOut,
        summary=summary,
    )  # fmt: skip


_step_route("investigate", "Start investigating (稽核中)", cases.investigate)
_step_route("freeze-wallet", "Freeze the wallet of the case's person", cases.freeze_wallet)
_step_route(
    "suspend-institution",
    "Suspend the case's institution's direct settlement",
    cases.suspend_institution,
)


@router.post(
    "/cases/{case_id}/close",
    response_model=CaseOut,
    summary="Close as confirmed (属实, with what was recovered) or unfounded (不成立)",
)
def close_case(case_id: str, body: CloseIn, request: Request, officer: RiskOfficer) -> JSONResponse:
    def command(ctx: Context, uow: UnitOfWork) -> CaseOut:
        recovered = None if body.recovered is None else parse_amount(body.recovered)
        closed = cases.close(ctx, uow, officer, case_id, body.confirmed, body.reason, recovered)
        return CaseOut.of(closed)

    return write(
        request, officer, "risk.case.close", {"case_id": case_id, **body.model_dump()}, command
    )


@router.post(
    "/cases/{case_id}/recoveries",
    response_model=CaseOut,
    summary="Record a further amount recovered (追回) on a case closed as confirmed",
)
def record_recovery(
    case_id: str, body: RecoveryIn, request: Request, officer: RiskOfficer
) -> JSONResponse:
    def command(ctx: Context, uow: UnitOfWork) -> CaseOut:
        amount = parse_amount(body.amount)
        return CaseOut.of(cases.record_recovery(ctx, uow, officer, case_id, amount))

    return write(
        request,
        officer,
        "risk.case.recovery",
        {"case_id": case_id, **body.model_dump()},
        command,
    )


def _subject(ctx: Context, kind: SubjectKind, subject: str) -> SubjectOut:
    view = read(ctx, lambda uow: queries.subject_view(uow, kind.value, subject))
    return SubjectOut(
        subject_kind=view.subject_kind,
        subject=view.subject,
        score=view.score,
        alerts=[AlertOut.of(a) for a in view.alerts],
        cases=[CaseOut.of(c) for c in view.cases],
    )


@router.get(
    "/institutions/{code}",
    response_model=SubjectOut,
    summary="An institution's risk: its score, alerts and cases",
)
def institution_view(code: str, _: RiskOfficer, ctx: Ctx) -> SubjectOut:
    return _subject(ctx, SubjectKind.INSTITUTION, code)


@router.get(
    "/persons/{psn_no}",
    response_model=SubjectOut,
    summary="A person's risk: their score, alerts and cases",
)
def person_view(psn_no: str, _: RiskOfficer, ctx: Ctx) -> SubjectOut:
    return _subject(ctx, SubjectKind.PERSON, psn_no)


@router.get(
    "/runs",
    response_model=RunStatusOut,
    summary="The rule runs: the last ones and where the next incremental run starts",
)
def run_status(_: RiskOfficer, ctx: Ctx) -> RunStatusOut:
    status = read(ctx, queries.run_status)
    return RunStatusOut(
        next_run="full" if status.watermark_seq is None else "incremental",
        watermark_seq=status.watermark_seq,
        runs=[RunOut.of(run_id, row) for run_id, row in status.runs],
    )


@router.get(
    "/held-grants",
    response_model=list[WaitingGrantOut],
    summary="Grants a write-time check held for review (待审核), oldest first, with the alerts "
    "that held each",
)
def held_grant_list(_: RiskOfficer, ctx: Ctx) -> list[WaitingGrantOut]:
    return [WaitingGrantOut.waiting(h) for h in read(ctx, held_grants.held_with_alerts)]


@router.post(
    "/held-grants/{grant_id}/release",
    response_model=HeldGrantOut,
    summary="Release a held grant: it becomes an offer with a whole acceptance period",
)
def release_grant(grant_id: str, request: Request, officer: RiskOfficer) -> JSONResponse:
    return write(
        request,
        officer,
        "risk.grant.release",
        {"grant_id": grant_id},
        lambda ctx, uow: HeldGrantOut.of(held_grants.release(ctx, uow, officer, grant_id)),
    )


@router.post(
    "/held-grants/{grant_id}/reject",
    response_model=HeldGrantOut,
    summary="Reject a held grant: its money goes back to the contributor",
)
def reject_grant(
    grant_id: str, body: RejectIn, request: Request, officer: RiskOfficer
) -> JSONResponse:
    return write(
        request,
        officer,
        "risk.grant.reject",
        {"grant_id": grant_id, **body.model_dump()},
        lambda ctx, uow: HeldGrantOut.of(
            held_grants.reject(ctx, uow, officer, grant_id, body.reason)
        ),
    )
