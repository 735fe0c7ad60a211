"""/api/v1/admin find, a person's whole story, the unmasked view, and the audit trail.

Finding and reading a story are recorded in the audit trail (who looked at whom), so these GETs
run in a committed unit of work. The unmasked view is a POST without an Idempotency-Key, like
signing in: its answer holds personal data in clear, which an idempotency record would keep;
each call is a new read, recorded anew.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from gongji.api.deps import get_context, require_permission
from gongji.api.reads import read
from gongji.api.schemas import Request as RequestBody
from gongji.backoffice.http.story_json import story_json, when
from gongji.backoffice.service import audit_search, finder, person_story, unmask
from gongji.kernel.context import Actor, Context
from gongji.kernel.permissions import Permission
from gongji.store.uow import UnitOfWork, run_in_transaction

router = APIRouter(prefix="/api/v1/admin", tags=["operators"])
Ctx = Annotated[Context, Depends(get_context)]
Finder = Annotated[Actor, Depends(require_permission(Permission.FIND_PERSONS))]
Unmasker = Annotated[Actor, Depends(require_permission(Permission.UNMASK_PERSONAL_DATA))]
AuditReader = Annotated[Actor, Depends(require_permission(Permission.VIEW_AUDIT))]
Text = Annotated[str, Query(max_length=64)]


class UnmaskIn(RequestBody):
    reason: Annotated[str, Field(min_length=1, max_length=200)]


class UnmaskOut(BaseModel):
    psn_no: str
    id_number: str
    name: str
    mobile: str | None


def _committed(ctx: Context, work: Any) -> Any:
    def run(uow: UnitOfWork) -> Any:
        result = work(uow)
        uow.commit()
        return result

    return run_in_transaction(ctx.engine, run)


@router.get("/find", summary="Find persons, a grant, a settlement or an institution")
def find(
    operator: Finder,
    ctx: Ctx,
    id_number: Text = "",
    name: Text = "",
    region: Text = "",
    mobile: Text = "",
    psn_no: Text = "",
    grant_id: Text = "",
    setl_id: Text = "",
    institution: Text = "",
) -> dict[str, Any]:
    query = finder.FindQuery(
        id_number, name, region, mobile, psn_no, grant_id, setl_id, institution
    )
    found: finder.Found = _committed(ctx, lambda uow: finder.find(ctx, uow, operator, query))
    return {
        "persons": [
            {"psn_no": p.psn_no, "name": p.name_masked, "id_number": p.id_masked}
            for p in found.persons
        ],
        "grant_id": found.grant.id if found.grant else None,
        "setl_id": found.settlement.setl_id if found.settlement else None,
        "institution": found.institution.code if found.institution else None,
        "institution_settlements": [s.setl_id for s in found.institution_settlements],
    }


@router.get("/persons/{psn_no}", summary="A person's whole story (personal data masked)")
def person(psn_no: str, operator: Finder, ctx: Ctx) -> dict[str, Any]:
    story = _committed(ctx, lambda uow: person_story.viewed_story(ctx, uow, operator, psn_no))
    return story_json(story)


@router.post(
    "/persons/{psn_no}/unmask",
    response_model=UnmaskOut,
    summary="The full ID number, name and mobile, with a reason; recorded in the audit trail",
)
def unmask_person(psn_no: str, body: UnmaskIn, operator: Unmasker, ctx: Ctx) -> UnmaskOut:
    shown = _committed(ctx, lambda uow: unmask.unmask(ctx, uow, operator, psn_no, body.reason))
    return UnmaskOut(psn_no=psn_no, id_number=shown.id_number, name=shown.name, mobile=shown.mobile)


@router.get("/audit", summary="Search the audit trail by operator, person and date")
def audit_records(
    _: AuditReader,
    ctx: Ctx,
    operator: Text = "",
    psn_no: Text = "",
    first: Annotated[date | None, Query(alias="from")] = None,
    last: Annotated[date | None, Query(alias="to")] = None,
    before_seq: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    found = read(
        ctx,
        lambda uow: audit_search.search(
            uow, operator=operator, psn_no=psn_no, first=first, last=last, before_seq=before_seq
        ),
    )
    return {
        "records": [
            {
                "seq": linked.seq,
                "at": when(linked.entry.at_us),
                "actor": linked.entry.actor,
                "action": linked.entry.action,
                "subject": linked.entry.subject,
                "reason": linked.entry.reason,
                "detail": dict(linked.entry.detail),
                "hash": linked.hash,
            }
            for linked in found
        ]
    }
