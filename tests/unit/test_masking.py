"""Masks of personal data: the shapes the design names, and totality on odd input."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gongji.core.masking import mask_id_number, mask_name, mask_phone

SETTINGS = settings(derandomize=os.environ.get("CI") == "true", max_examples=300, deadline=None)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("620102199001011234", "620102********1234"),
        ("11010519491231002X", "110105********002X"),
        ("11010519491231002x", "110105********002x"),
        (" 620102199001011234 ", "620102********1234"),
        ("620102900101123", "620102*****1123"),  # first-generation 15 digits
        ("62010219900101", "**************"),  # too short to be a number: hide it all
        ("张三李四王五赵六钱七孙八周九吴十郑冯", "*" * 18),  # not an ID at all
        ("", ""),
    ],
)
def test_mask_id_number(text: str, masked: str) -> None:
    assert mask_id_number(text) == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("张三", "张*"),
        ("张三丰", "张**"),
        ("欧阳娜娜", "欧阳**"),
        ("司马懿", "司马*"),
        ("诸葛亮", "诸葛*"),
        ("欧阳", "欧*"),  # two characters: surname 欧, given name 阳
        ("张", "*"),
        (" 李四 ", "李*"),
        ("买买提·艾力", "买*****"),
        ("", ""),
    ],
)
def test_mask_name(text: str, masked: str) -> None:
    assert mask_name(text) == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("13812345678", "138****5678"),
        ("+8613812345678", "+86*******5678"),
        ("09312345678", "093****5678"),
        ("12345678", "12****78"),  # a landline: at least four digits stay hidden
        ("123456789", "12****789"),
        ("1234567890", "123****890"),
        ("1234567", "*******"),
        ("110", "***"),
        ("", ""),
    ],
)
def test_mask_phone(text: str, masked: str) -> None:
    assert mask_phone(text) == masked


@pytest.mark.parametrize("value", [None, 620102199001011234, b"13812345678", ["张三"]])
def test_masks_never_raise_on_non_text(value: object) -> None:
    for mask in (mask_id_number, mask_name, mask_phone):
        assert mask(value) == "****"  # type: ignore[arg-type]


@SETTINGS
@given(text=st.text(max_size=40))
def test_masks_are_total_and_hide_something(text: str) -> None:
    for mask in (mask_id_number, mask_name, mask_phone):
        masked = mask(text)
        assert isinstance(masked, str)
        stripped = text.strip()
        assert len(masked) == len(stripped)
        if stripped:
            assert "*" in masked


@SETTINGS
@given(digits=st.text(alphabet="0123456789", min_size=18, max_size=18))
def test_id_mask_hides_the_birth_date_and_sequence(digits: str) -> None:
    masked = mask_id_number(digits)
    assert masked[6:14] == "*" * 8
    assert masked[:6] == digits[:6]
    assert masked[-4:] == digits[-4:]
