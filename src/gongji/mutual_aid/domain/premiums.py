"""Premiums paid for relatives (代缴, docs/rules.md §9): the kinds, the sources, and the rules that
need no storage.

A contributor pays from their own personal account for a verified close relative; a recipient
pays from the grants made to them, for themselves (docs/rules.md §7: shared money may pay the
recipient's own contribution) or for a verified close relative of theirs (§9). One payment per
insured person, year and kind. The amount is the policy's, in force on 1 January of that year
in the insured person's region, so two payers can never disagree on what a year costs.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar, Final

from gongji.core.enrolment import INSUTYPE_RESIDENT, RECIPIENT_INSUTYPES
from gongji.core.errors import GongjiError
from gongji.core.policy import Policy

YEARS_AHEAD_MAX: Final = 1
"""Resident premiums are collected in the autumn for the coming year (集中征缴期): this year
and next year may be paid, never a past year (arrears are a bureau's matter)."""


class PremiumKind(StrEnum):
    RESIDENT = "resident"  # 城乡居民医保个人缴费 (the stored kind is at most 16 characters)
    LONG_TERM_CARE = "long_term_care"  # 长期护理保险个人缴费

    @property
    def short(self) -> str:
        """A short tag for ledger ids (which are at most 64 characters)."""
        return "ri" if self is PremiumKind.RESIDENT else "ltc"

    @property
    def label_zh(self) -> str:
        return "城乡居民医保费" if self is PremiumKind.RESIDENT else "长期护理保险费"


class PremiumSource(StrEnum):
    OWN_ACCOUNT = "own_account"  # the payer's own personal account (a contributor)
    GRANTS = "grants"  # the quotas of active grants to the payer, oldest first


class PremiumAlreadyPaid(GongjiError):
    code: ClassVar[str] = "premium_already_paid"
    message_zh: ClassVar[str] = "该人员 {year} 年的{kind}已缴纳，不能重复缴纳"
    message_en: ClassVar[str] = "The {kind_en} premium of {year} is already paid for this person"


class PremiumYearInvalid(GongjiError):
    code: ClassVar[str] = "premium_year_invalid"
    message_zh: ClassVar[str] = "只能缴纳 {first} 年或 {last} 年的保费"
    message_en: ClassVar[str] = "Only the premiums of {first} or {last} can be paid"


class PremiumNotApplicable(GongjiError):
    code: ClassVar[str] = "premium_not_applicable"
    message_zh: ClassVar[str] = "该人员未参加城乡居民医保，无需缴纳居民医保费"
    message_en: ClassVar[str] = (
        "The person is not in resident insurance; no resident premium is due"
    )


class PremiumInsuredNotActive(GongjiError):
    code: ClassVar[str] = "premium_insured_not_active"
    message_zh: ClassVar[str] = "被缴费人没有有效的参保登记"
    message_en: ClassVar[str] = "The insured person has no live enrolment"


class PremiumOwnAccountForSelf(GongjiError):
    code: ClassVar[str] = "premium_own_account_for_self"
    message_zh: ClassVar[str] = "个人账户代缴只能为已核验的近亲属缴费"
    message_en: ClassVar[str] = "Paying from your own account is for a verified close relative"


class PremiumQuotaInsufficient(GongjiError):
    code: ClassVar[str] = "premium_quota_insufficient"
    message_zh: ClassVar[str] = "亲属共济给您的额度不足（可用 {available} 元，需 {amount} 元）"
    message_en: ClassVar[str] = "Quotas received are short: {available} yuan of {amount} yuan"


def check_year(year: int, today: date) -> None:
    if not today.year <= year <= today.year + YEARS_AHEAD_MAX:
        raise PremiumYearInvalid(first=today.year, last=today.year + YEARS_AHEAD_MAX)


def check_insured(kind: PremiumKind, insutype: str | None) -> None:
    """A resident premium is due only from residents; long-term care from either scheme."""
    if insutype is None:
        raise PremiumInsuredNotActive()
    if kind is PremiumKind.RESIDENT and insutype != INSUTYPE_RESIDENT:
        raise PremiumNotApplicable()
    if insutype not in RECIPIENT_INSUTYPES:
        raise PremiumInsuredNotActive()


def premium_amount_fen(policy: Policy, kind: PremiumKind) -> int:
    """A year's individual contribution; ``policy`` is the one in force on 1 January."""
    if kind is PremiumKind.RESIDENT:
        return policy.resident_premium_fen
    return policy.long_term_care_premium_fen
