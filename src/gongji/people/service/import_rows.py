"""Reading one line of an import file into a typed value, or refusing it (docs/rules.md §3).

Only what a line says by itself is checked here (shapes, codes, check digits, amounts); what
needs the database or the rest of the file is checked by :mod:`gongji.people.service.imports`. Each
function raises the first problem of its line as a GongjiError, which the import turns into a
line error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Final

from gongji.core.enrolment import INSUTYPE_EMPLOYEE, INSUTYPE_RESIDENT, EnrolmentStatus
from gongji.core.errors import GongjiError
from gongji.core.ids import parse_resident_id
from gongji.core.money import parse_yuan
from gongji.core.regions import Region
from gongji.kernel.errors import RegionUnknown
from gongji.people.domain import import_errors
from gongji.people.domain.kinship import Kinship, parse_kinship
from gongji.people.service.persons import PersonInput

PERSON_COLUMNS: Final = (
    "psn_no",
    "id_number",
    "name",
    "mobile",
    "insutype",
    "region",
    "status",
    "employment",
    "start_date",
    "balance_current",
    "balance_earlier",
)
INJECTION_COLUMNS: Final = ("psn_no", "month", "amount")
KINSHIP_COLUMNS: Final = ("id_number", "relative_id_number", "kind")

PSN_NO_LENGTH_MAX: Final = 32
NAME_LENGTH_MAX: Final = 40
EMPLOYMENTS: Final = frozenset({"employed", "retired"})
INSUTYPES: Final = frozenset({INSUTYPE_EMPLOYEE, INSUTYPE_RESIDENT})
_PSN_NO: Final = re.compile(rf"[A-Za-z0-9]{{1,{PSN_NO_LENGTH_MAX}}}")
_MOBILE: Final = re.compile(r"1[0-9]{10}")
_MONTH: Final = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")
_ISO_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True, slots=True)
class InjectionLine:
    line: int
    psn_no: str
    month: str  # YYYY-MM
    amount_fen: int


@dataclass(frozen=True, slots=True)
class KinshipLine:
    """A registry record: the relative is the person's ``kind``."""

    line: int
    id_number: str
    relative_id_number: str
    kind: Kinship


def parse_person(
    cells: Mapping[str, str], *, today: date, regions: Mapping[str, Region]
) -> PersonInput:
    """A person and one enrolment; empty balances are zero (resident rows usually leave them).

    Cells are checked in column order, so the error names the leftmost thing wrong.
    """
    psn_no = parse_psn_no(cells["psn_no"])
    identity = parse_resident_id(cells["id_number"], today=today)
    name, mobile = _name(cells["name"]), _mobile(cells["mobile"])
    insutype = _choice(
        cells["insutype"], INSUTYPES, import_errors.InsutypeUnknown(insutype=cells["insutype"])
    )
    region, status = _region(cells["region"], regions), _status(cells["status"])
    employment = _choice(
        cells["employment"],
        EMPLOYMENTS,
        import_errors.EmploymentUnknown(employment=cells["employment"]),
    )
    start_date = parse_iso_date("start_date", cells["start_date"])
    current_fen = _balance(cells["balance_current"])
    earlier_fen = _balance(cells["balance_earlier"])
    if insutype == INSUTYPE_RESIDENT and (current_fen or earlier_fen):
        raise import_errors.ResidentBalanceNotZero()
    return PersonInput(
        psn_no, identity.number, name, mobile, insutype, region, status, employment, start_date,
        current_fen, earlier_fen,
    )  # fmt: skip


def parse_injection(line: int, cells: Mapping[str, str], *, today: date) -> InjectionLine:
    """One month's injection: a month of the current year, not in the future, more than 0."""
    psn_no = parse_psn_no(cells["psn_no"])
    month = cells["month"]
    matched = _MONTH.fullmatch(month)
    if matched is None:
        raise import_errors.InjectionMonthInvalid(month=month)
    year, number = int(matched.group(1)), int(matched.group(2))
    if (year, number) > (today.year, today.month):
        raise import_errors.InjectionMonthFuture(month=month)
    if year < today.year:
        raise import_errors.InjectionMonthClosedYear(month=month, year=today.year)
    amount_fen = parse_yuan(cells["amount"], allow_zero=False)
    return InjectionLine(line, psn_no, month, amount_fen)


def parse_kinship_line(line: int, cells: Mapping[str, str], *, today: date) -> KinshipLine:
    person = parse_resident_id(cells["id_number"], today=today).number
    relative = parse_resident_id(cells["relative_id_number"], today=today).number
    if person == relative:
        raise import_errors.KinshipWithSelf()
    return KinshipLine(line, person, relative, parse_kinship(cells["kind"]))


def parse_psn_no(text: str) -> str:
    if _PSN_NO.fullmatch(text) is None:
        raise import_errors.PsnNoInvalid(
            psn_no=text[: PSN_NO_LENGTH_MAX + 1], limit=PSN_NO_LENGTH_MAX
        )
    return text


def parse_iso_date(field: str, text: str) -> date:
    """``YYYY-MM-DD`` only: other shapes ``fromisoformat`` takes (``20260101``) are refused."""
    try:
        if _ISO_DATE.fullmatch(text) is None:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise import_errors.DateInvalid(field=field, value=text[:20]) from None


def _name(text: str) -> str:
    if not text or len(text) > NAME_LENGTH_MAX:
        raise import_errors.NameInvalid(limit=NAME_LENGTH_MAX)
    return text


def _mobile(text: str) -> str | None:
    if not text:
        return None
    if _MOBILE.fullmatch(text) is None:
        raise import_errors.MobileInvalid()
    return text


def _region(code: str, regions: Mapping[str, Region]) -> str:
    if code not in regions:
        raise RegionUnknown(region=code[:6])
    return code


def _status(text: str) -> EnrolmentStatus:
    try:
        return EnrolmentStatus(text)
    except ValueError:
        raise import_errors.EnrolmentStatusUnknown(status=text[:10]) from None


def _choice(text: str, allowed: frozenset[str], refusal: GongjiError) -> str:
    if text not in allowed:
        raise refusal
    return text


def _balance(text: str) -> int:
    return 0 if text == "" else parse_yuan(text)
