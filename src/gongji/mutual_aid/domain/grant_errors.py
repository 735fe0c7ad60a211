"""The refusals of mutual aid (docs/rules.md §4–§6), each with its stable code."""

from __future__ import annotations

from typing import ClassVar

from gongji.core.errors import GongjiError


class GrantAmountNotPositive(GongjiError):
    code: ClassVar[str] = "grant_amount_not_positive"
    message_zh: ClassVar[str] = "共济金额必须大于 0"
    message_en: ClassVar[str] = "The amount must be more than 0"


class GrantAmountExceedsLimit(GongjiError):
    code: ClassVar[str] = "grant_amount_exceeds_limit"
    message_zh: ClassVar[str] = "单笔共济金额不能超过 {limit} 元"
    message_en: ClassVar[str] = "One grant may not exceed {limit} yuan"


class QuietHours(GongjiError):
    code: ClassVar[str] = "quiet_hours"
    message_zh: ClassVar[str] = "{start} 至次日 {end} 不能发起共济"
    message_en: ClassVar[str] = "No grant may be offered between {start} and {end}"


class GrantsPerDayExceeded(GongjiError):
    code: ClassVar[str] = "grants_per_day_exceeded"
    message_zh: ClassVar[str] = "今天已发起 {count} 笔共济，已达每日上限 {limit} 笔"
    message_en: ClassVar[str] = "{count} grants offered today: the daily limit is {limit}"


class OpenOfferExists(GongjiError):
    code: ClassVar[str] = "open_offer_exists"
    message_zh: ClassVar[str] = "您给该亲属的上一笔共济尚未被接收，请等待对方接收或退回后再发起"
    message_en: ClassVar[str] = "Your previous offer to this relative is still waiting"


class GrantCapExceeded(GongjiError):
    code: ClassVar[str] = "grant_cap_exceeded"
    message_zh: ClassVar[str] = "超过{period}共济上限 {limit} 元"
    message_en: ClassVar[str] = "The {period} cap of {limit} yuan would be exceeded"


class InsufficientBalance(GongjiError):
    code: ClassVar[str] = "insufficient_balance"
    message_zh: ClassVar[str] = "个人账户可用余额不足（可用 {available} 元）"
    message_en: ClassVar[str] = "Not enough available in the personal account ({available} yuan)"


class OnwardGrantingNotAllowed(GongjiError):
    code: ClassVar[str] = "onward_granting_not_allowed"
    message_zh: ClassVar[str] = "亲属共济给您的额度不能再转给他人"
    message_en: ClassVar[str] = "A quota received from a relative cannot be granted on"


class NoPersonalAccount(GongjiError):
    code: ClassVar[str] = "contributor_has_no_personal_account"
    message_zh: ClassVar[str] = "只有参加职工医保且有个人账户的人员才能共济给亲属"
    message_en: ClassVar[str] = "Only employees with a personal account can share money"


class PersonSuspended(GongjiError):
    code: ClassVar[str] = "person_suspended"
    message_zh: ClassVar[str] = "{role}的医保已暂停，暂不能办理"
    message_en: ClassVar[str] = "The {role}'s insurance is suspended"


class EnrolmentNotActive(GongjiError):
    code: ClassVar[str] = "enrolment_not_active"
    message_zh: ClassVar[str] = "{role}没有正常参保状态的医保"
    message_en: ClassVar[str] = "The {role} has no enrolment in normal status"


class WalletNotOpen(GongjiError):
    code: ClassVar[str] = "wallet_not_open"
    message_zh: ClassVar[str] = "您的医保钱包尚未开通"
    message_en: ClassVar[str] = "Your wallet is not open"


class WalletFrozen(GongjiError):
    code: ClassVar[str] = "wallet_frozen"
    message_zh: ClassVar[str] = "您的医保钱包已被冻结"
    message_en: ClassVar[str] = "Your wallet is frozen"


class RecipientWalletNotOpen(GongjiError):
    code: ClassVar[str] = "recipient_wallet_not_open"
    message_zh: ClassVar[str] = "对方尚未开通医保钱包"
    message_en: ClassVar[str] = "The recipient's wallet is not open"


class RecipientWalletFrozen(GongjiError):
    code: ClassVar[str] = "recipient_wallet_frozen"
    message_zh: ClassVar[str] = "对方的医保钱包已被冻结"
    message_en: ClassVar[str] = "The recipient's wallet is frozen"


class RelationshipNotActive(GongjiError):
    code: ClassVar[str] = "relationship_not_active"
    message_zh: ClassVar[str] = "与该亲属的共济关系未生效"
    message_en: ClassVar[str] = "The mutual-aid relationship is not active"


class RelationshipNotVerified(GongjiError):
    code: ClassVar[str] = "relationship_not_verified"
    message_zh: ClassVar[str] = "亲属关系尚未核验，不能共济"
    message_en: ClassVar[str] = "The kinship has not been verified"


class RecipientNotInsured(GongjiError):
    code: ClassVar[str] = "recipient_not_insured"
    message_zh: ClassVar[str] = "对方须参加职工医保或城乡居民医保"
    message_en: ClassVar[str] = "The recipient must be in employee or resident insurance"


class GrantToSelf(GongjiError):
    code: ClassVar[str] = "grant_to_self"
    message_zh: ClassVar[str] = "不能共济给自己"
    message_en: ClassVar[str] = "You cannot grant to yourself"


class GrantNotOffered(GongjiError):
    code: ClassVar[str] = "grant_not_offered"
    message_zh: ClassVar[str] = "该笔共济不是待接收状态（当前：{state}）"
    message_en: ClassVar[str] = "The grant is not waiting for acceptance (it is {state})"


class GrantOfferExpired(GongjiError):
    code: ClassVar[str] = "grant_offer_expired"
    message_zh: ClassVar[str] = "该笔共济已过接收期限，额度已退回"
    message_en: ClassVar[str] = "The offer has expired and was returned"


class GrantNotActive(GongjiError):
    code: ClassVar[str] = "grant_not_active"
    message_zh: ClassVar[str] = "该笔共济额度不在生效状态（当前：{state}）"
    message_en: ClassVar[str] = "The grant is not active (it is {state})"


class GrantRevocationTooEarly(GongjiError):
    code: ClassVar[str] = "grant_revocation_too_early"
    message_zh: ClassVar[str] = "接收满 {days} 天后才能收回，最早 {earliest}"
    message_en: ClassVar[str] = (
        "A grant can be revoked {days} days after acceptance, from {earliest}"
    )


class GrantHeldForReview(GongjiError):
    code: ClassVar[str] = "grant_held_for_review"
    message_zh: ClassVar[str] = "该笔共济额度正在进行风险审核，审核通过后方可接收"
    message_en: ClassVar[str] = (
        "This grant is held for a risk review; it can be accepted once released"
    )


class GrantNotHeld(GongjiError):
    code: ClassVar[str] = "grant_not_held"
    message_zh: ClassVar[str] = "该笔共济额度不在待审核状态（当前：{state}）"
    message_en: ClassVar[str] = "This grant is not held for review (it is {state})"
