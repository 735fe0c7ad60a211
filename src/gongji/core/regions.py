"""Regions: 6-digit administrative division codes (医保区划, GB/T 2260) and their levels.

A code carries its own hierarchy: the first two digits name the province, the first four the
city (the pooling area, 统筹区, in most places). Policy resolution, clearing between provinces and
cities, and the checks on relationships all rely on that, so codes are validated once, here, and
the level of a region must agree with its code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from gongji.core.errors import GongjiError
from gongji.core.importing import LineError, read_csv_table

_CODE = re.compile(r"[1-9][0-9]{5}")
NAME_LENGTH_MAX = 64
REGION_CSV_COLUMNS = ("code", "name", "level")
REGION_CSV_OPTIONAL_COLUMNS = ("note",)
"""``note`` says where a code departs from plain GB/T 2260; it is for people, not for rules."""


class RegionLevel(StrEnum):
    """The level of a region, as its code spells it."""

    PROVINCE = "province"
    CITY = "city"
    DISTRICT = "district"


class RegionCodeInvalid(GongjiError):
    """A region code is not six ASCII digits with a non-zero province part."""

    code: ClassVar[str] = "region_code_invalid"
    message_zh: ClassVar[str] = "区划代码 {region} 无效，应为 6 位数字"
    message_en: ClassVar[str] = "Region code {region} is invalid: six digits expected"


class RegionLevelUnknown(GongjiError):
    """The level column names none of province, city, district."""

    code: ClassVar[str] = "region_level_unknown"
    message_zh: ClassVar[str] = "区划级别 {level} 未知，应为 province、city 或 district"
    message_en: ClassVar[str] = "Region level {level} is unknown: province, city or district"


class RegionLevelMismatch(GongjiError):
    """The stated level disagrees with the code (a province code ends in 0000, a city in 00)."""

    code: ClassVar[str] = "region_level_mismatch"
    message_zh: ClassVar[str] = "区划 {region} 的级别应为 {expected}，而非 {level}"
    message_en: ClassVar[str] = "Region {region} is a {expected}, not a {level}"


class RegionNameInvalid(GongjiError):
    """A region name is empty or too long."""

    code: ClassVar[str] = "region_name_invalid"
    message_zh: ClassVar[str] = "区划 {region} 的名称无效"
    message_en: ClassVar[str] = "Region {region} has an invalid name"


class RegionDuplicate(GongjiError):
    """The same code appears twice in one file."""

    code: ClassVar[str] = "region_duplicate"
    message_zh: ClassVar[str] = "区划 {region} 重复（首次出现在第 {first_line} 行）"
    message_en: ClassVar[str] = "Region {region} is repeated (first on line {first_line})"


def validate_region_code(code: str) -> str:
    """Return ``code`` if it is a well-formed region code, else refuse it.

    Only the shape is checked: whether the region exists is the business of the region table.
    """
    if not isinstance(code, str) or _CODE.fullmatch(code) is None:
        raise RegionCodeInvalid(region=code)
    return code


def level_of(code: str) -> RegionLevel:
    """The level a code denotes: ``xx0000`` a province, ``xxxx00`` a city, else a district."""
    validate_region_code(code)
    if code.endswith("0000"):
        return RegionLevel.PROVINCE
    if code.endswith("00"):
        return RegionLevel.CITY
    return RegionLevel.DISTRICT


def province_of(code: str) -> str:
    """The province of any region: its first two digits followed by ``0000``."""
    return validate_region_code(code)[:2] + "0000"


def city_of(code: str) -> str:
    """The city of a city or district: its first four digits followed by ``00``.

    For a province code this is the province code itself; callers that need "no city" compare
    the result with :func:`province_of`.
    """
    return validate_region_code(code)[:4] + "00"


def parse_region_level(text: str) -> RegionLevel:
    """The level named by ``text`` (``province``, ``city`` or ``district``)."""
    try:
        return RegionLevel(text)
    except ValueError:
        raise RegionLevelUnknown(level=text) from None


@dataclass(frozen=True)
class Region:
    """A region: its code, its name, and a level that must agree with the code."""

    code: str
    name: str
    level: RegionLevel

    def __post_init__(self) -> None:
        expected = level_of(self.code)
        if self.level is not expected:
            raise RegionLevelMismatch(region=self.code, expected=expected, level=self.level)
        if not self.name or self.name != self.name.strip() or len(self.name) > NAME_LENGTH_MAX:
            raise RegionNameInvalid(region=self.code)

    @property
    def province_code(self) -> str:
        return province_of(self.code)

    @property
    def city_code(self) -> str | None:
        """The city this region belongs to, or None for a province."""
        return None if self.level is RegionLevel.PROVINCE else city_of(self.code)


def parse_regions_csv(text: str) -> tuple[list[Region], list[LineError]]:
    """Parse a region table (header ``code,name,level`` and optionally ``note``).

    Every bad line is reported with its line number; good lines are kept, so a caller decides
    whether a partly bad file is refused as a whole (an import) or not (a preview).
    """
    rows, errors = read_csv_table(text, REGION_CSV_COLUMNS, REGION_CSV_OPTIONAL_COLUMNS)
    regions: list[Region] = []
    first_line_by_code: dict[str, int] = {}
    for row in rows:
        code = row.cells["code"]
        try:
            region = Region(code, row.cells["name"], parse_region_level(row.cells["level"]))
            if code in first_line_by_code:
                raise RegionDuplicate(region=code, first_line=first_line_by_code[code])
        except GongjiError as error:
            errors.append(LineError.of(row.line, error))
            continue
        first_line_by_code[code] = row.line
        regions.append(region)
    errors.sort(key=lambda error: error.line)
    return regions, errors
