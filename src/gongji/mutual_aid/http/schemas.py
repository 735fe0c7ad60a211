"""Request and response bodies of the mutual-aid API: wallets, relationships, grants,
authorizations and a person's history. Amounts are yuan strings with two decimals ("500.00").
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from gongji.api.schemas import AmountIn, PsnNo, Region, Request, Text, iso
from gongji.core.money import format_yuan
from gongji.mutual_aid.service.mutual_aid_choice import Acceptance
from gongji.mutual_aid.service.wallet_view import GrantLine, WalletView
from gongji.notify.service.preferences import MutualAidChoice
from gongji.store.records import AuthorizationRecord, GrantRecord, RelationshipRecord, WalletRecord


class OnBehalfOf(Request):
    id_number: Annotated[str, Field(min_length=15, max_length=18)]
    name: Annotated[str, Field(min_length=1, max_length=40)]


class OpenWalletIn(Request):
    place_of_use: Region
    on_behalf_of: OnBehalfOf | None = None


class PlaceOfUseIn(Request):
    place_of_use: Region


class ProposeIn(Request):
    id_number: Annotated[str, Field(min_length=15, max_length=18)]
    name: Annotated[str, Field(min_length=1, max_length=40)]
    kind: Annotated[str, Field(min_length=1, max_length=24)]


PaymentPasswordIn = Annotated[str | None, Field(default=None, max_length=16)]
"""The payer's 6-digit payment password (docs/rules.md §16): checked before the write, left out
of the idempotency fingerprint, never answered."""

SECRET_FIELDS = frozenset({"payment_password"})


class OfferIn(Request):
    recipient: PsnNo
    amount: AmountIn
    payment_password: PaymentPasswordIn = None


class BindIn(Request):
    recipient: PsnNo
    quota: AmountIn | None = None
    payment_password: PaymentPasswordIn = None


def without_secrets(body: Request) -> dict[str, Any]:
    """The body as the idempotency fingerprint sees it: no payment password in any hash."""
    dumped: dict[str, Any] = body.model_dump(mode="json", exclude=set(SECRET_FIELDS))
    return dumped


class PinSetIn(Request):
    new_payment_password: Annotated[str, Field(max_length=16)]
    repeat_payment_password: Annotated[str, Field(max_length=16)]
    current_payment_password: PaymentPasswordIn = None


class PinResetIn(Request):
    code: Annotated[str, Field(max_length=16)]
    id_number: Annotated[str, Field(max_length=18)]
    new_payment_password: Annotated[str, Field(max_length=16)]
    repeat_payment_password: Annotated[str, Field(max_length=16)]


class PinStatusOut(BaseModel):
    is_set: bool
    required: bool
    locked_until: str | None
    set_at: str | None


class ResetCodeOut(BaseModel):
    mobile_masked: str
    expires_at: str | None


class ConsentIn(Request):
    relationship_id: Annotated[str, Field(min_length=1, max_length=40)]


class ConsentOut(BaseModel):
    id: str
    relationship_id: str
    holder: str
    guardian: str
    other_name: str
    granted_at: str | None
    ended_at: str | None
    end_reason: str | None


class GuardiansOut(BaseModel):
    given: list[ConsentOut]
    held: list[ConsentOut]


class VoucherOut(BaseModel):
    holder: str
    token: str
    valid_s: int


class ReasonIn(Request):
    reason: Text


class ReviewIn(Request):
    approve: bool
    note: Text


class WalletOut(BaseModel):
    psn_no: str
    status: str
    place_of_use: str
    opened_by: str
    opened_at: str | None
    status_reason: str | None

    @classmethod
    def of(cls, wallet: WalletRecord) -> WalletOut:
        return cls(
            psn_no=wallet.psn_no,
            status=wallet.status,
            place_of_use=wallet.place_of_use,
            opened_by=wallet.opened_by,
            opened_at=iso(wallet.opened_at_us),
            status_reason=wallet.status_reason,
        )


class GrantOut(BaseModel):
    id: str
    contributor: str
    recipient: str
    amount: str
    state: str
    offered_at: str | None
    expires_at: str | None
    accepted_at: str | None
    closed_at: str | None
    close_reason: str | None

    @classmethod
    def of(cls, grant: GrantRecord) -> GrantOut:
        return cls(
            id=grant.id,
            contributor=grant.contributor,
            recipient=grant.recipient,
            amount=format_yuan(grant.amount_fen),
            state=grant.state,
            offered_at=iso(grant.offered_at_us),
            expires_at=iso(grant.expires_at_us),
            accepted_at=iso(grant.accepted_at_us),
            closed_at=iso(grant.closed_at_us),
            close_reason=grant.close_reason,
        )


class AcceptIn(Request):
    use_mutual_aid: bool | None = Field(
        default=None,
        description=(
            "就医时使用家庭共济, chosen in the same step (docs/rules.md §6.2): true lets quotas "
            "and authorizations pay my care from now on, false stops them; absent leaves my "
            "standing choice as it is. Shared money never pays unless chosen."
        ),
    )


class MutualAidChoiceIn(Request):
    use_mutual_aid: bool = Field(
        description="就医时使用家庭共济: whether quotas and authorizations pay my care"
    )


class MutualAidChoiceOut(BaseModel):
    use_mutual_aid: bool = Field(
        description="whether quotas and authorizations pay my care when a bill does not say"
    )
    chosen: bool = Field(
        description="false: I never chose, and my region's default stands (off as shipped)"
    )

    @classmethod
    def of(cls, choice: MutualAidChoice) -> MutualAidChoiceOut:
        return cls(use_mutual_aid=choice.on, chosen=choice.chosen)


class AcceptedOut(GrantOut):
    mutual_aid: MutualAidChoiceOut

    @classmethod
    def of_acceptance(cls, accepted: Acceptance) -> AcceptedOut:
        return cls(
            **GrantOut.of(accepted.grant).model_dump(),
            mutual_aid=MutualAidChoiceOut.of(accepted.mutual_aid),
        )


class GrantLineOut(GrantOut):
    counterpart: str
    counterpart_name: str
    left: str

    @classmethod
    def of_line(cls, line: GrantLine) -> GrantLineOut:
        return cls(
            **GrantOut.of(line.grant).model_dump(),
            counterpart=line.counterpart,
            counterpart_name=line.counterpart_name_masked,
            left=format_yuan(line.left_fen),
        )


class RelationshipOut(BaseModel):
    id: str
    proposer: str
    relative: str
    kind: str
    status: str
    verification: str
    created_at: str | None
    end_reason: str | None

    @classmethod
    def of(cls, relationship: RelationshipRecord) -> RelationshipOut:
        return cls(
            id=relationship.id,
            proposer=relationship.proposer,
            relative=relationship.relative,
            kind=relationship.kind,
            status=relationship.status,
            verification=relationship.verification,
            created_at=iso(relationship.created_at_us),
            end_reason=relationship.end_reason,
        )


class AuthorizationOut(BaseModel):
    id: str
    contributor: str
    recipient: str
    quota: str | None
    used: str
    binding_seq: int
    status: str

    @classmethod
    def of(cls, authorization: AuthorizationRecord) -> AuthorizationOut:
        quota = authorization.quota_fen
        return cls(
            id=authorization.id,
            contributor=authorization.contributor,
            recipient=authorization.recipient,
            quota=None if quota is None else format_yuan(quota),
            used=format_yuan(authorization.used_fen),
            binding_seq=authorization.binding_seq,
            status=authorization.status,
        )


class AccountOut(BaseModel):
    region: str
    this_year: str
    earlier_years: str
    earmarked: str
    available: str


class TodayOut(BaseModel):
    grants_left: int
    largest_amount: str
    quiet_hours_now: bool
    quiet_hours: str
    offer_expiry: str


class WalletViewOut(BaseModel):
    psn_no: str
    name: str
    insutype: str | None
    region: str | None
    wallet: WalletOut | None
    personal_account: AccountOut | None
    received: list[GrantLineOut]
    received_total: str
    given: list[GrantLineOut]
    offers_to_me: list[GrantLineOut]
    today: TodayOut | None
    mutual_aid: MutualAidChoiceOut

    @classmethod
    def of(cls, view: WalletView) -> WalletViewOut:
        account = view.account
        today = view.today
        return cls(
            psn_no=view.psn_no,
            name=view.name_masked,
            insutype=view.insutype,
            region=view.region,
            wallet=WalletOut.of(view.wallet) if view.wallet else None,
            personal_account=None
            if account is None
            else AccountOut(
                region=account.region,
                this_year=format_yuan(account.current_fen),
                earlier_years=format_yuan(account.earlier_fen),
                earmarked=format_yuan(account.earmarked_fen),
                available=format_yuan(account.available_fen),
            ),
            received=[GrantLineOut.of_line(line) for line in view.received],
            received_total=format_yuan(view.received_total_fen),
            given=[GrantLineOut.of_line(line) for line in view.given],
            offers_to_me=[GrantLineOut.of_line(line) for line in view.offers_to_me],
            today=None
            if today is None
            else TodayOut(
                grants_left=today.grants_left,
                largest_amount=format_yuan(today.largest_amount_fen),
                quiet_hours_now=today.quiet_hours_now,
                quiet_hours=today.quiet_hours,
                offer_expiry=today.offer_expiry,
            ),
            mutual_aid=MutualAidChoiceOut.of(view.mutual_aid),
        )


class EventOut(BaseModel):
    seq: int
    kind: str
    at: str | None
    actor: str
    detail: dict[str, Any]


class HistoryOut(BaseModel):
    events: list[EventOut]
    next_cursor: str | None
