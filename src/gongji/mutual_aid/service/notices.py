"""Who is told what when mutual aid moves (docs/rules.md §15): the events of relationships,
grants, wallets and premiums, and the shared money a settlement spent, turned into notifications
through ``notify.service.outbox``, in the same unit of work as the change itself.

The person who acted is not told of their own act; the other side is. A message names the
other person by their masked name and money in yuan; it carries nothing secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Final

from gongji.core.clock import from_us
from gongji.kernel.context import BUSINESS_TZ, Actor, Context
from gongji.mutual_aid.store import mutual_aid_repo as aid_repo
from gongji.notify.domain.messages import NoticeKind
from gongji.notify.service.outbox import enqueue, enqueue_quietly
from gongji.people.service import registry
from gongji.store.records import GrantRecord, RelationshipRecord
from gongji.store.uow import UnitOfWork

PREMIUM_NAMES: Final = {"resident": "城乡居民医保费", "long_term_care": "长期护理保险费"}
REMINDER_HOUR: Final = 20
"""[decision] The evening reminder of an offer that returns at 06:00 goes out from 20:00."""
REMINDER_WINDOW_US: Final = 12 * 3600 * 1_000_000


def who(uow: UnitOfWork, psn_no: str) -> str:
    found = registry.person(uow.connection, psn_no)
    return found.name_masked if found else "亲属"


def _deadline(at_us: int) -> str:
    return from_us(at_us).astimezone(BUSINESS_TZ).strftime("%m月%d日 %H:%M")


def relationship_event(
    ctx: Context, uow: UnitOfWork, relationship: RelationshipRecord, kind: str, actor: Actor | None
) -> None:
    ref = f"{relationship.id}:{kind}"
    if kind == "relationship_proposed":
        _tell(ctx, uow, relationship.relative, NoticeKind.RELATIONSHIP_PROPOSED, ref,
              who=who(uow, relationship.proposer))  # fmt: skip
    elif kind in ("relationship_confirmed", "relationship_reviewed") and (
        relationship.status == "active"
    ):
        for psn_no in _others(relationship.proposer, relationship.relative, actor):
            _tell(ctx, uow, psn_no, NoticeKind.RELATIONSHIP_CONFIRMED, ref,
                  who=who(uow, relationship.other(psn_no)))  # fmt: skip
    elif kind == "relationship_ended":
        for psn_no in _others(relationship.proposer, relationship.relative, actor):
            _tell(ctx, uow, psn_no, NoticeKind.RELATIONSHIP_ENDED, ref,
                  who=who(uow, relationship.other(psn_no)))  # fmt: skip


def grant_event(
    ctx: Context, uow: UnitOfWork, grant: GrantRecord, kind: str, names: Mapping[str, str]
) -> None:
    """``names``: masked names the caller has read already, by person number. Whether a
    notice was given before is not asked (each is given once, by its id): the insert answers
    nothing, so it may wait for the transaction's next statement (``uow.defer_writes``)."""
    params: dict[str, str | int] = {"amount_fen": grant.amount_fen}
    if kind == "grant_offered":
        params["who"] = names.get(grant.contributor) or who(uow, grant.contributor)
        params["deadline"] = _deadline(grant.expires_at_us)
        enqueue_quietly(ctx, uow, grant.recipient, NoticeKind.OFFER_RECEIVED, grant.id, params)
    elif kind in ("grant_expired", "grant_rejected"):
        params["who"] = names.get(grant.recipient) or who(uow, grant.recipient)
        enqueue_quietly(ctx, uow, grant.contributor, NoticeKind.OFFER_RETURNED, grant.id, params)


def wallet_frozen(ctx: Context, uow: UnitOfWork, psn_no: str, event_ref: str) -> None:
    _tell(ctx, uow, psn_no, NoticeKind.WALLET_FROZEN, event_ref)


def premium_paid(
    ctx: Context, uow: UnitOfWork, insured: str, payer: str, year: int, kind: str, amount_fen: int
) -> None:
    if insured == payer:
        return
    _tell(ctx, uow, insured, NoticeKind.PREMIUM_PAID, f"{year}:{kind}",
          who=who(uow, payer), year=year, premium=PREMIUM_NAMES.get(kind, kind),
          amount_fen=amount_fen)  # fmt: skip


def shared_money_spent(
    ctx: Context,
    uow: UnitOfWork,
    settlement_id: str,
    patient_name_masked: str,
    institution_name: str,
    spent: dict[tuple[str, str], int],
) -> None:
    """After a settlement, in its transaction: each contributor whose grant or authorization
    paid, once per source kind (``spent`` maps (kind, contributor) to fen). The settlement was
    made just now, so none was told of it yet: the notices are written without asking."""
    for (kind, contributor), amount_fen in sorted(spent.items()):
        notice = NoticeKind.QUOTA_SPENT if kind == "grant" else NoticeKind.AUTHORIZATION_USED
        params: dict[str, str | int] = {"who": patient_name_masked,
                                        "institution": institution_name,
                                        "amount_fen": amount_fen}  # fmt: skip
        enqueue_quietly(ctx, uow, contributor, notice, f"{settlement_id}:{kind}", params)


def remind_expiring_offers(ctx: Context, uow: UnitOfWork, limit: int = 500) -> int:
    """From 20:00 business time: every offer that returns within twelve hours and is not
    accepted yet reminds its recipient, once (the notification's id is the grant's)."""
    local_now: datetime = ctx.local_now()
    if local_now.hour < REMINDER_HOUR:
        return 0
    now_us = ctx.now_us()
    due = aid_repo.due_offers(uow.connection, now_us + REMINDER_WINDOW_US, limit)
    told = 0
    for grant in due:
        if grant.expires_at_us > now_us:
            told += _tell(ctx, uow, grant.recipient, NoticeKind.OFFER_EXPIRING, grant.id,
                          who=who(uow, grant.contributor), amount_fen=grant.amount_fen,
                          deadline=_deadline(grant.expires_at_us))  # fmt: skip
    return told


def _others(first: str, second: str, actor: Actor | None) -> list[str]:
    acting = actor.id if actor is not None else None
    return [psn_no for psn_no in (first, second) if psn_no != acting]


def _tell(
    ctx: Context, uow: UnitOfWork, psn_no: str, kind: NoticeKind, ref: str, **params: str | int
) -> bool:
    return enqueue(ctx, uow, psn_no, kind, ref, params)
