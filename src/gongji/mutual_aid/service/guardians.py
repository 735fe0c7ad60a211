"""Guardian mode (亲情账户 / 代出示, docs/rules.md §17): a person lets a relative show their
e-voucher for them and read their wallet — an elderly mother lets her son present her QR code at
the pharmacy counter from his own phone.

Only the person themself grants it, from their own wallet, to the other side of one of their
*active* relationships; it is recorded (a row and an event in both histories), told to the
guardian through the notification outbox, and revocable by the holder at any time. Every use
is checked against the consent *and* the relationship at that moment, so a revocation or an
ended relationship refuses the next request at once; ending a relationship also ends its
consents' rows (``end_for_relationship``). Each voucher a guardian shows, and each time they
open her spending records, is an event in the holder's history, so she can see when her son
presented her code or read what she bought.

A guardian reads; they never write: no offer, acceptance or setting is made on someone's behalf.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar, Final

from gongji.core.errors import GongjiError
from gongji.kernel.context import Actor, ActorKind, Context
from gongji.kernel.errors import Forbidden, NotFound
from gongji.kernel.idgen import new_id
from gongji.mutual_aid.service import notices, wallet_view
from gongji.mutual_aid.store import guardians_repo as repo
from gongji.mutual_aid.store import mutual_aid_repo as aid_repo
from gongji.mutual_aid.store.guardians_repo import ConsentRow
from gongji.notify.domain.messages import NoticeKind
from gongji.notify.service.outbox import enqueue
from gongji.people.service import registry
from gongji.people.service.credentials_lookup import issue_ec_token
from gongji.store.uow import UnitOfWork

ACTIVE: Final = "active"


class GuardianConsentExists(GongjiError):
    code: ClassVar[str] = "guardian_consent_exists"
    message_zh: ClassVar[str] = "已允许该亲属代为出示电子凭证"
    message_en: ClassVar[str] = "This relative may already show your e-voucher"


class GuardianNotAllowed(GongjiError):
    """One answer for no consent, a revoked one and an ended relationship: the guardian learns
    no more than that they may not look."""

    code: ClassVar[str] = "guardian_not_allowed"
    message_zh: ClassVar[str] = "对方未授权您代为出示或查看，或授权已撤销、共济关系已解除"
    message_en: ClassVar[str] = (
        "You may not show or see this person's wallet (no consent, or it ended)"
    )


@dataclass(frozen=True, slots=True)
class Consent:
    id: str
    relationship_id: str
    holder: str
    guardian: str
    granted_at_us: int
    ended_at_us: int | None
    end_reason: str | None
    other_name: str  # the other side's masked name, as the reader sees them


def grant(ctx: Context, uow: UnitOfWork, holder: Actor, relationship_id: str) -> Consent:
    """The holder lets the other side of an active relationship be their guardian."""
    _require_person(holder)
    relationship = aid_repo.relationship(uow.connection, relationship_id, lock=True)
    if relationship is None or not relationship.involves(holder.id):
        raise NotFound(what="共济关系")
    if relationship.status != ACTIVE:
        raise GuardianNotAllowed()
    guardian = relationship.other(holder.id)
    for open_consent in repo.open_consents_of_relationship(uow.connection, relationship_id):
        if open_consent.holder == holder.id:
            raise GuardianConsentExists()
    now_us = ctx.now_us()
    row = ConsentRow(new_id("GC", now_us), relationship_id, holder.id, guardian, now_us, None, None)
    repo.insert_consent(uow.connection, asdict(row))
    _record(ctx, uow, row, "guardian_consent_granted", holder.label)
    enqueue(ctx, uow, guardian, NoticeKind.GUARDIAN_GRANTED, row.id,
            {"who": notices.who(uow, holder.id)})  # fmt: skip
    return _consent(uow, row, holder.id)


def revoke(ctx: Context, uow: UnitOfWork, holder: Actor, consent_id: str) -> Consent:
    """The holder ends a consent; the guardian's next request is refused."""
    _require_person(holder)
    row = repo.consent(uow.connection, consent_id)
    if row is None or row.holder != holder.id:
        raise NotFound(what="代出示授权")
    if row.ended_at_us is None:
        _end(ctx, uow, row, "revoked", holder.label)
    return _consent(uow, _reread(uow, consent_id), holder.id)


def end_for_relationship(ctx: Context, uow: UnitOfWork, relationship_id: str) -> int:
    """An ended relationship ends its consents (called by ``relationships.end``)."""
    found = repo.open_consents_of_relationship(uow.connection, relationship_id)
    for row in found:
        _end(ctx, uow, row, "relationship_ended", "system:relationship")
    return len(found)


def _end(ctx: Context, uow: UnitOfWork, row: ConsentRow, reason: str, actor_label: str) -> None:
    if repo.end_consent(uow.connection, row.id, ctx.now_us(), reason):
        _record(ctx, uow, row, "guardian_consent_ended", actor_label, reason=reason)
        enqueue(ctx, uow, row.guardian, NoticeKind.GUARDIAN_ENDED, row.id,
                {"who": notices.who(uow, row.holder)})  # fmt: skip


def given_by(uow: UnitOfWork, holder: str) -> list[Consent]:
    """The consents a person gave and has not ended."""
    return [
        _consent(uow, row, holder) for row in repo.open_consents_of_holder(uow.connection, holder)
    ]


def held_by(uow: UnitOfWork, guardian: str) -> list[Consent]:
    """Whose voucher and wallet ``guardian`` may see now (relationship still active)."""
    return [
        _consent(uow, row, guardian)
        for row in repo.open_consents_of_guardian(uow.connection, guardian)
        if _relationship_active(uow, row)
    ]


def require_guardian(uow: UnitOfWork, guardian: Actor, holder: str) -> ConsentRow:
    """The live consent that lets ``guardian`` act for ``holder``, or ``guardian_not_allowed``."""
    _require_person(guardian)
    for row in repo.open_consents_of_guardian(uow.connection, guardian.id):
        if row.holder == holder and _relationship_active(uow, row):
            return row
    raise GuardianNotAllowed()


def show_voucher(ctx: Context, uow: UnitOfWork, guardian: Actor, holder: str) -> str:
    """A fresh e-voucher token of ``holder`` for ``guardian`` to show, the showing recorded in
    the holder's history (committed by the caller)."""
    consent = require_guardian(uow, guardian, holder)
    registry.record_event(
        uow.connection, holder, "guardian_voucher_shown", guardian.label, ctx.now_us(),
        consent_id=consent.id,
    )  # fmt: skip
    return issue_ec_token(ctx, holder)


def open_records(ctx: Context, uow: UnitOfWork, guardian: Actor, holder: str) -> str:
    """The check before ``guardian`` reads the holder's spending records (我的记录, kept by the
    settlement area, which asks here first): refused like the voucher, and the reading recorded
    in the holder's history (committed by the caller). Returns the holder's masked name."""
    consent = require_guardian(uow, guardian, holder)
    registry.record_event(
        uow.connection, holder, "guardian_records_viewed", guardian.label, ctx.now_us(),
        consent_id=consent.id,
    )  # fmt: skip
    return name_of(uow, holder)


def wallet_of(
    ctx: Context, uow: UnitOfWork, guardian: Actor, holder: str
) -> wallet_view.WalletView:
    """The holder's wallet as the holder sees it, read-only, for their guardian."""
    require_guardian(uow, guardian, holder)
    return wallet_view.wallet_view(ctx, uow, holder)


def name_of(uow: UnitOfWork, psn_no: str) -> str:
    return notices.who(uow, psn_no)


def _relationship_active(uow: UnitOfWork, row: ConsentRow) -> bool:
    relationship = aid_repo.relationship(uow.connection, row.relationship_id)
    return (
        relationship is not None
        and relationship.status == ACTIVE
        and relationship.involves(row.holder)
        and relationship.involves(row.guardian)
    )


def _record(
    ctx: Context, uow: UnitOfWork, row: ConsentRow, kind: str, actor_label: str, **detail: str
) -> None:
    for psn_no in (row.holder, row.guardian):
        registry.record_event(
            uow.connection, psn_no, kind, actor_label, ctx.now_us(), consent_id=row.id,
            holder=row.holder, guardian=row.guardian, **detail,
        )  # fmt: skip


def _reread(uow: UnitOfWork, consent_id: str) -> ConsentRow:
    found = repo.consent(uow.connection, consent_id)
    if found is None:
        raise NotFound(what="代出示授权")
    return found


def _consent(uow: UnitOfWork, row: ConsentRow, reader: str) -> Consent:
    other = row.guardian if reader == row.holder else row.holder
    return Consent(
        row.id, row.relationship_id, row.holder, row.guardian, row.granted_at_us,
        row.ended_at_us, row.end_reason, notices.who(uow, other),
    )  # fmt: skip


def _require_person(actor: Actor) -> None:
    if actor.kind is not ActorKind.PERSON:
        raise Forbidden()
