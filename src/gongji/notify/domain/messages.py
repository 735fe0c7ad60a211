"""What each notification says (Chinese first, English for the ``lang=en`` pages), and the SMS
text made from it.

Parameters are what the message needs and nothing more: amounts in fen, a masked name (张*),
an institution's public name, a time. Never a one-time code, an ID number, a full name, a
mobile number or an e-voucher: an SMS is read on a lock screen and kept by the operator's
systems, so its text must be harmless to anyone who sees it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from gongji.core.money import format_yuan

SMS_SIGNATURE: Final = "【医保钱包】"
SMS_LENGTH_MAX: Final = 140


class NoticeKind(StrEnum):
    RELATIONSHIP_PROPOSED = "relationship_proposed"
    RELATIONSHIP_CONFIRMED = "relationship_confirmed"
    RELATIONSHIP_ENDED = "relationship_ended"
    OFFER_RECEIVED = "offer_received"
    OFFER_EXPIRING = "offer_expiring"
    OFFER_RETURNED = "offer_returned"
    QUOTA_SPENT = "quota_spent"
    AUTHORIZATION_USED = "authorization_used"
    PREMIUM_PAID = "premium_paid"
    WALLET_FROZEN = "wallet_frozen"
    GUARDIAN_GRANTED = "guardian_granted"
    GUARDIAN_ENDED = "guardian_ended"

    @property
    def label_zh(self) -> str:
        return _TEXTS[self][0]


Params = Mapping[str, str | int]

_TEXTS: Final[dict[NoticeKind, tuple[str, str, str, str]]] = {
    # kind: (title zh, body zh, title en, body en)
    NoticeKind.RELATIONSHIP_PROPOSED: (
        "亲属请求建立共济关系",
        "{who}请求与您建立家庭共济关系，请登录医保钱包确认或拒绝。",
        "A relative asks to share",
        "{who} asks to set up family mutual aid with you; confirm or decline in your wallet.",
    ),
    NoticeKind.RELATIONSHIP_CONFIRMED: (
        "共济关系已确认",
        "{who}已确认与您的家庭共济关系。",
        "Relationship confirmed",
        "{who} confirmed the family mutual-aid relationship with you.",
    ),
    NoticeKind.RELATIONSHIP_ENDED: (
        "共济关系已解除",
        "您与{who}的家庭共济关系已解除，未使用的额度已退回共济人账户。",
        "Relationship ended",
        "Your relationship with {who} has ended; unused quotas went back to the contributor.",
    ),
    NoticeKind.OFFER_RECEIVED: (
        "收到亲属共济",
        "{who}向您共济 {amount_fen} 元，请在 {deadline} 前登录医保钱包接收，逾期自动退回。",
        "A relative shares money with you",
        "{who} offers you {amount_fen} yuan; accept in your wallet before {deadline}.",
    ),
    NoticeKind.OFFER_EXPIRING: (
        "共济即将退回",
        "{who}共济给您的 {amount_fen} 元尚未接收，将于 {deadline} 自动退回，请及时接收。",
        "An offer is about to go back",
        "{who}'s offer of {amount_fen} yuan goes back at {deadline} unless you accept it.",
    ),
    NoticeKind.OFFER_RETURNED: (
        "共济已退回",
        "您共济给{who}的 {amount_fen} 元未被接收，已退回您的个人账户。",
        "An offer went back",
        "Your offer of {amount_fen} yuan to {who} was not accepted and went back to you.",
    ),
    NoticeKind.QUOTA_SPENT: (
        "共济额度已使用",
        "{who}在{institution}使用了您共济的额度 {amount_fen} 元。",
        "Your quota was used",
        "{who} used {amount_fen} yuan of your quota at {institution}.",
    ),
    NoticeKind.AUTHORIZATION_USED: (
        "家庭共济授权已使用",
        "{who}在{institution}通过家庭共济授权使用了您的个人账户 {amount_fen} 元。",
        "Your authorization was used",
        "{who} paid {amount_fen} yuan from your account at {institution} by your authorization.",
    ),
    NoticeKind.PREMIUM_PAID: (
        "医保费已代缴",
        "{who}已为您代缴 {year} 年{premium} {amount_fen} 元。",
        "Premium paid for you",
        "{who} paid your {year} {premium} of {amount_fen} yuan.",
    ),
    NoticeKind.WALLET_FROZEN: (
        "医保钱包已冻结",
        "您的医保钱包已被冻结，暂时不能共济和使用共济额度，如有疑问请联系医保经办机构。",
        "Wallet frozen",
        "Your wallet is frozen: no sharing for now. Ask your medical-insurance bureau.",
    ),
    NoticeKind.GUARDIAN_GRANTED: (
        "亲属授权您代为出示",
        "{who}已授权您代其出示医保电子凭证、查看其医保钱包，可在医保钱包「亲情账户」中使用。",
        "A relative lets you show their e-voucher",
        "{who} lets you show their e-voucher and see their wallet (Family access in your wallet).",
    ),
    NoticeKind.GUARDIAN_ENDED: (
        "代为出示授权已结束",
        "{who}对您的代为出示授权已结束，您不能再代其出示电子凭证或查看其钱包。",
        "Family access ended",
        "You may no longer show {who}'s e-voucher or see their wallet.",
    ),
}


@dataclass(frozen=True, slots=True)
class Rendered:
    title: str
    body: str


def render(kind: NoticeKind, params: Params, language: str = "zh") -> Rendered:
    """The message in ``language``; amounts (``*_fen``) written as yuan with two decimals."""
    title_zh, body_zh, title_en, body_en = _TEXTS[kind]
    values = {key: _shown(key, value) for key, value in params.items()}
    if language.startswith("en"):
        return Rendered(title_en, body_en.format_map(_Lenient(values)))
    return Rendered(title_zh, body_zh.format_map(_Lenient(values)))


def sms_text(kind: NoticeKind, params: Params) -> str:
    """The SMS: the signature, then the Chinese body, cut to one message's length."""
    return (SMS_SIGNATURE + render(kind, params).body)[:SMS_LENGTH_MAX]


def _shown(key: str, value: str | int) -> str:
    if key.endswith("_fen") and isinstance(value, int) and not isinstance(value, bool):
        return format_yuan(value)
    return str(value)


class _Lenient(dict[str, str]):
    """A missing parameter reads as empty: a message is never lost for a missing word."""

    def __missing__(self, key: str) -> str:
        return ""
