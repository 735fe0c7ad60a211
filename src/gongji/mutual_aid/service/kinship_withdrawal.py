"""An operator withdraws a kinship (docs/rules.md §5): a divorce, a dissolved adoption, a record
found false. The kinship stops verifying anything between the two people — registry records
between them no longer count, in either direction — and the relationship it carried ends like
any other ending: unused quotas go back, open offers are voided, authorizations end.

Withdrawal names a relationship, because that is what an operator sees and what carries money;
a relationship an operator approved on documents is withdrawn the same way as one the registry
verified. The act is recorded in both persons' histories with the operator and the reason.
"""

from __future__ import annotations

from gongji.kernel.context import Actor, ActorKind, Context, Role
from gongji.kernel.errors import Forbidden, NotFound
from gongji.mutual_aid.domain import wallet_errors
from gongji.mutual_aid.service import relationships as relationship_service
from gongji.mutual_aid.service.relationships import RelationshipStatus
from gongji.mutual_aid.store import mutual_aid_repo as aid_repo
from gongji.people.service import registry
from gongji.people.service.persons import require_person
from gongji.store.records import RelationshipRecord
from gongji.store.uow import UnitOfWork

WITHDRAWERS = frozenset({Role.ADMIN, Role.REVIEWER})
REASON_LENGTH_MAX = 200
END_REASON = "kinship_withdrawn"


def withdraw(
    ctx: Context, uow: UnitOfWork, actor: Actor, relationship_id: str, reason: str
) -> RelationshipRecord:
    if actor.kind is not ActorKind.OPERATOR or not actor.roles & WITHDRAWERS:
        raise Forbidden()
    reason = reason.strip()
    if not reason or len(reason) > REASON_LENGTH_MAX:
        raise wallet_errors.ReasonRequired()
    relationship = aid_repo.relationship(uow.connection, relationship_id, lock=True)
    if relationship is None:
        raise NotFound(what="共济关系")
    if relationship.status not in relationship_service.OPEN_STATUSES:
        raise wallet_errors.RelationshipStateInvalid(status=relationship.status)
    proposer = require_person(uow, relationship.proposer)
    relative = require_person(uow, relationship.relative)
    registry.insert_kinship_withdrawal(
        uow.connection,
        {
            "person_hash": proposer.id_hash,
            "relative_hash": relative.id_hash,
            "relationship_id": relationship_id,
            "reason": reason,
            "operator": actor.id,
            "withdrawn_at_us": ctx.now_us(),
        },
    )
    relationship_service.end(ctx, uow, relationship, RelationshipStatus.ENDED, END_REASON, actor)
    for psn_no in (relationship.proposer, relationship.relative):
        registry.record_event(
            uow.connection,
            psn_no,
            "kinship_withdrawn",
            actor.label,
            ctx.now_us(),
            relationship_id=relationship_id,
            reason=reason,
        )
    return relationship_service.visible_relationship(uow, actor, relationship_id)
