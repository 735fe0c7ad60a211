"""Resident ID numbers: GB 11643 structure and the ISO 7064 MOD 11-2 check character."""

from __future__ import annotations

import os
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gongji.core.errors import GongjiError
from gongji.core.ids import (
    IdNumberBirthDate,
    IdNumberCharacters,
    IdNumberCheckDigit,
    IdNumberLength,
    IdNumberRegion,
    IdNumberSequence,
    ResidentId,
    Sex,
    check_digit,
    make_resident_id,
    parse_resident_id,
)

SETTINGS = settings(derandomize=os.environ.get("CI") == "true", max_examples=200, deadline=None)

TODAY = date(2026, 1, 9)
REAL_REGIONS = ["620102", "620100", "110101", "310104", "440305", "650102", "510104", "820000"]
SYMBOLS = "0123456789X"

valid_ids = st.builds(
    lambda region, birth, sequence: (
        make_resident_id(region, birth, sequence),
        region,
        birth,
        sequence,
    ),
    st.sampled_from(REAL_REGIONS),
    st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    st.integers(min_value=0, max_value=999),
)


def _with_check(first17: str) -> str:
    return first17 + check_digit(first17)


# --- known numbers ------------------------------------------------------------------------------


def test_parse_the_standards_example() -> None:
    # The worked example of GB 11643-1999: check character X.
    resident = parse_resident_id("11010519491231002X", today=TODAY)
    assert resident.number == "11010519491231002X"
    assert resident.region_code == "110105"
    assert resident.birth_date == date(1949, 12, 31)
    assert resident.sex is Sex.FEMALE


def test_check_digit_examples() -> None:
    assert check_digit("11010519491231002") == "X"
    assert make_resident_id("110105", date(1949, 12, 31), 2) == "11010519491231002X"


def test_lowercase_x_and_surrounding_space_are_normalised() -> None:
    resident = parse_resident_id("  11010519491231002x\n")
    assert resident.number == "11010519491231002X"


def test_sex_follows_the_seventeenth_digit() -> None:
    assert parse_resident_id(make_resident_id("620102", date(1990, 1, 1), 123)).sex is Sex.MALE
    assert parse_resident_id(make_resident_id("620102", date(1990, 1, 1), 124)).sex is Sex.FEMALE
    assert [sex.value for sex in Sex] == ["1", "2"]


def test_resident_id_prints_masked() -> None:
    number = make_resident_id("620102", date(1990, 1, 1), 123)
    resident = parse_resident_id(number)
    assert number not in repr(resident)
    assert number not in str(resident)
    assert repr(resident) == f"ResidentId(620102********{number[-4:]})"


def test_today_is_optional_and_birth_today_is_accepted() -> None:
    number = make_resident_id("620102", TODAY, 1)
    assert parse_resident_id(number, today=TODAY).birth_date == TODAY
    assert parse_resident_id(number).birth_date == TODAY


# --- one example per refusal code ---------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "1234567", "11010519491231002", "11010519491231002X1"])
def test_refuses_wrong_length(text: str) -> None:
    with pytest.raises(IdNumberLength) as caught:
        parse_resident_id(text)
    assert caught.value.code == "id_number_length"


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("A1010519491231002X", 1),
        ("1101051949123100X2", 17),
        ("11010519491231002Y", 18),
        ("1101051949-231002X", 11),
        ("１1010519491231002X", 1),  # full-width digit
    ],
)
def test_refuses_wrong_characters(text: str, position: int) -> None:
    with pytest.raises(IdNumberCharacters) as caught:
        parse_resident_id(text)
    assert caught.value.code == "id_number_characters"
    assert caught.value.detail["position"] == position


def test_refuses_non_text() -> None:
    with pytest.raises(IdNumberCharacters):
        parse_resident_id(110105194912310020)  # type: ignore[arg-type]


@pytest.mark.parametrize("region", ["000000", "100101", "660101", "720000", "910000", "160101"])
def test_refuses_region_outside_the_provinces(region: str) -> None:
    with pytest.raises(IdNumberRegion) as caught:
        parse_resident_id(_with_check(f"{region}19900101123"))
    assert caught.value.code == "id_number_region"


@pytest.mark.parametrize("birth", ["19900230", "19901301", "19900001", "19900100", "18991231"])
def test_refuses_unreal_birth_dates(birth: str) -> None:
    with pytest.raises(IdNumberBirthDate) as caught:
        parse_resident_id(_with_check(f"620102{birth}123"))
    assert caught.value.code == "id_number_birth_date"


def test_refuses_birth_after_today() -> None:
    number = make_resident_id("620102", date(2026, 1, 10), 123)
    with pytest.raises(IdNumberBirthDate):
        parse_resident_id(number, today=TODAY)


def test_refuses_wrong_check_digit() -> None:
    with pytest.raises(IdNumberCheckDigit) as caught:
        parse_resident_id("110105194912310021")
    assert caught.value.code == "id_number_check_digit"


def test_errors_never_carry_the_number() -> None:
    number = "110105194912310021"
    with pytest.raises(GongjiError) as caught:
        parse_resident_id(number)
    error = caught.value
    for language in ("zh", "en"):
        assert number not in str(error.as_dict(language))
    assert number not in str(error)


def test_make_resident_id_refuses_bad_parts() -> None:
    with pytest.raises(IdNumberRegion):
        make_resident_id("990000", date(1990, 1, 1), 1)
    with pytest.raises(IdNumberRegion):
        make_resident_id("62010", date(1990, 1, 1), 1)
    with pytest.raises(IdNumberBirthDate):
        make_resident_id("620102", date(1899, 12, 31), 1)
    for sequence in (-1, 1000):
        with pytest.raises(IdNumberSequence) as caught:
            make_resident_id("620102", date(1990, 1, 1), sequence)
        assert caught.value.code == "id_number_sequence"


def test_check_digit_refuses_bad_input() -> None:
    with pytest.raises(IdNumberLength):
        check_digit("1101051949123100")
    with pytest.raises(IdNumberCharacters):
        check_digit("1101051949123100A")


# --- properties ---------------------------------------------------------------------------------


@SETTINGS
@given(valid=valid_ids)
def test_every_generated_id_is_accepted_with_derived_fields(
    valid: tuple[str, str, date, int],
) -> None:
    number, region, birth, sequence = valid
    resident = parse_resident_id(number, today=TODAY)
    assert resident == ResidentId(
        number=number,
        region_code=region,
        birth_date=birth,
        sex=Sex.MALE if sequence % 2 else Sex.FEMALE,
    )


@SETTINGS
@given(valid=valid_ids)
def test_every_single_character_mutation_is_rejected(valid: tuple[str, str, date, int]) -> None:
    number = valid[0]
    mutations = 0
    for position in range(len(number)):
        for symbol in SYMBOLS:
            if symbol == number[position]:
                continue
            mutated = number[:position] + symbol + number[position + 1 :]
            with pytest.raises(GongjiError):
                parse_resident_id(mutated, today=TODAY)
            mutations += 1
            # The claim behind it: MOD 11-2 alone catches every digit substitution, whatever
            # the region and date checks would say.
            if position < 17 and symbol != "X":
                assert check_digit(mutated[:17]) != mutated[17]
    assert mutations == 17 * 10 + 10  # 10 other symbols in each of the 18 places


@SETTINGS
@given(valid=valid_ids, position=st.integers(min_value=0, max_value=16))
def test_adjacent_swaps_are_rejected(valid: tuple[str, str, date, int], position: int) -> None:
    number = valid[0]
    swapped = number[:position] + number[position + 1] + number[position] + number[position + 2 :]
    if swapped != number:
        with pytest.raises(GongjiError):
            parse_resident_id(swapped, today=TODAY)
