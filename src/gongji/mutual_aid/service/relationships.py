"""Mutual-aid relationships (共济关系, docs/rules.md §5): propose, confirm, reject, dissolve;
kinship verified against the registry a bureau imports, else reviewed by an operator.

States: proposed → (confirm) active when the registry knows the kinship, else pending_review
→ (operator approves) active; proposed → rejected; any open state → dissolved (by either side)
or ended (termination, move, death). Only an active relationship carries money; ending one
returns every unused quota through it and voids its open offers.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from gongji.kernel.context import Actor, ActorKind, Context, Role
from gongji.kernel.errors import Forbidden, NotFound
from gongji.kernel.idgen import new_id
from gongji.mutual_aid.domain import wallet_errors
from gongji.mutual_aid.service import authorizations as authorization_service
from gongji.mutual_aid.service import grants as grant_service
from gongji.mutual_aid.service import guardians as guardian_service
from gongji.mutual_aid.service import notices
from gongji.mutual_aid.service.wallets import find_relative
from gongji.mutual_aid.store import mutual_aid_repo as aid_repo
from gongji.people.domain.kinship import Kinship, check_birth_dates, inverse, parse_kinship
from gongji.people.service import registry
from gongji.people.service.persons import birth_date_of, governing_enrolment, require_person
from gongji.store.records import RelationshipRecord
from gongji.store.rows import RelationshipRow
from gongji.store.uow import UnitOfWork

Action = Callable[[Context, UnitOfWork, Actor, str], RelationshipRecord]
"""The shape of confirm, reject and dissolve."""

REVIEWERS = frozenset({Role.ADMIN, Role.REVIEWER})
REVIEW_NOTE_LENGTH_MAX = 200


class RelationshipStatus(StrEnum):
    PROPOSED = "proposed"
    PENDING_REVIEW = "pending_review"
    ACTIVE = "active"
    REJECTED = "rejected"
    DISSOLVED = "dissolved"
    ENDED = "ended"


OPEN_STATUSES = (
    RelationshipStatus.PROPOSED,
    RelationshipStatus.PENDING_REVIEW,
    RelationshipStatus.ACTIVE,
)


def propose(
    ctx: Context, uow: UnitOfWork, actor: Actor, id_number: str, name: str, kind: str
) -> RelationshipRecord:
    """The actor says: the person with this ID number and name is my ``kind``."""
    _require_person_actor(actor)
    relation = parse_kinship(kind)
    relative = find_relative(ctx, uow, id_number, name)
    if relative == actor.id:
        raise wallet_errors.RelationshipWithSelf()
    _check_birth_dates(ctx, uow, actor.id, relative, relation)
    open_statuses = [s.value for s in OPEN_STATUSES]
    if aid_repo.relationship_between(uow.connection, actor.id, relative, open_statuses) is not None:
        raise wallet_errors.RelationshipExists()
    now_us = ctx.now_us()
    record: RelationshipRow = {
        "id": new_id("R", now_us),
        "proposer": actor.id,
        "relative": relative,
        "kind": relation.value,
        "status": RelationshipStatus.PROPOSED.value,
        "verification": "registry"
        if _registry_knows(uow, actor.id, relative, relation)
        else "none",
        "created_at_us": now_us,
        "updated_at_us": now_us,
        "end_reason": None,
    }
    aid_repo.insert_relationship(uow.connection, record)
    _events(ctx, uow, record["id"], "relationship_proposed", actor, relation=relation.value)
    return _relationship(uow, record["id"])


def _check_birth_dates(
    ctx: Context, uow: UnitOfWork, proposer: str, relative: str, kind: Kinship
) -> None:
    """The gap is read from the proposer's insured region (else the relative's)."""
    me, other = require_person(uow, proposer), require_person(uow, relative)
    enrolment = governing_enrolment(uow, proposer) or governing_enrolment(uow, relative)
    if enrolment is None:
        raise NotFound(what="参保信息")
    policy = ctx.policy(enrolment.region)
    check_birth_dates(
        kind,
        birth_date_of(ctx, me),
        birth_date_of(ctx, other),
        policy.kinship_generation_gap_min_years,
    )


def _registry_knows(uow: UnitOfWork, proposer: str, relative: str, kind: Kinship) -> bool:
    """The registry may hold the record either way round: A's parent is B, or B's child is A."""
    me, other = require_person(uow, proposer), require_person(uow, relative)
    return registry.kinship_recorded(
        uow.connection, me.id_hash, other.id_hash, kind.value
    ) or registry.kinship_recorded(uow.connection, other.id_hash, me.id_hash, inverse(kind).value)


def confirm(
    ctx: Context, uow: UnitOfWork, actor: Actor, relationship_id: str
) -> RelationshipRecord:
    relationship = _for_relative(uow, actor, relationship_id)
    _require_status(relationship, RelationshipStatus.PROPOSED)
    verified = relationship.verification == "registry"
    status = RelationshipStatus.ACTIVE if verified else RelationshipStatus.PENDING_REVIEW
    _set_status(ctx, uow, relationship, status, actor, "relationship_confirmed")
    return _relationship(uow, relationship_id)


def reject(ctx: Context, uow: UnitOfWork, actor: Actor, relationship_id: str) -> RelationshipRecord:
    relationship = _for_relative(uow, actor, relationship_id)
    _require_status(relationship, RelationshipStatus.PROPOSED)
    _set_status(ctx, uow, relationship, RelationshipStatus.REJECTED, actor, "relationship_rejected")
    return _relationship(uow, relationship_id)


def dissolve(
    ctx: Context, uow: UnitOfWork, actor: Actor, relationship_id: str
) -> RelationshipRecord:
    """Either side, at any time: quotas through it go back, open offers are voided."""
    relationship = visible_relationship(uow, actor, relationship_id)
    if actor.kind is not ActorKind.PERSON:
        raise Forbidden()
    end(ctx, uow, relationship, RelationshipStatus.DISSOLVED, "dissolved", actor)
    return _relationship(uow, relationship_id)


def review(
    ctx: Context, uow: UnitOfWork, actor: Actor, relationship_id: str, approve: bool, note: str
) -> RelationshipRecord:
    """An operator checks the documents of a kinship the registry did not know."""
    if actor.kind is not ActorKind.OPERATOR or not actor.roles & REVIEWERS:
        raise Forbidden()
    note = note.strip()
    if not note or len(note) > REVIEW_NOTE_LENGTH_MAX:
        raise wallet_errors.ReasonRequired()
    relationship = aid_repo.relationship(uow.connection, relationship_id, lock=True)
    if relationship is None:
        raise NotFound(what="共济关系")
    _require_status(relationship, RelationshipStatus.PENDING_REVIEW)
    status = RelationshipStatus.ACTIVE if approve else RelationshipStatus.REJECTED
    aid_repo.update_relationship(
        uow.connection, relationship_id, verification="operator" if approve else "none"
    )
    _set_status(
        ctx, uow, relationship, status, actor, "relationship_reviewed", approved=approve, note=note
    )
    return _relationship(uow, relationship_id)


def review_queue(uow: UnitOfWork, limit: int = 100) -> list[RelationshipRecord]:
    return aid_repo.relationships_with_status(
        uow.connection, RelationshipStatus.PENDING_REVIEW.value, limit
    )


def end(
    ctx: Context,
    uow: UnitOfWork,
    relationship: RelationshipRecord,
    status: RelationshipStatus,
    reason: str,
    actor: Actor | None,
) -> None:
    locked = aid_repo.relationship(uow.connection, relationship.id, lock=True)
    if locked is None or locked.status not in OPEN_STATUSES:
        raise wallet_errors.RelationshipStateInvalid(status=locked.status if locked else "unknown")
    grant_service.release_relationship_grants(ctx, uow, relationship.id, reason)
    authorization_service.end_for_relationship(ctx, uow, relationship.id)
    guardian_service.end_for_relationship(ctx, uow, relationship.id)
    aid_repo.update_relationship(uow.connection, relationship.id, end_reason=reason)
    _set_status(ctx, uow, locked, status, actor, "relationship_ended", reason=reason)


def end_all_of(ctx: Context, uow: UnitOfWork, psn_no: str, reason: str) -> int:
    """Termination, a move or death ends every open relationship of the person."""
    found = aid_repo.relationships_of(uow.connection, psn_no, [s.value for s in OPEN_STATUSES])
    for relationship in found:
        end(ctx, uow, relationship, RelationshipStatus.ENDED, reason, None)
    return len(found)


def list_for(uow: UnitOfWork, psn_no: str) -> list[RelationshipRecord]:
    return aid_repo.relationships_of(uow.connection, psn_no)


def visible_relationship(uow: UnitOfWork, actor: Actor, relationship_id: str) -> RelationshipRecord:
    relationship = aid_repo.relationship(uow.connection, relationship_id)
    allowed = actor.kind is ActorKind.OPERATOR or (
        relationship is not None and relationship.involves(actor.id)
    )
    if relationship is None or not allowed:
        raise NotFound(what="共济关系")
    return relationship


def _for_relative(uow: UnitOfWork, actor: Actor, relationship_id: str) -> RelationshipRecord:
    _require_person_actor(actor)
    relationship = aid_repo.relationship(uow.connection, relationship_id, lock=True)
    if relationship is None or relationship.relative != actor.id:
        raise NotFound(what="共济关系")
    return relationship


def _require_status(relationship: RelationshipRecord, wanted: RelationshipStatus) -> None:
    if relationship.status != wanted:
        raise wallet_errors.RelationshipStateInvalid(status=relationship.status)


def _set_status(
    ctx: Context,
    uow: UnitOfWork,
    relationship: RelationshipRecord,
    status: RelationshipStatus,
    actor: Actor | None,
    event: str,
    **detail: object,
) -> None:
    aid_repo.update_relationship(
        uow.connection, relationship.id, status=status.value, updated_at_us=ctx.now_us()
    )
    _events(ctx, uow, relationship.id, event, actor, status=status.value, **detail)


def _events(
    ctx: Context,
    uow: UnitOfWork,
    relationship_id: str,
    kind: str,
    actor: Actor | None,
    **detail: object,
) -> None:
    relationship = _relationship(uow, relationship_id)
    label = actor.label if actor else "system:lifecycle"
    for psn_no in (relationship.proposer, relationship.relative):
        registry.record_event(
            uow.connection,
            psn_no,
            kind,
            label,
            ctx.now_us(),
            relationship_id=relationship_id,
            **detail,
        )
    notices.relationship_event(ctx, uow, relationship, kind, actor)


def _relationship(uow: UnitOfWork, relationship_id: str) -> RelationshipRecord:
    found = aid_repo.relationship(uow.connection, relationship_id)
    if found is None:
        raise NotFound(what="共济关系")
    return found


def _require_person_actor(actor: Actor) -> None:
    if actor.kind is not ActorKind.PERSON:
        raise Forbidden()
