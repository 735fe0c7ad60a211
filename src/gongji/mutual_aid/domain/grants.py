"""The rules of a grant (共济额度, docs/rules.md §6.1): who may offer how much when, and the life of
an offer. Pure: the service gathers the facts, these functions decide.

Checks run in a fixed order so the same facts always give the same refusal: the amount, the
people and their wallets, the relationship, the clock, the day's count, the open offer, caps,
and last the money.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from gongji.core.enrolment import RECIPIENT_INSUTYPES, EnrolmentStatus, WalletStatus
from gongji.core.money import format_yuan
from gongji.core.policy import Policy
from gongji.mutual_aid.domain import grant_errors
from gongji.mutual_aid.domain.sharing import AccountPart, shareable_parts


class GrantState(StrEnum):
    OFFERED = "offered"
    HELD = "held"
    """待审核: offered, but a write-time risk check held it for a risk officer's decision."""
    ACTIVE = "active"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class PartyFacts:
    """One side of a grant as the rules see it."""

    enrolment_status: EnrolmentStatus | None
    insutype: str | None
    has_personal_account: bool
    wallet_status: WalletStatus | None


@dataclass(frozen=True, slots=True)
class OfferFacts:
    amount_fen: int
    local_now: datetime
    contributor: PartyFacts
    recipient: PartyFacts
    same_person: bool
    relationship_active: bool
    relationship_verified: bool
    offers_today: int
    open_offer_to_recipient: bool
    granted_this_month_fen: int
    granted_this_year_fen: int
    own_available_fen: int
    received_quota_fen: int


def check_offer(facts: OfferFacts, policy: Policy) -> None:
    """Raise the first rule the offer breaks; return when it may be made."""
    _check_amount(facts.amount_fen, policy)
    if facts.same_person:
        raise grant_errors.GrantToSelf()
    check_contributor(facts.contributor)
    check_relationship(facts.relationship_active, facts.relationship_verified)
    check_recipient(facts.recipient)
    _check_clock(facts.local_now.time(), policy)
    _check_counts(facts, policy)
    _check_money(facts, policy)


def _check_amount(amount_fen: int, policy: Policy) -> None:
    if amount_fen <= 0:
        raise grant_errors.GrantAmountNotPositive()
    if amount_fen > policy.grant_amount_max_fen:
        raise grant_errors.GrantAmountExceedsLimit(limit=format_yuan(policy.grant_amount_max_fen))


def check_contributor(party: PartyFacts) -> None:
    _check_enrolment(party, "共济人")
    if not party.has_personal_account:
        raise grant_errors.NoPersonalAccount()
    if party.wallet_status is None or party.wallet_status is WalletStatus.CLOSED:
        raise grant_errors.WalletNotOpen()
    if party.wallet_status is WalletStatus.FROZEN:
        raise grant_errors.WalletFrozen()


def check_recipient(party: PartyFacts) -> None:
    _check_enrolment(party, "被共济人")
    if party.insutype not in RECIPIENT_INSUTYPES:
        raise grant_errors.RecipientNotInsured()
    if party.wallet_status is None or party.wallet_status is WalletStatus.CLOSED:
        raise grant_errors.RecipientWalletNotOpen()
    if party.wallet_status is WalletStatus.FROZEN:
        raise grant_errors.RecipientWalletFrozen()


def _check_enrolment(party: PartyFacts, role: str) -> None:
    if party.enrolment_status is EnrolmentStatus.SUSPENDED:
        raise grant_errors.PersonSuspended(role=role)
    if party.enrolment_status is not EnrolmentStatus.NORMAL:
        raise grant_errors.EnrolmentNotActive(role=role)


def check_relationship(active: bool, verified: bool) -> None:
    if not active:
        raise grant_errors.RelationshipNotActive()
    if not verified:
        raise grant_errors.RelationshipNotVerified()


def _check_clock(local_time: time, policy: Policy) -> None:
    if policy.in_quiet_hours(local_time):
        raise grant_errors.QuietHours(
            start=policy.quiet_hours_start.strftime("%H:%M"),
            end=policy.quiet_hours_end.strftime("%H:%M"),
        )


def _check_counts(facts: OfferFacts, policy: Policy) -> None:
    if facts.offers_today >= policy.grants_per_day_max:
        raise grant_errors.GrantsPerDayExceeded(
            count=facts.offers_today, limit=policy.grants_per_day_max
        )
    if policy.one_open_offer_per_pair and facts.open_offer_to_recipient:
        raise grant_errors.OpenOfferExists()


def _check_money(facts: OfferFacts, policy: Policy) -> None:
    monthly, yearly = policy.grant_monthly_cap_fen, policy.grant_yearly_cap_fen
    if monthly is not None and facts.granted_this_month_fen + facts.amount_fen > monthly:
        raise grant_errors.GrantCapExceeded(period="月度", limit=format_yuan(monthly))
    if yearly is not None and facts.granted_this_year_fen + facts.amount_fen > yearly:
        raise grant_errors.GrantCapExceeded(period="年度", limit=format_yuan(yearly))
    if facts.amount_fen <= facts.own_available_fen:
        return
    if not policy.onward_granting_allowed and (
        facts.amount_fen <= facts.own_available_fen + facts.received_quota_fen
    ):
        raise grant_errors.OnwardGrantingNotAllowed()
    raise grant_errors.InsufficientBalance(available=format_yuan(max(facts.own_available_fen, 0)))


def offer_expires_at(offered_local: datetime, policy: Policy) -> datetime:
    """The instant an unaccepted offer returns: ``offer_expiry_time`` N days after the offer day."""
    day = offered_local.date() + timedelta(days=policy.offer_expiry_after_days)
    return datetime.combine(day, policy.offer_expiry_time, tzinfo=offered_local.tzinfo)


def check_accept(state: GrantState, local_now: datetime, expires_local: datetime) -> None:
    if state is GrantState.HELD:
        raise grant_errors.GrantHeldForReview()
    if state is not GrantState.OFFERED:
        if state is GrantState.EXPIRED:
            raise grant_errors.GrantOfferExpired()
        raise grant_errors.GrantNotOffered(state=state.value)
    if local_now >= expires_local:
        raise grant_errors.GrantOfferExpired()


def check_hold_decision(state: GrantState) -> None:
    """Only a held grant is released or rejected by a risk officer (docs/rules.md §6.1.1)."""
    if state is not GrantState.HELD:
        raise grant_errors.GrantNotHeld(state=state.value)


def released_offer_expires_at(released_local: datetime, policy: Policy) -> datetime:
    """A released grant's acceptance deadline: counted from the release as from an offer, so
    the recipient has the whole acceptance period that the hold took away (§6.1.1)."""
    return offer_expires_at(released_local, policy)


def check_revoke(state: GrantState, accepted_on: date, today: date, policy: Policy) -> None:
    if state is not GrantState.ACTIVE:
        raise grant_errors.GrantNotActive(state=state.value)
    earliest = accepted_on + timedelta(days=policy.grant_revocation_allowed_after_days)
    if today < earliest:
        raise grant_errors.GrantRevocationTooEarly(
            days=policy.grant_revocation_allowed_after_days, earliest=earliest.isoformat()
        )


def split_sources(
    amount_fen: int, current_fen: int, earlier_fen: int, policy: Policy
) -> tuple[int, int]:
    """How much of a grant comes from this year's and from earlier years' money, in the order
    :func:`~gongji.mutual_aid.domain.sharing.shareable_parts` draws them."""
    if AccountPart.CURRENT not in shareable_parts(policy):
        return 0, amount_fen
    from_current = min(amount_fen, max(current_fen, 0))
    return from_current, amount_fen - from_current
