"""/api/v1/admin for bureau operators: kinship review, wallet freezes, lifecycle events, jobs,
policy in force. Operators never move money: no route here takes an amount to move.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from gongji.api.deps import get_context, require_permission
from gongji.api.reads import read
from gongji.api.schemas import Request as RequestBody
from gongji.api.schemas import parse_amount
from gongji.api.writes import write
from gongji.audit.service import log as audit
from gongji.core.money import format_yuan
from gongji.kernel.context import Actor, Context
from gongji.kernel.permissions import Permission
from gongji.mutual_aid.http.schemas import ReasonIn, RelationshipOut, ReviewIn, WalletOut
from gongji.mutual_aid.service import kinship_withdrawal, lifecycle, relationships, wallets
from gongji.mutual_aid.service.offer_expiry import run_expire_grants
from gongji.store.records import EnrolmentRecord
from gongji.store.uow import UnitOfWork, run_in_transaction

router = APIRouter(prefix="/api/v1/admin", tags=["operators"])
Ctx = Annotated[Context, Depends(get_context)]
Reviewer = Annotated[Actor, Depends(require_permission(Permission.REVIEW_KINSHIP))]
RiskOfficer = Annotated[Actor, Depends(require_permission(Permission.FREEZE_WALLETS))]
Clerk = Annotated[Actor, Depends(require_permission(Permission.CHANGE_ENROLMENT))]
JobRunner = Annotated[Actor, Depends(require_permission(Permission.RUN_JOBS))]
PolicyReader = Annotated[Actor, Depends(require_permission(Permission.VIEW_POLICY))]


class TerminateIn(RequestBody):
    on: date
    reason: Annotated[str, Field(min_length=1, max_length=200)]


class MoveIn(RequestBody):
    new_region: Annotated[str, Field(pattern=r"^\d{6}$")]
    on: date


class DeathIn(RequestBody):
    on: date
    death_certificate_no: Annotated[str, Field(min_length=1, max_length=64)]


class HeirIn(RequestBody):
    name: Annotated[str, Field(min_length=1, max_length=40)]
    id_number_masked: Annotated[str, Field(min_length=1, max_length=18)]
    share: str


class InheritanceIn(RequestBody):
    death_certificate_no: Annotated[str, Field(min_length=1, max_length=64)]
    heirs: Annotated[list[HeirIn], Field(min_length=1, max_length=20)]


class EnrolmentOut(BaseModel):
    psn_no: str
    insutype: str
    region: str
    status: str
    start_date: str
    end_date: str | None


class JobRunOut(BaseModel):
    job: str
    processed: int


class PolicyOut(BaseModel):
    region: str
    on: str
    values: dict[str, str]
    sources: dict[str, str]


@router.get(
    "/relationships/review-queue",
    response_model=list[RelationshipOut],
    summary="Relationships waiting for a kinship review",
)
def review_queue(_: Reviewer, ctx: Ctx) -> list[RelationshipOut]:
    return [RelationshipOut.of(r) for r in read(ctx, lambda uow: relationships.review_queue(uow))]


@router.post(
    "/relationships/{relationship_id}/review",
    response_model=RelationshipOut,
    summary="Approve or reject a kinship after checking documents",
)
def review(
    relationship_id: str, body: ReviewIn, request: Request, operator: Reviewer
) -> JSONResponse:
    return write(
        request,
        operator,
        "admin.review",
        {"id": relationship_id, **body.model_dump()},
        lambda ctx, uow: RelationshipOut.of(
            relationships.review(ctx, uow, operator, relationship_id, body.approve, body.note)
        ),
    )


@router.post(
    "/relationships/{relationship_id}/withdraw-kinship",
    response_model=RelationshipOut,
    summary="Withdraw the kinship a relationship rests on (divorce, false record); it ends",
)
def withdraw_kinship(
    relationship_id: str, body: ReasonIn, request: Request, operator: Reviewer
) -> JSONResponse:
    return write(
        request,
        operator,
        "admin.withdraw_kinship",
        {"id": relationship_id, **body.model_dump()},
        lambda ctx, uow: RelationshipOut.of(
            kinship_withdrawal.withdraw(ctx, uow, operator, relationship_id, body.reason)
        ),
    )


def _freeze_route(frozen: bool) -> None:
    verb = "freeze" if frozen else "unfreeze"

    def route(psn_no: str, body: ReasonIn, request: Request, operator: RiskOfficer) -> JSONResponse:
        return write(
            request,
            operator,
            f"admin.{verb}",
            {"psn_no": psn_no, **body.model_dump()},
            lambda ctx, uow: WalletOut.of(
                wallets.set_frozen(ctx, uow, operator, psn_no, frozen, body.reason)
            ),
        )

    router.add_api_route(
        f"/wallets/{{psn_no}}/{verb}",
        route,
        methods=["POST"],
        response_model=WalletOut,
        summary=f"{verb.capitalize()} a wallet (risk decision, with a reason)",
    )


_freeze_route(True)
_freeze_route(False)


def _enrolment_out(record: EnrolmentRecord) -> EnrolmentOut:
    return EnrolmentOut(
        psn_no=record.psn_no,
        insutype=record.insutype,
        region=record.region,
        status=record.status,
        start_date=record.start_date,
        end_date=record.end_date,
    )


@router.post("/persons/{psn_no}/suspend", response_model=EnrolmentOut, summary="Suspend (暂停)")
def suspend(psn_no: str, body: ReasonIn, request: Request, operator: Clerk) -> JSONResponse:
    return write(
        request,
        operator,
        "admin.suspend",
        {"psn_no": psn_no, **body.model_dump()},
        lambda ctx, uow: _enrolment_out(lifecycle.suspend(ctx, uow, operator, psn_no, body.reason)),
    )


@router.post(
    "/persons/{psn_no}/resume", response_model=EnrolmentOut, summary="Resume after a suspension"
)
def resume(psn_no: str, body: ReasonIn, request: Request, operator: Clerk) -> JSONResponse:
    return write(
        request,
        operator,
        "admin.resume",
        {"psn_no": psn_no, **body.model_dump()},
        lambda ctx, uow: _enrolment_out(lifecycle.resume(ctx, uow, operator, psn_no, body.reason)),
    )


@router.post("/persons/{psn_no}/terminate", response_model=EnrolmentOut, summary="Terminate (终止)")
def terminate(psn_no: str, body: TerminateIn, request: Request, operator: Clerk) -> JSONResponse:
    return write(
        request,
        operator,
        "admin.terminate",
        {"psn_no": psn_no, **body.model_dump(mode="json")},
        lambda ctx, uow: _enrolment_out(
            lifecycle.terminate(ctx, uow, operator, psn_no, body.on, body.reason)
        ),
    )


@router.post(
    "/persons/{psn_no}/move", response_model=EnrolmentOut, summary="Move to another pooling area"
)
def move(psn_no: str, body: MoveIn, request: Request, operator: Clerk) -> JSONResponse:
    return write(
        request,
        operator,
        "admin.move",
        {"psn_no": psn_no, **body.model_dump(mode="json")},
        lambda ctx, uow: _enrolment_out(
            lifecycle.move(ctx, uow, operator, psn_no, body.new_region, body.on)
        ),
    )


@router.post("/persons/{psn_no}/death", summary="Record a death: relationships end, quotas return")
def death(psn_no: str, body: DeathIn, request: Request, operator: Clerk) -> JSONResponse:
    def command(ctx: Context, uow: UnitOfWork) -> dict[str, str]:
        lifecycle.record_death(ctx, uow, operator, psn_no, body.on, body.death_certificate_no)
        return {"psn_no": psn_no, "death_date": body.on.isoformat()}

    return write(
        request,
        operator,
        "admin.death",
        {"psn_no": psn_no, **body.model_dump(mode="json")},
        command,
    )


@router.post(
    "/persons/{psn_no}/inheritance", summary="Pay the account balance out to the heirs, once"
)
def inheritance(
    psn_no: str, body: InheritanceIn, request: Request, operator: Clerk
) -> JSONResponse:
    heirs = [lifecycle.Heir(h.name, h.id_number_masked, parse_amount(h.share)) for h in body.heirs]

    def command(ctx: Context, uow: UnitOfWork) -> dict[str, str]:
        paid = lifecycle.pay_inheritance(
            ctx, uow, operator, psn_no, body.death_certificate_no, heirs
        )
        return {"psn_no": psn_no, "paid": format_yuan(paid)}

    return write(
        request, operator, "admin.inheritance", {"psn_no": psn_no, **body.model_dump()}, command
    )


@router.post(
    "/jobs/expire-grants/run", response_model=JobRunOut, summary="Run the 06:00 return now"
)
def run_expire(operator: JobRunner, ctx: Ctx) -> JobRunOut:
    processed = run_expire_grants(ctx)
    _record(ctx, operator, "admin.job.expire-grants", processed=processed)
    return JobRunOut(job="expire-grants", processed=processed)


def _record(ctx: Context, operator: Actor, action: str, *, processed: int) -> None:
    """A job's run, recorded after it: the job commits its own batches, so the record cannot
    share their transaction; it says what ran and how much it did."""

    def work(uow: UnitOfWork) -> None:
        audit.record(ctx, uow, operator, action, processed=processed)
        uow.commit()

    run_in_transaction(ctx.engine, work)


@router.get(
    "/policy/{region}",
    response_model=PolicyOut,
    summary="The policy in force, and where each value came from",
)
def policy(
    region: str, _: PolicyReader, ctx: Ctx, at: Annotated[date | None, Query()] = None
) -> PolicyOut:
    resolved = ctx.policies.resolve(region, at or ctx.today())
    values = {key: str(getattr(resolved.policy, key)) for key in resolved.sources}
    return PolicyOut(
        region=region, on=resolved.on.isoformat(), values=values, sources=dict(resolved.sources)
    )
