"""The payment password (支付密码): six digits a person types before money leaves their account
(a grant offer, an authorization, a premium paid), and which of them are too easy to guess.

Six digits are a million choices, but people pick the same few: one digit six times, a run
(123456, 654321), a short pattern repeated (121212, 123123), their birthday, the end of their ID
number. A guesser who knows the person (a relative, a thief holding the phone) tries those
first, so they are refused when the password is set. The birth date and the ID number come in
from the caller, read from the encrypted ID in memory; nothing here stores them.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from itertools import pairwise
from typing import ClassVar, Final

from gongji.core.errors import GongjiError

PIN_LENGTH: Final = 6
_PIN: Final = re.compile(r"^[0-9]{6}$")


class WeakReason(StrEnum):
    REPEATED = "repeated"  # 000000, 121212, 123123
    SEQUENCE = "sequence"  # 123456, 654321, 901234
    BIRTHDAY = "birthday"  # the person's birth date as YYMMDD, MMDDYY, DDMMYY, YYYYMM, MMDDYY
    ID_NUMBER = "id_number"  # the last six characters of the person's ID number


class PaymentPasswordMalformed(GongjiError):
    code: ClassVar[str] = "payment_password_malformed"
    message_zh: ClassVar[str] = "支付密码须为 6 位数字"
    message_en: ClassVar[str] = "A payment password is 6 digits"


class PaymentPasswordWeak(GongjiError):
    code: ClassVar[str] = "payment_password_weak"
    message_zh: ClassVar[str] = "支付密码过于简单（{why_zh}），请换一个"
    message_en: ClassVar[str] = (
        "This payment password is too easy to guess ({why_en}); choose another"
    )


class PaymentPasswordMismatch(GongjiError):
    code: ClassVar[str] = "payment_password_mismatch"
    message_zh: ClassVar[str] = "两次输入的支付密码不一致"
    message_en: ClassVar[str] = "The two payment passwords differ"


_WHY: Final[dict[WeakReason, tuple[str, str]]] = {
    WeakReason.REPEATED: ("重复的数字", "repeated digits"),
    WeakReason.SEQUENCE: ("连续的数字", "consecutive digits"),
    WeakReason.BIRTHDAY: ("与出生日期相同", "your birth date"),
    WeakReason.ID_NUMBER: ("与身份证号后六位相同", "the end of your ID number"),
}


def parse_pin(text: str | None) -> str:
    """The six digits as typed (surrounding spaces dropped), or ``payment_password_malformed``."""
    pin = (text or "").strip()
    if not _PIN.match(pin):
        raise PaymentPasswordMalformed()
    return pin


def weakness(
    pin: str, birth_date: date | None = None, id_number: str | None = None
) -> WeakReason | None:
    """Why ``pin`` is too easy to guess, or None."""
    for period in (1, 2, 3):
        if pin == (pin[:period] * PIN_LENGTH)[:PIN_LENGTH]:
            return WeakReason.REPEATED
    steps = {(int(b) - int(a)) % 10 for a, b in pairwise(pin)}
    if steps in ({1}, {9}):
        return WeakReason.SEQUENCE
    if birth_date is not None and pin in birthday_forms(birth_date):
        return WeakReason.BIRTHDAY
    if id_number is not None and pin == id_number.strip().upper()[-PIN_LENGTH:]:
        return WeakReason.ID_NUMBER
    return None


def birthday_forms(born: date) -> frozenset[str]:
    """The ways people write their birthday in six digits."""
    year, yy, mm, dd = (
        f"{born.year:04d}",
        f"{born.year % 100:02d}",
        f"{born.month:02d}",
        f"{born.day:02d}",
    )
    return frozenset(
        {yy + mm + dd, mm + dd + yy, dd + mm + yy, year + mm, mm + year, year[2:] + mm + dd}
    )


def check_new_pin(
    pin: str, repeated: str, birth_date: date | None = None, id_number: str | None = None
) -> str:
    """A new password as typed twice: well formed, the same both times, not easy to guess."""
    chosen = parse_pin(pin)
    if repeated.strip() != chosen:
        raise PaymentPasswordMismatch()
    reason = weakness(chosen, birth_date, id_number)
    if reason is not None:
        why_zh, why_en = _WHY[reason]
        raise PaymentPasswordWeak(why_zh=why_zh, why_en=why_en, reason=reason.value)
    return chosen
