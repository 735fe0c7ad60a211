"""The app's JSON answers (orjson) are byte for byte what Starlette's encoder wrote."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.responses import JSONResponse

from gongji.api.json_answer import JsonAnswer

A_SETTLEMENT: dict[str, Any] = {
    "setl_id": "S2026120500000001",
    "kind": "settle",
    "reverses": None,
    "psn_no": "P000123",
    "medfee_sumamt": "123.45",
    "acct_mulaid_pay": "0.00",
    "items": [{"line_no": 1, "item_code": "XA01", "name": "阿莫西林胶囊", "in_scope": True}],
    "draws": [],
    "message": 'refusal with "quotes", a back\\slash, a tab\t and a line\nbreak',
}

_TEXT = st.text(max_size=20)
_LEAVES = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | _TEXT
_ANSWERS = st.recursive(
    _LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=20,
)


@pytest.mark.parametrize("status", [200, 201, 422])
def test_a_settlement_answer_renders_as_starlette_rendered_it(status: int) -> None:
    ours, theirs = JsonAnswer(A_SETTLEMENT, status), JSONResponse(A_SETTLEMENT, status)
    assert ours.body == theirs.body
    assert ours.headers.items() == theirs.headers.items()
    assert ours.status_code == status


@given(_ANSWERS)
def test_any_answer_of_text_numbers_and_nesting_renders_the_same_bytes(answer: object) -> None:
    assert JsonAnswer(answer).body == JSONResponse(answer).body
