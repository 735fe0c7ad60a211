"""JSON answers rendered by orjson.

Starlette's ``JSONResponse`` renders with the standard library's encoder, written in Python
around a C core: a settlement's answer (some forty names, amounts as text, its items and draws)
took 6–7 % of the server's time a signed settlement (docs/benchmarks.md, issue 20, step 11).
orjson writes the same bytes for what gongji answers (dicts with text keys, lists, text, whole
numbers, booleans, ``None``; compact; UTF-8, Chinese unescaped) about ten times faster.

Where the two could differ, gongji answers nothing of the kind: a float (orjson writes its
shortest form, ``1e+16`` for ``1e16``) or a key that is not text (kept as text, as ``json.dumps``
does). A NaN or an infinity, which Starlette refuses, is written as ``null``.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse


class JsonAnswer(JSONResponse):
    """``JSONResponse`` with orjson's rendering: the app's default answer, and the signed
    writes' (tests/unit/test_json_answer.py compares the bytes with Starlette's)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
