"""Benefit tables by region and date (gongji.settlement.domain.benefit_book), without a database.

The rule: a city's table for an insutype × med_type beats its province's, which beats the
national one; the latest version in force wins and replaces older ones whole; tables are never
mixed cell by cell.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from gongji.core.errors import GongjiError
from gongji.institutions.domain.institutions import (
    InstitutionKind,
    InstitutionLevel,
    MedTypeNotAllowed,
    check_med_type,
    parse_institution_code,
)
from gongji.settlement.domain.benefit_book import BenefitBook, parse_benefit_book
from gongji.settlement.domain.benefits import Employment

PRIMARY, TERTIARY = InstitutionLevel.PRIMARY, InstitutionLevel.TERTIARY
EMPLOYED = Employment.EMPLOYED


def entry(ratio: str, **keys: Any) -> dict[str, Any]:
    return {
        "insutype": "310",
        "med_type": "11",
        "deductible_fen": 0,
        "ratio": ratio,
        "annual_cap_fen": 100_000,
        **keys,
    }


def book(*entries: dict[str, Any]) -> BenefitBook:
    return parse_benefit_book(list(entries))


def ratio(found: BenefitBook, region: str, on: date, level: InstitutionLevel = PRIMARY) -> str:
    return str(found.lookup(region, on, "310", "11", level, EMPLOYED).ratio)


def test_city_beats_province_beats_national() -> None:
    found = book(
        entry("0.50"),
        entry("0.60", region="370000"),
        entry("0.70", region="370100"),
    )
    day = date(2026, 1, 1)
    assert ratio(found, "370102", day) == "0.70"  # a district follows its city
    assert ratio(found, "370100", day) == "0.70"
    assert ratio(found, "370200", day) == "0.60"  # another city of the province
    assert ratio(found, "370000", day) == "0.60"
    assert ratio(found, "620100", day) == "0.50"


def test_the_latest_version_in_force_replaces_the_older_whole() -> None:
    found = book(
        entry("0.50"),
        entry("0.60", region="340100", effective_from="2023-01-01", level="primary"),
        entry("0.55", region="340100", effective_from="2023-01-01", level="tertiary"),
        entry("0.65", region="340100", effective_from=date(2026, 1, 1), level="tertiary"),
    )
    assert ratio(found, "340100", date(2022, 12, 31)) == "0.50"
    assert ratio(found, "340100", date(2023, 1, 1)) == "0.60"
    assert ratio(found, "340100", date(2025, 6, 1), TERTIARY) == "0.55"
    assert ratio(found, "340100", date(2026, 1, 1), TERTIARY) == "0.65"
    # The 2026 table has no primary cell: refused, not mixed with 2023's or the national one.
    with pytest.raises(GongjiError) as caught:
        ratio(found, "340100", date(2026, 1, 1))
    assert caught.value.code == "benefit_rule_missing"


def test_a_later_entry_replaces_the_same_cell() -> None:
    found = book(entry("0.50"), entry("0.52"))
    assert ratio(found, "110100", date(2026, 1, 1)) == "0.52"
    assert len(found.table(None, date(2026, 1, 1)).entries) == 1


def test_the_table_of_a_region_has_one_governing_table_per_pair() -> None:
    found = book(
        entry("0.50"),
        entry("0.80", med_type="21"),
        entry("0.60", region="340100", level="primary"),
    )
    table = found.table("340100", date(2026, 1, 1))
    assert {(e.med_type, e.rule.ratio) for e in table.entries} == {
        ("11", Decimal("0.60")),
        ("21", Decimal("0.80")),
    }


@pytest.mark.parametrize(
    ("keys", "field"),
    [
        ({"region": "340102"}, "region"),  # a district: tables are per city or province
        ({"region": "34010"}, "region"),
        ({"region": 340100}, "region"),
        ({"effective_from": "2026-02-30"}, "effective_from"),
        ({"ratio": 0.5}, "ratio"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_entries_are_refused_with_the_field(keys: dict[str, Any], field: str) -> None:
    with pytest.raises(GongjiError) as caught:
        book(entry("0.50"), {**entry("0.50"), **keys})
    assert caught.value.code == "benefit_value_invalid"
    assert (caught.value.detail["entry"], caught.value.detail["field"]) == (1, field)


def test_an_empty_book_refuses_every_lookup() -> None:
    with pytest.raises(GongjiError) as caught:
        ratio(book(), "340100", date(2026, 1, 1))
    assert caught.value.code == "benefit_rule_missing"


@pytest.mark.parametrize(
    ("kind", "med_type", "allowed"),
    [
        (InstitutionKind.HOSPITAL, "11", True),
        (InstitutionKind.HOSPITAL, "14", True),
        (InstitutionKind.HOSPITAL, "21", True),
        (InstitutionKind.HOSPITAL, "41", False),
        (InstitutionKind.PHARMACY, "41", True),
        (InstitutionKind.PHARMACY, "11", False),
        (InstitutionKind.PHARMACY, "21", False),
    ],
)
def test_med_types_by_kind(kind: InstitutionKind, med_type: str, allowed: bool) -> None:
    if allowed:
        check_med_type(kind, med_type)
    else:
        with pytest.raises(MedTypeNotAllowed) as caught:
            check_med_type(kind, med_type)
        assert caught.value.message() == f"该机构不能办理此医疗类别（{med_type}）"


@pytest.mark.parametrize("code", ["H3401000000", "H340100000011", "h34010000001", "H3401000000 "])
def test_institution_codes_are_12_uppercase_letters_or_digits(code: str) -> None:
    assert parse_institution_code("H34010000001") == "H34010000001"
    with pytest.raises(GongjiError) as caught:
        parse_institution_code(code)
    assert caught.value.code == "institution_code_invalid"
