"""The national interface's answers: amounts as numbers with two decimals, the rest as JSON."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from gongji.fsi.http.wire import amount, dumps


@pytest.mark.parametrize(
    ("fen", "written"),
    [(1550, "15.50"), (0, "0.00"), (-1550, "-15.50"), (7, "0.07"), (10**13, "100000000000.00")],
)
def test_an_amount_is_written_as_a_number_with_two_decimals(fen: int, written: str) -> None:
    assert dumps({"acct_pay": amount(fen)}) == f'{{"acct_pay":{written}}}'
    assert json.loads(dumps(amount(fen)), parse_float=Decimal) == Decimal(fen).scaleb(-2)


def test_everything_else_is_written_as_json_would() -> None:
    answer = {
        "infcode": -1,
        "err_msg": '缺少必填字段："psn_no"\n',
        "output": None,
        "list": [1, True, {"nested": [amount(5)]}, ("a", "b")],
    }

    text = dumps(answer)

    assert json.loads(text, parse_float=Decimal) == {
        "infcode": -1,
        "err_msg": '缺少必填字段："psn_no"\n',
        "output": None,
        "list": [1, True, {"nested": [Decimal("0.05")]}, ["a", "b"]],
    }
    assert "缺少必填字段" in text  # Chinese as it is, not \u escapes


def test_the_text_is_the_standard_encoders_compact_text() -> None:
    """The same bytes as ``json.dumps`` (compact, Chinese unescaped) for all but amounts:
    control characters, quotes, line separators, nesting, keys that are numbers."""
    answer = {
        "err_msg": '字段 "x"\t\x01\u2028\\/',
        "output": {"setlinfo": [{"n": 12, "ok": False, "none": None}], 3: "three"},
        "empty": [{}, [], ""],
    }
    assert dumps(answer) == json.dumps(answer, ensure_ascii=False, separators=(",", ":"))
