"""The keys of a policy, the type and bounds of each, the ``Policy`` they make up, and the
refusals of a bad policy file.

Every key has one parser that turns a TOML value into the typed value of the :class:`Policy`
field of the same name, or says why it cannot. The same parser checks a ``Policy`` built in
code, so a value a file cannot hold cannot be built either.
Parsers are strict on purpose: ``true`` is not a number, ``3.0`` is not a count, a date-time is
not a date. A bureau mistyping a limit must hear about it, not get a default.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, time
from enum import StrEnum
from types import MappingProxyType
from typing import ClassVar

from gongji.core.errors import GongjiError


class AuthorizationScope(StrEnum):
    """How far a family mutual-aid authorization (§6.2) may reach."""

    PROVINCE = "province"
    NATION = "nation"


class PaymentSource(StrEnum):
    """A source of money for the personal burden of a settlement (§8)."""

    OWN_ACCOUNT = "own_account"
    GRANTS = "grants"
    AUTHORIZATIONS = "authorizations"
    CASH = "cash"


PolicyValue = bool | int | str | time | AuthorizationScope | tuple[PaymentSource, ...] | None
"""The typed value of one policy key."""

COUNT_MAX = 1_000
DAYS_MAX = 3_660
AMOUNT_FEN_MAX = 10**12
"""Bounds that no sane policy reaches; they catch a misplaced digit (yuan written as fen x100)."""

NO_CAP = "none"
"""TOML has no null: an optional cap is switched off by writing this word."""

_CLOCK = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
_TIMEZONE = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*")


class PolicyError(GongjiError):
    """Root of the refusals of a policy file or of a policy that cannot be resolved."""

    code: ClassVar[str] = "policy_invalid"
    message_zh: ClassVar[str] = "政策配置无效"
    message_en: ClassVar[str] = "The policy is invalid"


class PolicyTomlInvalid(PolicyError):
    """The file is not TOML at all."""

    code: ClassVar[str] = "policy_toml_invalid"
    message_zh: ClassVar[str] = "政策文件 {source} 不是有效的 TOML：{reason}"
    message_en: ClassVar[str] = "Policy file {source} is not valid TOML: {reason}"


class PolicyKeyUnknown(PolicyError):
    """A key or table the policy does not know; refused so that a typo is never ignored."""

    code: ClassVar[str] = "policy_key_unknown"
    message_zh: ClassVar[str] = "政策文件 {source} 的 {where} 中有未知参数 {key}"
    message_en: ClassVar[str] = "Unknown policy key {key} in {where} of {source}"


class PolicyKeyMissing(PolicyError):
    """A regional entry lacks its ``code`` or its ``effective_from``."""

    code: ClassVar[str] = "policy_key_missing"
    message_zh: ClassVar[str] = "政策文件 {source} 的 {where} 缺少参数 {key}"
    message_en: ClassVar[str] = "{where} of {source} lacks the required key {key}"


class PolicyValueInvalid(PolicyError):
    """A value of the wrong type or outside its bounds."""

    code: ClassVar[str] = "policy_value_invalid"
    message_zh: ClassVar[str] = (
        "政策文件 {source} 的 {where} 中参数 {key} 的值 {value} 无效：{reason}"
    )
    message_en: ClassVar[str] = (
        "Policy key {key} in {where} of {source} has an invalid value {value}: {reason}"
    )


class PolicyEntryDuplicate(PolicyError):
    """Two entries of one file for the same region and the same effective date."""

    code: ClassVar[str] = "policy_entry_duplicate"
    message_zh: ClassVar[str] = "政策文件 {source} 中区划 {region} 自 {effective_from} 起的条目重复"
    message_en: ClassVar[str] = "{source} has two entries for region {region} from {effective_from}"


class PolicyIncomplete(PolicyError):
    """Some key has no value for a region and date: the national defaults must set every key."""

    code: ClassVar[str] = "policy_incomplete"
    message_zh: ClassVar[str] = "区划 {region} 在 {on} 缺少政策参数 {keys}"
    message_en: ClassVar[str] = "No policy value for {keys} in region {region} on {on}"


def _whole(raw: object, minimum: int, maximum: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ValueError("a whole number is expected")
    if not minimum <= raw <= maximum:
        raise ValueError(f"must be between {minimum} and {maximum}")
    return raw


def parse_count(raw: object) -> int:
    """A non-negative count (0 switches the thing off)."""
    return _whole(raw, 0, COUNT_MAX)


def parse_days(raw: object) -> int:
    """A number of whole days."""
    return _whole(raw, 0, DAYS_MAX)


def parse_days_at_least_one(raw: object) -> int:
    """A number of whole days, at least one (an offer cannot expire before it is made)."""
    return _whole(raw, 1, DAYS_MAX)


def parse_amount_fen(raw: object) -> int:
    """A positive amount in integer fen; yuan strings and floats are refused."""
    return _whole(raw, 1, AMOUNT_FEN_MAX)


def parse_optional_amount_fen(raw: object) -> int | None:
    """A positive amount in fen, or ``"none"`` (None in code) for no cap at all."""
    if raw is None or raw == NO_CAP:
        return None
    return parse_amount_fen(raw)


def parse_flag(raw: object) -> bool:
    """``true`` or ``false``; 0, 1 and strings are refused."""
    if not isinstance(raw, bool):
        raise ValueError("true or false is expected")
    return raw


def parse_clock_time(raw: object) -> time:
    """A wall-clock time to the minute: ``"06:00"`` or a TOML local time ``06:00:00``."""
    if isinstance(raw, time):
        if raw.tzinfo is not None or raw.second or raw.microsecond:
            raise ValueError("a local time to the minute is expected")
        return raw
    match = _CLOCK.fullmatch(raw) if isinstance(raw, str) else None
    if match is None:
        raise ValueError("a time HH:MM is expected")
    return time(int(match[1]), int(match[2]))


def parse_date(raw: object) -> date:
    """A calendar date: a TOML date ``2025-01-01`` or the same as a string; not a date-time."""
    if isinstance(raw, datetime):
        raise ValueError("a date without a time is expected")
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    raise ValueError("a date YYYY-MM-DD is expected")


def parse_authorization_scope(raw: object) -> AuthorizationScope:
    """``province`` or ``nation``."""
    if isinstance(raw, str) and raw in set(AuthorizationScope):
        return AuthorizationScope(raw)
    raise ValueError("one of " + ", ".join(AuthorizationScope) + " is expected")


def parse_payment_order(raw: object) -> tuple[PaymentSource, ...]:
    """Every payment source exactly once, cash last: cash pays whatever the others leave."""
    if not isinstance(raw, list | tuple) or not all(isinstance(item, str) for item in raw):
        raise ValueError("a list of payment sources is expected")
    if sorted(raw) != sorted(PaymentSource):
        raise ValueError("each of " + ", ".join(PaymentSource) + " is expected exactly once")
    if raw[-1] != PaymentSource.CASH:
        raise ValueError("cash must come last")
    return tuple(PaymentSource(item) for item in raw)


def parse_timezone(raw: object) -> str:
    """An IANA time-zone name such as ``Asia/Shanghai`` (checked for shape; the zone database
    is consulted where the zone is used, outside the domain)."""
    if not isinstance(raw, str) or _TIMEZONE.fullmatch(raw) is None:
        raise ValueError("an IANA time-zone name such as Asia/Shanghai is expected")
    return raw


REFMSG_TIME_FORMATS = ("yyyy-MM-dd HH:mm:ss.SSS", "yyyyMMddHHmmssSSS")
"""The two ways provinces write the national interface's ``refmsg_time`` and ``respond_time``."""


def parse_refmsg_time_format(raw: object) -> str:
    if raw not in REFMSG_TIME_FORMATS:
        raise ValueError(f"one of {', '.join(REFMSG_TIME_FORMATS)} is expected")
    return str(raw)


POLICY_KEYS: Mapping[str, Callable[[object], PolicyValue]] = MappingProxyType(
    {
        "grants_per_day_max": parse_count,
        "grants_per_day_count_rejected_and_expired": parse_flag,
        "grant_amount_max_fen": parse_amount_fen,
        "grant_monthly_cap_fen": parse_optional_amount_fen,
        "grant_yearly_cap_fen": parse_optional_amount_fen,
        "quiet_hours_start": parse_clock_time,
        "quiet_hours_end": parse_clock_time,
        "offer_expiry_time": parse_clock_time,
        "offer_expiry_after_days": parse_days_at_least_one,
        "one_open_offer_per_pair": parse_flag,
        "onward_granting_allowed": parse_flag,
        "grant_revocation_allowed_after_days": parse_days,
        "authorization_scope": parse_authorization_scope,
        "own_spending_current_year_first": parse_flag,
        "mutual_aid_earlier_years_only": parse_flag,
        "wallet_place_of_use_change_allowed": parse_flag,
        "payment_order": parse_payment_order,
        "business_timezone": parse_timezone,
        "resident_premium_fen": parse_amount_fen,
        "long_term_care_premium_fen": parse_amount_fen,
        "fsi_refmsg_time_format": parse_refmsg_time_format,
        "kinship_generation_gap_min_years": parse_count,
        "payment_password_required": parse_flag,
        "mutual_aid_choice_default": parse_flag,
    }
)
"""Every policy key, in the order of the ``Policy`` fields, with its parser."""


@dataclass(frozen=True)
class Policy:
    """The parameters in force for one region on one date (docs/rules.md §3, §4, §6, §9).

    Each field is checked by the parser of its key, so a ``Policy`` built in code obeys the
    same bounds as one read from a file.
    """

    grants_per_day_max: int
    grants_per_day_count_rejected_and_expired: bool
    grant_amount_max_fen: int
    grant_monthly_cap_fen: int | None
    grant_yearly_cap_fen: int | None
    quiet_hours_start: time
    quiet_hours_end: time
    offer_expiry_time: time
    offer_expiry_after_days: int
    one_open_offer_per_pair: bool
    onward_granting_allowed: bool
    grant_revocation_allowed_after_days: int
    authorization_scope: AuthorizationScope
    own_spending_current_year_first: bool
    mutual_aid_earlier_years_only: bool
    wallet_place_of_use_change_allowed: bool
    payment_order: tuple[PaymentSource, ...]
    business_timezone: str
    resident_premium_fen: int  # a year's individual resident contribution (§9)
    long_term_care_premium_fen: int  # a year's individual long-term-care contribution (§9)
    fsi_refmsg_time_format: str  # how the national interface writes its answer times (§8.6)
    kinship_generation_gap_min_years: int  # a parent is at least this much older (§5)
    payment_password_required: bool  # no payment before a payment password is set (§16)
    mutual_aid_choice_default: bool  # 就医时使用家庭共济 for a person who never chose (§6.2)

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            try:
                parsed = POLICY_KEYS[item.name](value)
            except ValueError as exc:
                raise PolicyValueInvalid(
                    source="code", where="Policy", key=item.name, value=repr(value), reason=str(exc)
                ) from None
            object.__setattr__(self, item.name, parsed)

    def in_quiet_hours(self, at: time) -> bool:
        """Whether no grant may be created at business time ``at``.

        The window may wrap past midnight (22:00 to 06:00); equal ends mean no quiet hours.
        """
        start, end = self.quiet_hours_start, self.quiet_hours_end
        if start <= end:
            return start <= at < end
        return at >= start or at < end
