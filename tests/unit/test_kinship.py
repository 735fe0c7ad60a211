"""Kinship: the eight kinds of close relative of docs/rules.md §5, their labels and inverses."""

from __future__ import annotations

import pytest

from gongji.people.domain.kinship import Kinship, KinshipKindUnknown, inverse, parse_kinship

LABELS_ZH = {
    "spouse": "配偶",
    "parent": "父母",
    "child": "子女",
    "sibling": "兄弟姐妹",
    "paternal_grandparent": "祖父母",
    "maternal_grandparent": "外祖父母",
    "grandchild_via_son": "孙子女",
    "grandchild_via_daughter": "外孙子女",
}


def test_all_eight_kinds_are_present_with_their_chinese_labels() -> None:
    assert {kind.value: kind.label_zh for kind in Kinship} == LABELS_ZH


@pytest.mark.parametrize("kind", list(Kinship))
def test_inverse_is_an_involution(kind: Kinship) -> None:
    assert inverse(inverse(kind)) is kind


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (Kinship.SPOUSE, Kinship.SPOUSE),
        (Kinship.SIBLING, Kinship.SIBLING),
        (Kinship.PARENT, Kinship.CHILD),
        (Kinship.CHILD, Kinship.PARENT),
        # A is B's paternal grandparent: B's father is A's son, so B is A's grandchild via a son.
        (Kinship.PATERNAL_GRANDPARENT, Kinship.GRANDCHILD_VIA_SON),
        (Kinship.MATERNAL_GRANDPARENT, Kinship.GRANDCHILD_VIA_DAUGHTER),
        (Kinship.GRANDCHILD_VIA_SON, Kinship.PATERNAL_GRANDPARENT),
        (Kinship.GRANDCHILD_VIA_DAUGHTER, Kinship.MATERNAL_GRANDPARENT),
    ],
)
def test_inverse_of_each_kind(kind: Kinship, expected: Kinship) -> None:
    assert inverse(kind) is expected
    assert kind.inverse is expected


def test_only_spouse_and_sibling_are_their_own_inverse() -> None:
    assert {kind for kind in Kinship if inverse(kind) is kind} == {Kinship.SPOUSE, Kinship.SIBLING}


@pytest.mark.parametrize("kind", list(Kinship))
def test_parse_accepts_the_english_value_and_the_chinese_label(kind: Kinship) -> None:
    assert parse_kinship(kind.value) is kind
    assert parse_kinship(kind.label_zh) is kind
    assert parse_kinship(f"  {kind.value.upper()} ") is kind


@pytest.mark.parametrize("text", ["", "cousin", "表兄弟", "祖父", "grandparent", "父母 子女"])
def test_parse_refuses_anything_else(text: str) -> None:
    with pytest.raises(KinshipKindUnknown) as caught:
        parse_kinship(text)
    assert caught.value.code == "kinship_kind_unknown"
