"""Resident identity numbers (居民身份证号码, GB 11643) read, checked and made.

A person's sex and birth date are derived from the number, never typed in separately, so they
cannot disagree with it. The number is personal data: errors raised here never carry it, and a
:class:`ResidentId` prints masked.

The domain reads no clock: whoever wants "birth date not in the future" passes ``today``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

from gongji.core.errors import GongjiError
from gongji.core.masking import mask_id_number

ID_NUMBER_LENGTH: Final = 18
BIRTH_YEAR_MIN: Final = 1900
SEQUENCE_MAX: Final = 999

_PROVINCE_CODE_RANGES: Final = ((11, 15), (21, 23), (31, 37), (41, 46), (50, 54), (61, 65))
PROVINCE_CODES: Final = frozenset(
    [str(code) for low, high in _PROVINCE_CODE_RANGES for code in range(low, high + 1)]
    + ["71", "81", "82"]
)
"""First two digits of a resident ID: the provinces, Taiwan (71), Hong Kong (81), Macao (82).

The Production and Construction Corps (660000) is a region of insurance but not of ID numbers:
its people carry Xinjiang (65) numbers.
"""

# ISO 7064 MOD 11-2: weight of position i (0-based, from the left) is 2**(17 - i) mod 11.
_CHECK_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_SYMBOLS: Final = "10X98765432"
_DIGITS: Final = frozenset("0123456789")


class Sex(StrEnum):
    """Sex as the national code table (GB/T 2261.1) writes it; the ID gives only these two."""

    MALE = "1"
    FEMALE = "2"


class IdNumberLength(GongjiError):
    """The number does not have 18 characters."""

    code = "id_number_length"
    message_zh = "身份证号码应为18位，实际为{length}位"
    message_en = "A resident ID number has 18 characters, not {length}"


class IdNumberCharacters(GongjiError):
    """A character other than a digit, or other than a digit or X in the last place."""

    code = "id_number_characters"
    message_zh = "身份证号码第{position}位字符不正确"
    message_en = "Character {position} of the resident ID number is not allowed"


class IdNumberRegion(GongjiError):
    """The first six digits do not start with a province code."""

    code = "id_number_region"
    message_zh = "身份证号码中的地区代码不正确：{region_code}"
    message_en = "The region code of the resident ID number is not valid: {region_code}"


class IdNumberBirthDate(GongjiError):
    """Digits 7 to 14 are not a real date from 1900 up to today."""

    code = "id_number_birth_date"
    message_zh = "身份证号码中的出生日期不正确"
    message_en = "The birth date in the resident ID number is not valid"


class IdNumberCheckDigit(GongjiError):
    """The last character is not the MOD 11-2 check of the first seventeen: a typo."""

    code = "id_number_check_digit"
    message_zh = "身份证号码校验位不正确，请核对号码"
    message_en = "The check digit of the resident ID number does not match; check the number"


class IdNumberSequence(GongjiError):
    """A sequence outside 0–999 was asked of :func:`make_resident_id`."""

    code = "id_number_sequence"
    message_zh = "身份证号码顺序码应在0到999之间：{sequence}"
    message_en = "The sequence of a resident ID number is from 0 to 999, not {sequence}"


@dataclass(frozen=True, slots=True, repr=False)
class ResidentId:
    """A checked resident ID number and what it says about its holder."""

    number: str
    region_code: str
    birth_date: date
    sex: Sex

    def __repr__(self) -> str:
        # Logs and tracebacks print values; the number must reach them masked.
        return f"ResidentId({mask_id_number(self.number)})"


def parse_resident_id(text: str, *, today: date | None = None) -> ResidentId:
    """Check ``text`` as a resident ID number and return it with region, birth date and sex.

    Surrounding whitespace is dropped and a lowercase ``x`` is read as ``X``, the two slips
    people make when typing a number that is otherwise right. Checks run from the cheapest to
    the most specific so that the error names the first thing wrong.
    """
    if not isinstance(text, str):
        raise IdNumberCharacters(position=1)
    number = text.strip().upper()
    if len(number) != ID_NUMBER_LENGTH:
        raise IdNumberLength(length=len(number))
    _check_characters(number)
    region_code = number[:6]
    _check_region(region_code)
    birth_date = _birth_date(number[6:14], today)
    if check_digit(number[:17]) != number[17]:
        raise IdNumberCheckDigit()
    sex = Sex.MALE if int(number[16]) % 2 == 1 else Sex.FEMALE
    return ResidentId(number=number, region_code=region_code, birth_date=birth_date, sex=sex)


def _check_characters(number: str) -> None:
    """Seventeen ASCII digits then a digit or X (full-width digits are not digits here)."""
    for index, character in enumerate(number[:17]):
        if character not in _DIGITS:
            raise IdNumberCharacters(position=index + 1)
    if number[17] not in _DIGITS and number[17] != "X":
        raise IdNumberCharacters(position=ID_NUMBER_LENGTH)


def _check_region(region_code: str) -> None:
    """Structural check only: the full division table belongs to reference data, not here."""
    if len(region_code) != 6 or not set(region_code) <= _DIGITS:
        raise IdNumberRegion(region_code=region_code[:6])
    if region_code[:2] not in PROVINCE_CODES:
        raise IdNumberRegion(region_code=region_code)


def _birth_date(digits: str, today: date | None) -> date:
    """Read YYYYMMDD as a real calendar date from 1900, not after ``today`` when given."""
    try:
        birth = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise IdNumberBirthDate() from None
    if birth.year < BIRTH_YEAR_MIN or (today is not None and birth > today):
        raise IdNumberBirthDate()
    return birth


def check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first seventeen digits.

    It catches every single wrong character and every swap of two neighbours, the usual typos.
    """
    if len(first17) != ID_NUMBER_LENGTH - 1:
        raise IdNumberLength(length=len(first17))
    total = 0
    for index, (character, weight) in enumerate(zip(first17, _CHECK_WEIGHTS, strict=True)):
        if character not in _DIGITS:
            raise IdNumberCharacters(position=index + 1)
        total += int(character) * weight
    return _CHECK_SYMBOLS[total % 11]


def make_resident_id(region_code: str, birth: date, sequence: int) -> str:
    """Build a valid number from its parts, check character included (tests, demo data).

    An odd ``sequence`` makes a man's number and an even one a woman's, as on real cards.
    """
    _check_region(region_code)
    if birth.year < BIRTH_YEAR_MIN:
        raise IdNumberBirthDate()
    if isinstance(sequence, bool) or not 0 <= sequence <= SEQUENCE_MAX:
        raise IdNumberSequence(sequence=sequence)
    first17 = f"{region_code}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_digit(first17)
