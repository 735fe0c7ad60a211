"""Which payment passwords are refused (docs/rules.md §16): malformed, typed differently twice,
or easy to guess from the digits themselves or from what a relative knows."""

from __future__ import annotations

from datetime import date

import pytest

from gongji.core.errors import GongjiError
from gongji.identity.domain.payment_pins import (
    WeakReason,
    birthday_forms,
    check_new_pin,
    parse_pin,
    weakness,
)

BORN = date(1968, 4, 23)
ID_NUMBER = "62010219680423781X"


@pytest.mark.parametrize("text", ["", "12345", "1234567", "12a456", "１２３４５６", None, "12 456"])
def test_anything_but_six_ascii_digits_is_malformed(text: str | None) -> None:
    with pytest.raises(GongjiError) as caught:
        parse_pin(text)
    assert caught.value.code == "payment_password_malformed"


def test_surrounding_spaces_are_dropped() -> None:
    assert parse_pin(" 470193 ") == "470193"


@pytest.mark.parametrize(
    ("pin", "reason"),
    [
        ("000000", WeakReason.REPEATED),
        ("777777", WeakReason.REPEATED),
        ("121212", WeakReason.REPEATED),
        ("123123", WeakReason.REPEATED),
        ("123456", WeakReason.SEQUENCE),
        ("654321", WeakReason.SEQUENCE),
        ("789012", WeakReason.SEQUENCE),
        ("210987", WeakReason.SEQUENCE),
        ("680423", WeakReason.BIRTHDAY),
        ("042368", WeakReason.BIRTHDAY),
        ("230468", WeakReason.BIRTHDAY),
        ("196804", WeakReason.BIRTHDAY),
        ("041968", WeakReason.BIRTHDAY),
        ("237819", None),
        ("470193", None),
        ("258013", None),
    ],
)
def test_weak_passwords_and_why(pin: str, reason: WeakReason | None) -> None:
    assert weakness(pin, BORN, ID_NUMBER) is reason


def test_the_end_of_the_id_number_is_refused_when_it_is_all_digits() -> None:
    assert weakness("237815", BORN, "620102196804237815") is WeakReason.ID_NUMBER
    assert weakness("237815", BORN, "620102196804237816") is None


def test_without_a_birth_date_a_birthday_is_not_recognised() -> None:
    assert weakness("680423") is None


def test_birthday_forms_cover_the_usual_ways_of_writing_it() -> None:
    assert birthday_forms(date(2001, 12, 5)) == {
        "011205", "120501", "051201", "200112", "122001",
    }  # fmt: skip


def test_a_new_password_is_typed_twice_the_same() -> None:
    with pytest.raises(GongjiError) as caught:
        check_new_pin("470193", "470194", BORN, ID_NUMBER)
    assert caught.value.code == "payment_password_mismatch"
    assert check_new_pin("470193", " 470193", BORN, ID_NUMBER) == "470193"


def test_a_weak_new_password_is_refused_with_the_reason_in_chinese() -> None:
    with pytest.raises(GongjiError) as caught:
        check_new_pin("680423", "680423", BORN, ID_NUMBER)
    assert caught.value.code == "payment_password_weak"
    assert "出生日期" in caught.value.message("zh")
    assert caught.value.detail["reason"] == "birthday"
    assert "680423" not in caught.value.message("zh") + caught.value.message("en")
