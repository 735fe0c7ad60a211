"""Regions: code shape and hierarchy, the CSV importer, and the shipped region table."""

from __future__ import annotations

import pytest

from gongji.core.errors import GongjiError
from gongji.core.regions import (
    Region,
    RegionCodeInvalid,
    RegionLevel,
    city_of,
    level_of,
    parse_regions_csv,
    province_of,
    validate_region_code,
)
from gongji.kernel.reference import load_regions


def test_hierarchy_of_a_district_code() -> None:
    assert province_of("620102") == "620000"
    assert city_of("620102") == "620100"
    assert level_of("620102") is RegionLevel.DISTRICT
    assert level_of("620100") is RegionLevel.CITY
    assert level_of("620000") is RegionLevel.PROVINCE


@pytest.mark.parametrize(
    "code", ["62010", "6201000", "62a100", "", "000000", "６２０１００", " 620100"]
)
def test_malformed_codes_are_refused(code: str) -> None:
    with pytest.raises(RegionCodeInvalid) as caught:
        validate_region_code(code)
    assert caught.value.code == "region_code_invalid"
    with pytest.raises(RegionCodeInvalid):
        province_of(code)


def test_a_region_level_must_agree_with_its_code() -> None:
    with pytest.raises(GongjiError) as caught:
        Region("620100", "兰州市", RegionLevel.PROVINCE)
    assert caught.value.code == "region_level_mismatch"


def test_csv_reports_every_bad_line_and_keeps_the_good_ones() -> None:
    text = "\n".join(
        [
            "code,name,level",
            "620000,甘肃省,province",
            "62010,兰州市,city",
            "620100,兰州市,county",
            "620102,城关区,city",
            "620103,,district",
            "620000,甘肃,province",
            "620104,西固区",
            "",
            "620105,安宁区,district",
        ]
    )
    regions, errors = parse_regions_csv(text)
    assert [region.code for region in regions] == ["620000", "620105"]
    assert [(error.line, error.code) for error in errors] == [
        (3, "region_code_invalid"),
        (4, "region_level_unknown"),
        (5, "region_level_mismatch"),
        (6, "region_name_invalid"),
        (7, "region_duplicate"),
        (8, "csv_columns_invalid"),
    ]
    assert all(error.message for error in errors)


@pytest.mark.parametrize("header", ["", "code,name", "name,code,level", "code,name,level,extra"])
def test_csv_with_a_wrong_header_is_refused(header: str) -> None:
    regions, errors = parse_regions_csv(header + "\n620000,甘肃省,province\n")
    assert regions == []
    assert [(error.line, error.code) for error in errors] == [(1, "csv_header_invalid")]


def test_csv_accepts_a_byte_order_mark_and_quoted_cells() -> None:
    regions, errors = parse_regions_csv('\ufeffcode,name,level\r\n"620000","甘肃省",province\r\n')
    assert errors == []
    assert regions == [Region("620000", "甘肃省", RegionLevel.PROVINCE)]


def test_csv_reports_malformed_text() -> None:
    _, errors = parse_regions_csv('code,name,level\n620000,"甘肃省,province\n')
    assert [error.code for error in errors] == ["csv_malformed"]


def test_shipped_regions_parse_with_32_provinces_each_with_its_capital() -> None:
    regions = load_regions()
    provinces = {r.code for r in regions if r.level is RegionLevel.PROVINCE}
    cities = {r.code for r in regions if r.level is RegionLevel.CITY}
    assert len(provinces) == 32
    assert "660000" in provinces
    assert {province[:2] + "0100" for province in provinces} <= cities
    assert all(province_of(city) in provinces for city in cities)
    assert len(regions) == len({r.code for r in regions})


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("110000", "北京市"),
        ("620000", "甘肃省"),
        ("620100", "兰州市"),
        ("370000", "山东省"),
        ("370100", "济南市"),
        ("371400", "德州市"),
        ("440100", "广州市"),
        ("510100", "成都市"),
        ("340100", "合肥市"),
        ("650100", "乌鲁木齐市"),
        ("660000", "新疆生产建设兵团"),
    ],
)
def test_shipped_regions_use_real_codes(code: str, name: str) -> None:
    assert {r.code: r.name for r in load_regions()}[code] == name
