"""Kinship: the eight kinds of close relative (近亲属) that may share personal-account money.

A kind is read from one side: "A is B's ``kind``". The other side of the same relationship is
"B is A's ``inverse(kind)``". The grandparent kinds are the subtle ones: if A is B's paternal
grandparent (祖父母), B is A's grandchild through a son (孙子女), because B's father is A's son;
a maternal grandparent (外祖父母) has a grandchild through a daughter (外孙子女).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar

from gongji.core.errors import GongjiError


class Kinship(StrEnum):
    """What one person is to the other (the complete list of docs/rules.md §5)."""

    SPOUSE = "spouse"
    PARENT = "parent"
    CHILD = "child"
    SIBLING = "sibling"
    PATERNAL_GRANDPARENT = "paternal_grandparent"
    MATERNAL_GRANDPARENT = "maternal_grandparent"
    GRANDCHILD_VIA_SON = "grandchild_via_son"
    GRANDCHILD_VIA_DAUGHTER = "grandchild_via_daughter"

    @property
    def label_zh(self) -> str:
        """The Chinese name used in the rules, on screens and in kinship registries."""
        return _LABEL_ZH[self]

    @property
    def inverse(self) -> Kinship:
        """What the other person is to this one."""
        return _INVERSE[self]


_LABEL_ZH: dict[Kinship, str] = {
    Kinship.SPOUSE: "配偶",
    Kinship.PARENT: "父母",
    Kinship.CHILD: "子女",
    Kinship.SIBLING: "兄弟姐妹",
    Kinship.PATERNAL_GRANDPARENT: "祖父母",
    Kinship.MATERNAL_GRANDPARENT: "外祖父母",
    Kinship.GRANDCHILD_VIA_SON: "孙子女",
    Kinship.GRANDCHILD_VIA_DAUGHTER: "外孙子女",
}

_INVERSE: dict[Kinship, Kinship] = {
    Kinship.SPOUSE: Kinship.SPOUSE,
    Kinship.PARENT: Kinship.CHILD,
    Kinship.CHILD: Kinship.PARENT,
    Kinship.SIBLING: Kinship.SIBLING,
    Kinship.PATERNAL_GRANDPARENT: Kinship.GRANDCHILD_VIA_SON,
    Kinship.GRANDCHILD_VIA_SON: Kinship.PATERNAL_GRANDPARENT,
    Kinship.MATERNAL_GRANDPARENT: Kinship.GRANDCHILD_VIA_DAUGHTER,
    Kinship.GRANDCHILD_VIA_DAUGHTER: Kinship.MATERNAL_GRANDPARENT,
}

_BY_LABEL_ZH: dict[str, Kinship] = {label: kind for kind, label in _LABEL_ZH.items()}


class KinshipKindUnknown(GongjiError):
    """The text names none of the eight kinds of close relative."""

    code: ClassVar[str] = "kinship_kind_unknown"
    message_zh: ClassVar[str] = "亲属关系 {kind} 不在近亲属范围内"
    message_en: ClassVar[str] = "Kinship {kind} is not one of the close-relative kinds"


def inverse(kind: Kinship) -> Kinship:
    """What B is to A when A is B's ``kind``; applying it twice gives ``kind`` back."""
    return kind.inverse


def parse_kinship(text: str) -> Kinship:
    """The kind named by its English value (``paternal_grandparent``) or Chinese label (祖父母).

    Surrounding whitespace is ignored and English is case-insensitive; anything else is refused
    rather than guessed, because a wrong kind would let money flow to someone not entitled to it.
    """
    cleaned = text.strip() if isinstance(text, str) else ""
    kind = _BY_LABEL_ZH.get(cleaned)
    if kind is not None:
        return kind
    try:
        return Kinship(cleaned.lower())
    except ValueError:
        raise KinshipKindUnknown(kind=text) from None


_GENERATIONS: dict[Kinship, int] = {
    Kinship.PARENT: 1,
    Kinship.CHILD: -1,
    Kinship.PATERNAL_GRANDPARENT: 2,
    Kinship.MATERNAL_GRANDPARENT: 2,
    Kinship.GRANDCHILD_VIA_SON: -2,
    Kinship.GRANDCHILD_VIA_DAUGHTER: -2,
}
"""How many generations the relative stands above the person (negative: below)."""


class KinshipBirthDatesImplausible(GongjiError):
    """The birth dates (read from the ID numbers) cannot belong to the kinship stated."""

    code: ClassVar[str] = "kinship_birth_dates_implausible"
    message_zh: ClassVar[str] = "出生日期与亲属关系“{kind}”不符：长辈应比晚辈年长至少 {years} 岁"
    message_en: ClassVar[str] = (
        "The birth dates do not fit the kinship {kind}: the elder must be at least {years} years"
        " older"
    )


def check_birth_dates(
    kind: Kinship, person_born: date, relative_born: date, gap_years: int
) -> None:
    """Refuse a kinship the birth dates contradict: the relative is the person's ``kind``.

    A parent must be at least ``gap_years`` older than the child and a grandparent twice that,
    the same test seen from either side; spouses and siblings carry no age rule. The dates come
    from the ID numbers, so a proposal naming a younger person as a parent is a typing mistake
    or a false claim, and either way must not let money flow.
    """
    generations = _GENERATIONS.get(kind, 0)
    if generations == 0:
        return
    elder, younger = (
        (relative_born, person_born) if generations > 0 else (person_born, relative_born)
    )
    years = gap_years * abs(generations)
    if _add_years(elder, years) > younger:
        raise KinshipBirthDatesImplausible(kind=kind.label_zh, years=years)


def _add_years(day: date, years: int) -> date:
    """``day`` moved by whole years; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
