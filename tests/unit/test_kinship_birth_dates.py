"""Relations checked against birth dates (docs/rules.md §5): a parent at least the policy's gap
older than the child, a grandparent twice it; spouses and siblings carry no age rule."""

from __future__ import annotations

from datetime import date

import pytest

from gongji.people.domain.kinship import Kinship, KinshipBirthDatesImplausible, check_birth_dates

B1968, B1994 = date(1968, 5, 1), date(1994, 5, 1)


def test_a_person_born_in_1994_is_not_the_parent_of_one_born_in_1968() -> None:
    with pytest.raises(KinshipBirthDatesImplausible) as caught:
        check_birth_dates(Kinship.PARENT, B1968, B1994, 14)
    assert caught.value.code == "kinship_birth_dates_implausible"
    assert caught.value.message() == "出生日期与亲属关系“父母”不符：长辈应比晚辈年长至少 14 岁"


def test_the_same_claim_seen_from_the_parent_is_refused_too() -> None:
    with pytest.raises(KinshipBirthDatesImplausible):
        check_birth_dates(Kinship.CHILD, B1994, B1968, 14)


def test_the_real_direction_passes() -> None:
    check_birth_dates(Kinship.PARENT, B1994, B1968, 14)
    check_birth_dates(Kinship.CHILD, B1968, B1994, 14)


@pytest.mark.parametrize(("elder", "passes"), [(date(1980, 5, 1), True), (date(1980, 5, 2), False)])
def test_the_gap_is_counted_to_the_day(elder: date, passes: bool) -> None:
    younger = date(1994, 5, 1)
    if passes:
        check_birth_dates(Kinship.PARENT, younger, elder, 14)
    else:
        with pytest.raises(KinshipBirthDatesImplausible):
            check_birth_dates(Kinship.PARENT, younger, elder, 14)


def test_a_grandparent_needs_twice_the_gap() -> None:
    grandchild = date(2010, 1, 1)
    with pytest.raises(KinshipBirthDatesImplausible):
        check_birth_dates(Kinship.MATERNAL_GRANDPARENT, grandchild, date(1990, 1, 1), 14)
    check_birth_dates(Kinship.MATERNAL_GRANDPARENT, grandchild, date(1982, 1, 1), 14)
    with pytest.raises(KinshipBirthDatesImplausible):
        check_birth_dates(Kinship.GRANDCHILD_VIA_SON, date(1990, 1, 1), grandchild, 14)


@pytest.mark.parametrize("kind", [Kinship.SPOUSE, Kinship.SIBLING])
def test_spouses_and_siblings_have_no_age_rule(kind: Kinship) -> None:
    check_birth_dates(kind, B1968, B1994, 14)
    check_birth_dates(kind, B1994, B1968, 14)


def test_a_leap_day_birth_counts_to_the_28th_in_a_common_year() -> None:
    check_birth_dates(Kinship.PARENT, date(1995, 2, 28), date(1980, 2, 29), 15)
    with pytest.raises(KinshipBirthDatesImplausible):
        check_birth_dates(Kinship.PARENT, date(1995, 2, 27), date(1980, 2, 29), 15)
