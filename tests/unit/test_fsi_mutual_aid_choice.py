"""``exp_content.mulaid_flag``: the patient's choice of family mutual aid for one bill, read from
the national interface's extension field (docs/national-interface.md, docs/rules.md §6.2)."""

from __future__ import annotations

import pytest

from gongji.core.errors import GongjiError
from gongji.fsi.domain.fields import mutual_aid_choice


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, None),
        ({"exp_content": ""}, None),
        ({"exp_content": {}}, None),
        ({"exp_content": {"mulaid_flag": "1"}}, True),
        ({"exp_content": {"mulaid_flag": "0", "other": "x"}}, False),
        ({"exp_content": {"mulaid_flag": 0}}, False),
        ({"exp_content": '{"mulaid_flag":"1"}'}, True),
        ({"exp_content": '{"mulaid_flag":""}'}, None),
    ],
)
def test_the_flag_is_read_from_an_object_or_json_text(
    data: dict[str, object], expected: object
) -> None:
    assert mutual_aid_choice(data) is expected


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[1]",
        {"mulaid_flag": "2"},
        {"mulaid_flag": True},
        7,
        "[" * 100_000,  # nested past the decoder's recursion: refused, not a 500
        '{"mulaid_flag": ' + "1" * 5000 + "}",  # more digits than Python converts
    ],
    ids=["text", "a list", "2", "true", "a number", "nested 100 000 deep", "5000 digits"],
)
def test_anything_else_is_refused_naming_the_field(content: object) -> None:
    with pytest.raises(GongjiError) as caught:
        mutual_aid_choice({"exp_content": content})
    assert caught.value.code == "fsi_field_invalid"
    assert str(caught.value.detail["field"]).startswith("exp_content")
