"""Family mutual-aid authorizations (家庭共济授权, docs/rules.md §6.2): the contributor binds a
relative with an optional total quota; nothing is earmarked. At settlement the relative's
authorizations are drawn in binding order, up to what each quota has left, straight from the
contributor's personal account (the settlement issue draws; this module binds and revokes).
"""

from __future__ import annotations

from gongji.core.policy import AuthorizationScope
from gongji.core.regions import province_of
from gongji.kernel.context import Actor, ActorKind, Context
from gongji.kernel.errors import Forbidden, NotFound
from gongji.kernel.idgen import new_id
from gongji.mutual_aid.domain import wallet_errors
from gongji.mutual_aid.domain.grant_errors import GrantAmountNotPositive
from gongji.mutual_aid.domain.grants import (
    check_contributor,
    check_recipient,
    check_relationship,
)
from gongji.mutual_aid.service.grants import party_facts
from gongji.mutual_aid.store import mutual_aid_repo as aid_repo
from gongji.people.service import registry
from gongji.people.service.persons import governing_enrolment
from gongji.store.records import AuthorizationRecord
from gongji.store.uow import UnitOfWork

ACTIVE = "active"


def bind(
    ctx: Context, uow: UnitOfWork, actor: Actor, recipient: str, quota_fen: int | None
) -> AuthorizationRecord:
    if actor.kind is not ActorKind.PERSON:
        raise Forbidden()
    contributor = actor.id
    if quota_fen is not None and quota_fen <= 0:
        raise GrantAmountNotPositive()
    aid_repo.lock_wallets(uow.connection, [contributor, recipient])
    if registry.person(uow.connection, recipient) is None:
        raise NotFound(what="亲属")
    check_contributor(party_facts(uow, contributor))
    check_recipient(party_facts(uow, recipient))
    relationship = aid_repo.relationship_between(
        uow.connection, contributor, recipient, ["active", "pending_review"]
    )
    check_relationship(
        relationship is not None, relationship is not None and relationship.status == "active"
    )
    _check_scope(ctx, uow, contributor, recipient)
    existing = aid_repo.authorizations_by(
        uow.connection, contributor=contributor, recipient=recipient, status=ACTIVE
    )
    if existing:
        raise wallet_errors.AuthorizationExists()
    now_us = ctx.now_us()
    authorization_id = new_id("A", now_us)
    aid_repo.insert_authorization(
        uow.connection,
        {
            "id": authorization_id,
            "relationship_id": relationship.id if relationship else "",
            "contributor": contributor,
            "recipient": recipient,
            "quota_fen": quota_fen,
            "used_fen": 0,
            "binding_seq": aid_repo.next_binding_seq(uow.connection, recipient),
            "status": ACTIVE,
            "created_at_us": now_us,
            "ended_at_us": None,
        },
    )
    for psn_no in (contributor, recipient):
        registry.record_event(
            uow.connection,
            psn_no,
            "authorization_bound",
            actor.label,
            now_us,
            authorization_id=authorization_id,
            quota_fen=quota_fen,
        )
    return _authorization(uow, authorization_id)


def _check_scope(ctx: Context, uow: UnitOfWork, contributor: str, recipient: str) -> None:
    mine, theirs = governing_enrolment(uow, contributor), governing_enrolment(uow, recipient)
    if mine is None or theirs is None:
        raise NotFound(what="参保信息")
    scope = ctx.policy(mine.region).authorization_scope
    if scope is AuthorizationScope.PROVINCE and province_of(mine.region) != province_of(
        theirs.region
    ):
        raise wallet_errors.AuthorizationOutOfScope()


def revoke(
    ctx: Context, uow: UnitOfWork, actor: Actor, authorization_id: str
) -> AuthorizationRecord:
    """Either side may end an authorization; what was already drawn stays drawn."""
    found = aid_repo.authorization(uow.connection, authorization_id, lock=True)
    if found is None or actor.id not in (found.contributor, found.recipient):
        raise NotFound(what="授权")
    if found.status != ACTIVE:
        raise wallet_errors.AuthorizationNotActive()
    now_us = ctx.now_us()
    aid_repo.update_authorization(
        uow.connection, authorization_id, status="revoked", ended_at_us=now_us
    )
    for psn_no in (found.contributor, found.recipient):
        registry.record_event(
            uow.connection,
            psn_no,
            "authorization_revoked",
            actor.label,
            now_us,
            authorization_id=authorization_id,
        )
    return _authorization(uow, authorization_id)


def end_for_relationship(ctx: Context, uow: UnitOfWork, relationship_id: str) -> None:
    for found in aid_repo.authorizations_by(
        uow.connection, relationship_id=relationship_id, status=ACTIVE
    ):
        aid_repo.update_authorization(
            uow.connection, found.id, status="ended", ended_at_us=ctx.now_us()
        )


def list_for(uow: UnitOfWork, psn_no: str) -> list[AuthorizationRecord]:
    return aid_repo.authorizations_of(uow.connection, psn_no)


def _authorization(uow: UnitOfWork, authorization_id: str) -> AuthorizationRecord:
    found = aid_repo.authorization(uow.connection, authorization_id)
    if found is None:
        raise NotFound(what="授权")
    return found
