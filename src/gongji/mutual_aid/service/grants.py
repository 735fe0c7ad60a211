"""Grants (共济额度, docs/rules.md §6.1): offer, accept, reject, revoke, return, and the 06:00
return of offers not accepted.

Money: an offer is a pending ledger transfer from the contributor's personal account into the
grant's own quota account (linked, one per account part), so the money is reserved but not yet
moved; accept posts it, reject and expiry void it; revoke and return move what is left in the
quota back. Decisions that read then write (the day's count, the open offer, the balance) run
with both wallets locked in person-number order, so concurrent commands see each other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from gongji.core.clock import from_us, to_us
from gongji.core.enrolment import INSUTYPE_EMPLOYEE, EnrolmentStatus, WalletStatus
from gongji.core.policy import Policy
from gongji.kernel import screening
from gongji.kernel.context import BUSINESS_TZ, Actor, ActorKind, Context
from gongji.kernel.errors import Forbidden, LedgerRefused, NotFound
from gongji.kernel.idgen import new_id
from gongji.kernel.screening import GrantOffered
from gongji.ledger.types import CreateTransferResult
from gongji.mutual_aid.domain import grant_errors
from gongji.mutual_aid.domain.grants import (
    GrantState,
    OfferFacts,
    PartyFacts,
    check_accept,
    check_hold_decision,
    check_offer,
    check_recipient,
    check_relationship,
    check_revoke,
    offer_expires_at,
    released_offer_expires_at,
    split_sources,
)
from gongji.mutual_aid.service import grant_money, notices
from gongji.mutual_aid.service.accounts import (
    PartsAvailable,
    grants_received_read,
    parts_available,
    parts_reads,
    quotas_received_fen,
    quotas_received_reads,
)
from gongji.mutual_aid.store import mutual_aid_repo as aid_repo
from gongji.people.service import persons, registry
from gongji.people.service.persons import governing_enrolment
from gongji.store.raw import DriverRead, Read
from gongji.store.records import (
    EnrolmentRecord,
    GrantRecord,
    PersonRecord,
    RelationshipRecord,
    WalletRecord,
)
from gongji.store.rows import GrantRow
from gongji.store.uow import UnitOfWork

OK = CreateTransferResult.OK
Action = Callable[[Context, UnitOfWork, Actor, str], GrantRecord]
"""The shape of accept, reject, revoke and give_back: one grant, by its id, for an actor."""
OPEN_STATES = (GrantState.OFFERED.value, GrantState.HELD.value, GrantState.ACTIVE.value)
"""A grant still in force: its money reserved (offered, held) or in the recipient's quota."""
WAITING_STATES = (GrantState.OFFERED.value, GrantState.HELD.value)
"""An offer not yet accepted: its money is a pending reservation."""
_RELATED = ["active", "pending_review"]
"""The states of a relationship that stands between two people: one still under review is read
too, so that the rules refuse it with its own reason (``relationship_not_verified``)."""


def party_facts(uow: UnitOfWork, psn_no: str) -> PartyFacts:
    return _party_facts(
        governing_enrolment(uow, psn_no),
        registry.person(uow.connection, psn_no),
        aid_repo.wallet(uow.connection, psn_no),
    )


def _party_facts(
    enrolment: EnrolmentRecord | None, person: PersonRecord | None, wallet: WalletRecord | None
) -> PartyFacts:
    status = EnrolmentStatus(enrolment.status) if enrolment else None
    if person is not None and person.death_date:
        status = EnrolmentStatus.TERMINATED
    return PartyFacts(
        enrolment_status=status,
        insutype=enrolment.insutype if enrolment else None,
        has_personal_account=enrolment is not None and enrolment.insutype == INSUTYPE_EMPLOYEE,
        wallet_status=WalletStatus(wallet.status) if wallet else None,
    )


def offer(
    ctx: Context, uow: UnitOfWork, actor: Actor, recipient: str, amount_fen: int
) -> GrantRecord:
    """Earmark ``amount_fen`` of the actor's personal account for ``recipient``.

    Every fact the offer's rules read is read once, under both wallets' locks; on PostgreSQL
    in three round trips before the COMMIT: the locks with those facts; the contributor's
    accounts (locked) with the quotas they received; the new grant and its quota account with
    risk's screen's reads and the ledger's (docs/architecture.md)."""
    contributor = _person(actor)
    local_now = ctx.local_now()
    gathered = _gather_offer(ctx, uow, contributor, recipient, amount_fen, local_now)
    check_offer(gathered.facts, gathered.policy)
    relationship, parts = gathered.relationship, gathered.parts
    if relationship is None:
        raise grant_errors.RelationshipNotActive()
    from_current, from_earlier = split_sources(
        amount_fen, parts.current_fen, parts.earlier_fen, gathered.policy
    )
    record = _new_grant(
        local_now,
        relationship_id=relationship.id,
        contributor=contributor,
        recipient=recipient,
        contributor_region=gathered.region,
        amount_fen=amount_fen,
        from_current_fen=from_current,
        from_earlier_fen=from_earlier,
        expires_at_us=to_us(offer_expires_at(local_now, gathered.policy)),
    )
    uow.defer_writes()  # PostgreSQL: the writes below go with the next read or the COMMIT
    aid_repo.insert_grant(uow.connection, record)
    created = GrantRecord(**record)
    grant_money.open_quota(ctx, uow, created)
    offered = GrantOffered(created.id, contributor, recipient, amount_fen, ctx.now_us())
    uow.prefetch([*screening.reads_ahead(ctx, offered), *grant_money.reserve_reads(ctx, created)])
    held = screening.screen(ctx, uow, offered)  # risk's write-time checks (docs/rules.md §12.4)
    if held:
        aid_repo.update_grant(uow.connection, created.id, state=GrantState.HELD.value)
        created = replace(created, state=GrantState.HELD.value)
    grant_money.reserve(ctx, uow, created, held=held)
    kind = "grant_held" if held else "grant_offered"
    _events(ctx, uow, created, kind, actor, names=gathered.names, amount_fen=amount_fen)
    return created


@dataclass(frozen=True, slots=True)
class _Gathered:
    """What an offer's rules judge, and what making the offer then needs of what was read."""

    facts: OfferFacts
    policy: Policy
    region: str  # the contributor's insured region
    relationship: RelationshipRecord | None
    parts: PartsAvailable
    names: dict[str, str]  # the contributor's masked name, for the recipient's notice


def _gather_offer(
    ctx: Context,
    uow: UnitOfWork,
    contributor: str,
    recipient: str,
    amount_fen: int,
    local_now: datetime,
) -> _Gathered:
    """The offer's facts, under both wallets' locks; an unknown recipient or a contributor not
    insured is refused here, before any rule."""
    today = local_now.date()
    uow.prefetch(_offer_reads(contributor, recipient, today))
    aid_repo.lock_wallets(uow.connection, [contributor, recipient])
    recipient_person = registry.person(uow.connection, recipient)
    if recipient_person is None:
        raise NotFound(what="亲属")
    enrolment = governing_enrolment(uow, contributor)
    if enrolment is None:
        raise grant_errors.EnrolmentNotActive(role="共济人")
    policy = ctx.policy(enrolment.region, today)
    relationship = aid_repo.relationship_between(uow.connection, contributor, recipient, _RELATED)
    contributor_person = registry.person(uow.connection, contributor)
    contributor_facts = _party_facts(
        enrolment, contributor_person, aid_repo.wallet(uow.connection, contributor)
    )
    recipient_facts = _party_facts(
        governing_enrolment(uow, recipient),
        recipient_person,
        aid_repo.wallet(uow.connection, recipient),
    )
    offered_today = aid_repo.offers_on(uow.connection, contributor, today.isoformat())
    open_offer = bool(
        aid_repo.grants_by(uow.connection, **_open_offers(contributor, recipient), limit=1)
    )
    granted_month = aid_repo.granted_between(uow.connection, contributor, *_month(today))
    granted_year = aid_repo.granted_between(uow.connection, contributor, *_year(today))
    received = aid_repo.grants_by(uow.connection, recipient=contributor, states=["active"])
    uow.prefetch(
        [
            *parts_reads(ctx, enrolment.region, contributor, lock=True),
            *quotas_received_reads(ctx, received),
        ]
    )
    parts = parts_available(ctx, uow, enrolment.region, contributor, lock=True)
    facts = OfferFacts(
        amount_fen=amount_fen,
        local_now=local_now,
        contributor=contributor_facts,
        recipient=recipient_facts,
        same_person=contributor == recipient,
        relationship_active=relationship is not None,
        relationship_verified=relationship is not None and relationship.status == "active",
        offers_today=_offers_today(offered_today, policy),
        open_offer_to_recipient=open_offer,
        granted_this_month_fen=granted_month,
        granted_this_year_fen=granted_year,
        own_available_fen=parts.for_mutual_aid(policy),
        received_quota_fen=quotas_received_fen(ctx, uow, contributor, received),
    )
    names = {contributor: contributor_person.name_masked} if contributor_person else {}
    return _Gathered(facts, policy, enrolment.region, relationship, parts, names)


def _party_facts_reads(psn_no: str) -> list[Read]:
    """What :func:`party_facts` reads, to make ahead (``uow.prefetch``)."""
    return [
        persons.governing_enrolment_read(psn_no),
        persons.person_read(psn_no),
        aid_repo.wallet_read(psn_no),
    ]


def _offer_reads(contributor: str, recipient: str, today: date) -> list[Read]:
    """Everything :func:`offer` reads before it knows the contributor's region, the wallets'
    locks first: none needs another's answer."""
    return [
        aid_repo.lock_wallets_read([contributor, recipient]),
        *_party_facts_reads(contributor),
        *_party_facts_reads(recipient),
        aid_repo.relationship_between_read(contributor, recipient, _RELATED),
        aid_repo.offers_on_read(contributor, today.isoformat()),
        aid_repo.grants_read(**_open_offers(contributor, recipient), limit=1),
        aid_repo.granted_between_read(contributor, *_month(today)),
        aid_repo.granted_between_read(contributor, *_year(today)),
        grants_received_read(contributor),
    ]


def _open_offers(contributor: str, recipient: str) -> dict[str, Any]:
    """The filters of the contributor's offers to the recipient not yet accepted."""
    return {"contributor": contributor, "recipient": recipient, "states": list(WAITING_STATES)}


def _person(actor: Actor) -> str:
    if actor.kind is not ActorKind.PERSON:
        raise Forbidden()
    return actor.id


def _offers_today(offered: dict[str, int], policy: Policy) -> int:
    """The day's offers as the policy counts them: every one, or only those not returned."""
    if policy.grants_per_day_count_rejected_and_expired:
        return sum(offered.values())
    counted = (*OPEN_STATES, GrantState.CLOSED.value)
    return sum(n for state, n in offered.items() if state in counted)


def _month(day: date) -> tuple[str, str]:
    return day.replace(day=1).isoformat(), day.isoformat()


def _year(day: date) -> tuple[str, str]:
    return day.replace(month=1, day=1).isoformat(), day.isoformat()


def _new_grant(
    local_now: datetime,
    *,
    relationship_id: str,
    contributor: str,
    recipient: str,
    contributor_region: str,
    amount_fen: int,
    from_current_fen: int,
    from_earlier_fen: int,
    expires_at_us: int,
) -> GrantRow:
    """A grant row as offered at ``local_now`` (the instant the offer's rules were checked)."""
    now_us = to_us(local_now)
    return {
        "id": new_id("G", now_us),
        "relationship_id": relationship_id,
        "contributor": contributor,
        "recipient": recipient,
        "contributor_region": contributor_region,
        "amount_fen": amount_fen,
        "from_current_fen": from_current_fen,
        "from_earlier_fen": from_earlier_fen,
        "state": GrantState.OFFERED.value,
        "business_date": local_now.date().isoformat(),
        "offered_at_us": now_us,
        "expires_at_us": expires_at_us,
        "accepted_at_us": None,
        "closed_at_us": None,
        "close_reason": None,
    }


def accept(ctx: Context, uow: UnitOfWork, actor: Actor, grant_id: str) -> GrantRecord:
    """The recipient accepts the offer: its reservation is posted into the grant's quota.
    On PostgreSQL the relationship, the recipient's facts and what the ledger must know go
    with the wallets' locks, in one round trip."""

    def read_with(grant: GrantRecord) -> list[Read | DriverRead]:
        return [
            aid_repo.relationship_read(grant.relationship_id),
            *_party_facts_reads(grant.recipient),
            *grant_money.resolve_reads(ctx, grant, post=True),
        ]

    grant = _locked_grant(uow, actor, grant_id, role="recipient", read_with=read_with)
    local_now = ctx.local_now()
    check_accept(
        GrantState(grant.state), local_now, from_us(grant.expires_at_us).astimezone(BUSINESS_TZ)
    )
    relationship = aid_repo.relationship(uow.connection, grant.relationship_id)
    check_relationship(
        relationship is not None and relationship.status in _RELATED,
        relationship is not None and relationship.status == "active",
    )
    check_recipient(party_facts(uow, grant.recipient))
    uow.defer_writes()  # PostgreSQL: the writes below go with the next read or the COMMIT
    results = grant_money.resolve_offer(ctx, uow, grant, post=True)
    if CreateTransferResult.PENDING_TRANSFER_EXPIRED in results:
        raise grant_errors.GrantOfferExpired()
    if any(result is not OK for result in results):
        raise LedgerRefused(f"the acceptance of {grant.id}", results)
    now_us = ctx.now_us()
    aid_repo.update_grant(
        uow.connection, grant.id, state=GrantState.ACTIVE.value, accepted_at_us=now_us
    )
    _events(ctx, uow, grant, "grant_accepted", actor)
    return replace(grant, state=GrantState.ACTIVE.value, accepted_at_us=now_us)


def reject(ctx: Context, uow: UnitOfWork, actor: Actor, grant_id: str) -> GrantRecord:
    grant = _locked_grant(uow, actor, grant_id, role="recipient")
    if grant.state != GrantState.OFFERED:
        raise grant_errors.GrantNotOffered(state=grant.state)
    rejected = _void_offer(ctx, uow, grant, GrantState.REJECTED, "rejected")
    _events(ctx, uow, grant, "grant_rejected", actor)
    return rejected


def revoke(ctx: Context, uow: UnitOfWork, actor: Actor, grant_id: str) -> GrantRecord:
    """The contributor takes back what is left, allowed only N days after acceptance."""
    grant = _locked_grant(uow, actor, grant_id, role="contributor")
    policy = ctx.policy(grant.contributor_region)
    accepted_on = from_us(grant.accepted_at_us or 0).astimezone(BUSINESS_TZ).date()
    check_revoke(GrantState(grant.state), accepted_on, ctx.today(), policy)
    returned, revoked = return_quota(ctx, uow, grant, "revoked")
    _events(ctx, uow, grant, "grant_revoked", actor, returned_fen=returned)
    return revoked


def give_back(ctx: Context, uow: UnitOfWork, actor: Actor, grant_id: str) -> GrantRecord:
    """The recipient returns what is left of an active grant (退回)."""
    grant = _locked_grant(uow, actor, grant_id, role="recipient")
    if grant.state != GrantState.ACTIVE:
        raise grant_errors.GrantNotActive(state=grant.state)
    returned, given_back = return_quota(ctx, uow, grant, "returned")
    _events(ctx, uow, grant, "grant_returned", actor, returned_fen=returned)
    return given_back


def return_quota(
    ctx: Context, uow: UnitOfWork, grant: GrantRecord, reason: str
) -> tuple[int, GrantRecord]:
    """Move what is left in an active grant's quota back to the contributor; close the grant.
    What was moved back, and the grant as closed."""
    left = grant_money.return_left(ctx, uow, grant)
    return left, _close(ctx, uow, grant, GrantState.CLOSED, reason)


def _void_offer(
    ctx: Context, uow: UnitOfWork, grant: GrantRecord, state: GrantState, reason: str
) -> GrantRecord:
    grant_money.void_offer(ctx, uow, grant)
    return _close(ctx, uow, grant, state, reason)


def _close(
    ctx: Context, uow: UnitOfWork, grant: GrantRecord, state: GrantState, reason: str
) -> GrantRecord:
    """The grant closed as written: the caller answers with it, without reading it back (on
    PostgreSQL that read was a round trip; the write now goes with the ``COMMIT``)."""
    closed = replace(grant, state=state.value, closed_at_us=ctx.now_us(), close_reason=reason)
    aid_repo.update_grant(
        uow.connection,
        grant.id,
        state=closed.state,
        closed_at_us=closed.closed_at_us,
        close_reason=closed.close_reason,
    )
    return closed


def release_relationship_grants(
    ctx: Context, uow: UnitOfWork, relationship_id: str, reason: str
) -> int:
    """When a relationship ends: void its open offers and return its active quotas."""
    grants = aid_repo.grants_by(
        uow.connection, relationship_id=relationship_id, states=list(OPEN_STATES), lock=True
    )
    for grant in grants:
        if grant.state in WAITING_STATES:
            _void_offer(ctx, uow, grant, GrantState.CLOSED, reason)
        else:
            return_quota(ctx, uow, grant, reason)
        _events(ctx, uow, grant, "grant_closed", None, reason=reason)
    return len(grants)


def expire_due_offers(ctx: Context, uow: UnitOfWork, limit: int = 500) -> int:
    """The 06:00 return: offers past their deadline become expired and their money is released.

    Safe to run twice, concurrently with accepts, and after a kill: only offers still ``offered``
    are touched (rows locked), and the ledger resolves each pending transfer once.
    """
    due = aid_repo.due_offers(uow.connection, ctx.now_us(), limit)
    if not due:
        return 0
    ctx.ledger.expire_pending_in(uow)
    for grant in due:
        grant_money.void_at_deadline(ctx, uow, grant)  # a released grant's has no timeout
        _close(ctx, uow, grant, GrantState.EXPIRED, "expired")
        _events(ctx, uow, grant, "grant_expired", None)
    return len(due)


def release_held(ctx: Context, uow: UnitOfWork, actor: Actor, grant_id: str) -> GrantRecord:
    """A risk officer's release of a held grant (§6.1.1): it becomes the offer it would have
    been, with a whole acceptance period from now; the recipient is told as of a new offer.
    The caller (risk) checks the officer's role and records the decision."""
    grant = _held_grant(uow, grant_id)
    local_now = ctx.local_now()
    policy = ctx.policy(grant.contributor_region, local_now.date())
    expires = to_us(released_offer_expires_at(local_now, policy))
    released = replace(grant, state=GrantState.OFFERED.value, expires_at_us=expires)
    aid_repo.update_grant(
        uow.connection, grant.id, state=released.state, expires_at_us=released.expires_at_us
    )
    _events(ctx, uow, released, "grant_offered", actor, released=True)
    return released


def reject_held(
    ctx: Context, uow: UnitOfWork, actor: Actor, grant_id: str, reason: str
) -> GrantRecord:
    """A risk officer's rejection of a held grant (§6.1.1): the reservation is voided, so the
    money is back in the contributor's account, and the contributor is told it came back."""
    grant = _held_grant(uow, grant_id)
    rejected = _void_offer(ctx, uow, grant, GrantState.REJECTED, "risk_rejected")
    _events(ctx, uow, grant, "grant_rejected", actor, reason=reason)
    return rejected


def held_grants(uow: UnitOfWork, limit: int = 200) -> list[GrantRecord]:
    """Grants waiting for a risk officer's decision, oldest first."""
    return aid_repo.grants_by(uow.connection, states=[GrantState.HELD.value], limit=limit)


def _held_grant(uow: UnitOfWork, grant_id: str) -> GrantRecord:
    found = _grant(uow, grant_id)
    aid_repo.lock_wallets(uow.connection, [found.contributor, found.recipient])
    grant = _grant(uow, grant_id, lock=True)
    check_hold_decision(GrantState(grant.state))
    return grant


def _grant(uow: UnitOfWork, grant_id: str, *, lock: bool = False) -> GrantRecord:
    found = aid_repo.grant(uow.connection, grant_id, lock=lock)
    if found is None:
        raise NotFound(what="共济记录")
    return found


def _locked_grant(
    uow: UnitOfWork,
    actor: Actor,
    grant_id: str,
    *,
    role: str,
    read_with: Callable[[GrantRecord], Sequence[Read | DriverRead]] | None = None,
) -> GrantRecord:
    """The actor's grant (as ``role``), read again under both parties' wallet locks.

    Wallets first, in person-number order, then the grant row: the order every grant command
    takes, so two commands on one family queue instead of deadlocking. ``read_with``: what the
    command reads next, named from the grant as first read (its parties, its relationship and
    its amounts never change), read with the locks in one round trip on PostgreSQL.
    """
    _person(actor)
    grant = _grant_for(uow, grant_id, actor, role=role)
    parties = [grant.contributor, grant.recipient]
    uow.prefetch(
        [
            aid_repo.lock_wallets_read(parties),
            aid_repo.grant_read(grant_id, lock=True),
            *(read_with(grant) if read_with else ()),
        ]
    )
    aid_repo.lock_wallets(uow.connection, parties)
    return _grant(uow, grant_id, lock=True)


def _grant_for(uow: UnitOfWork, grant_id: str, actor: Actor, *, role: str) -> GrantRecord:
    """The grant, if the actor is its contributor or recipient as ``role`` requires; else 404."""
    grant = aid_repo.grant(uow.connection, grant_id)
    if grant is None or getattr(grant, role) != actor.id:
        raise NotFound(what="共济记录")
    return grant


def grant_visible_to(uow: UnitOfWork, actor: Actor, grant_id: str) -> GrantRecord:
    grant = aid_repo.grant(uow.connection, grant_id)
    allowed = actor.kind is ActorKind.OPERATOR or (
        grant is not None and actor.id in (grant.contributor, grant.recipient)
    )
    if grant is None or not allowed:
        raise NotFound(what="共济记录")
    return grant


def _events(
    ctx: Context,
    uow: UnitOfWork,
    grant: GrantRecord,
    kind: str,
    actor: Actor | None,
    *,
    names: Mapping[str, str] | None = None,
    **detail: object,
) -> None:
    """The same event in both parties' histories, and the notice it gives. ``names``: the
    masked names the caller has read, by person number, which the notice need not read."""
    label = actor.label if actor else "system:jobs"
    now_us = ctx.now_us()
    for psn_no in (grant.contributor, grant.recipient):
        registry.record_event(
            uow.connection, psn_no, kind, label, now_us, grant_id=grant.id, **detail
        )
    notices.grant_event(ctx, uow, grant, kind, names or {})
