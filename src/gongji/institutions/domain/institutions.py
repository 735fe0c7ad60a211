"""Designated institutions (定点医药机构): who they are and which medical categories they settle.

An institution is named by its 12-character code (the national interface's ``fixmedins_code``),
is a hospital (graded primary, secondary, tertiary or ungraded ``none``) or a pharmacy (always
``none``), belongs to one region, and is active or suspended. Suspension stops its settlements,
not its identity: it still signs in, reconciles and reads its own history.

Which medical category (``med_type``) an institution may settle is a rule of its kind, kept here
as data: hospitals do outpatient (11), outpatient chronic/special disease (14) and inpatient (21)
care; pharmacies sell (41). The categories are constants of the national interface, not a table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, TypeVar

from gongji.core.errors import GongjiError
from gongji.core.regions import validate_region_code


class InstitutionLevel(StrEnum):
    """Hospital grade (医院等级); pharmacies and ungraded institutions are ``none``."""

    PRIMARY = "primary"
    SECONDARY = "secondary"
    TERTIARY = "tertiary"
    NONE = "none"


INSTITUTION_CODE_LENGTH: Final = 12
INSTITUTION_NAME_LENGTH_MAX: Final = 100
INSTITUTION_COLUMNS: Final = (
    "code",
    "name",
    "region",
    "kind",
    "level",
    "supports_wallet",
    "status",
)
_CODE: Final = re.compile(r"[A-Z0-9]{12}")
_E = TypeVar("_E", bound=StrEnum)


class MedType(StrEnum):
    """Medical categories (医疗类别 ``med_type``) gongji settles."""

    OUTPATIENT = "11"  # 普通门诊
    OUTPATIENT_CHRONIC = "14"  # 门诊慢特病
    INPATIENT = "21"  # 住院
    PHARMACY = "41"  # 定点药店购药


class InstitutionKind(StrEnum):
    HOSPITAL = "hospital"
    PHARMACY = "pharmacy"


class InstitutionStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


MED_TYPES_ALLOWED: Final[Mapping[InstitutionKind, frozenset[str]]] = {
    InstitutionKind.HOSPITAL: frozenset({MedType.OUTPATIENT, MedType.OUTPATIENT_CHRONIC,
                                         MedType.INPATIENT}),
    InstitutionKind.PHARMACY: frozenset({MedType.PHARMACY}),
}  # fmt: skip
"""What each kind may settle. Kept simple on purpose: no grade rule (a bureau that lets only
secondary hospitals admit inpatients says so in its contracts, not in gongji)."""


class InstitutionCodeInvalid(GongjiError):
    code = "institution_code_invalid"
    message_zh = "定点医药机构编码 {institution_code} 无效，应为 12 位大写字母或数字"
    message_en = "Institution code {institution_code} is invalid: 12 uppercase letters or digits"


class InstitutionUnknown(GongjiError):
    code = "institution_unknown"
    message_zh = "定点医药机构 {institution_code} 不存在"
    message_en = "There is no designated institution {institution_code}"


class InstitutionSuspended(GongjiError):
    code = "institution_suspended"
    message_zh = "定点医药机构 {institution_code} 已暂停服务"
    message_en = "Designated institution {institution_code} is suspended"


class MedTypeNotAllowed(GongjiError):
    code = "med_type_not_allowed"
    message_zh = "该机构不能办理此医疗类别（{med_type}）"
    message_en = "This institution cannot settle medical category {med_type}"


class InstitutionFieldInvalid(GongjiError):
    """A field of an institution is not one of the values it may take."""

    code = "institution_field_invalid"
    message_zh = "机构信息 {field} 的值 {value} 无效，应为 {expected}"
    message_en = "Institution field {field} has invalid value {value}: {expected} expected"


class InstitutionCodeDuplicate(GongjiError):
    code = "institution_code_duplicate"
    message_zh = "机构编码 {institution_code} 在文件中重复（首次出现在第 {first_line} 行）"
    message_en = "Institution code {institution_code} is repeated (first on line {first_line})"


@dataclass(frozen=True, slots=True)
class Institution:
    """A designated institution as registered; equal values mean an import changes nothing."""

    code: str
    name: str
    region: str
    kind: InstitutionKind
    level: InstitutionLevel
    supports_wallet: bool
    status: InstitutionStatus


def parse_institution_code(text: str) -> str:
    if not isinstance(text, str) or _CODE.fullmatch(text) is None:
        raise InstitutionCodeInvalid(institution_code=str(text)[:40])
    return text


def check_med_type(kind: InstitutionKind, med_type: str) -> None:
    """Refuse a medical category this kind of institution does not provide."""
    if med_type not in MED_TYPES_ALLOWED[kind]:
        raise MedTypeNotAllowed(med_type=med_type, kind=kind.value)


def parse_institution(cells: Mapping[str, str]) -> Institution:
    """An institution from the cells of an import line (or an operator's form).

    The region's format is checked here; whether it is a known region is the caller's check.
    """
    code = parse_institution_code(cells["code"])
    name = cells["name"]
    if not name or len(name) > INSTITUTION_NAME_LENGTH_MAX:
        raise _field("name", name[:40], f"1–{INSTITUTION_NAME_LENGTH_MAX} characters")
    kind = _choice(cells["kind"], "kind", InstitutionKind)
    level = _choice(cells["level"], "level", InstitutionLevel)
    if kind is InstitutionKind.PHARMACY and level is not InstitutionLevel.NONE:
        raise _field("level", level.value, "none (a pharmacy has no grade)")
    return Institution(
        code=code,
        name=name,
        region=validate_region_code(cells["region"]),
        kind=kind,
        level=level,
        supports_wallet=_flag(cells["supports_wallet"], "supports_wallet"),
        status=_choice(cells["status"], "status", InstitutionStatus),
    )


def _choice(text: str, field: str, kind: type[_E]) -> _E:
    values = [member.value for member in kind]
    if text not in values:
        raise _field(field, text[:40], " | ".join(values))
    return kind(text)


def _flag(text: str, field: str) -> bool:
    if text not in ("0", "1"):
        raise _field(field, text[:40], "0 | 1")
    return text == "1"


def _field(field: str, value: str, expected: str) -> InstitutionFieldInvalid:
    return InstitutionFieldInvalid(field=field, value=value, expected=expected)
