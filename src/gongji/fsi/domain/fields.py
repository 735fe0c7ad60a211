"""Reading the fields of the national interface's messages (国家医保信息平台 接口报文).

Messages arrive as JSON read with ``parse_float=Decimal``: a number with a fraction is a
``Decimal``, a whole number an ``int``, never a binary float. Codes may come as text or as whole
numbers (HIS systems differ: ``"insutype":"310"`` and ``"insutype":310`` both occur), amounts as
numbers or text; each is read once here and refused with the field it concerns, so an
institution's error message names the exact field (``feedetail[2].cnt``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar, Final

from gongji.core.errors import GongjiError
from gongji.core.money import parse_yuan

TEXT_LENGTH_MAX: Final = 200
LIST_LENGTH_MAX: Final = 20_000
_DECIMAL_TEXT: Final = re.compile(r"-?[0-9]{1,20}(\.[0-9]{1,20})?")

Node = Mapping[str, Any]


class FsiFieldMissing(GongjiError):
    code: ClassVar[str] = "fsi_field_missing"
    message_zh: ClassVar[str] = "缺少必填字段：{field}"
    message_en: ClassVar[str] = "Required field missing: {field}"


class FsiFieldInvalid(GongjiError):
    code: ClassVar[str] = "fsi_field_invalid"
    message_zh: ClassVar[str] = "字段 {field} 的值不正确{expected}"
    message_en: ClassVar[str] = "Field {field} has an invalid value{expected}"


def text(
    node: Node,
    name: str,
    *,
    required: bool = True,
    pattern: re.Pattern[str] | None = None,
    length_max: int = TEXT_LENGTH_MAX,
    where: str = "",
) -> str | None:
    """A code or a name: text, or a whole number read as its digits. Empty counts as absent."""
    value = node.get(name)
    field = f"{where}{name}"
    if value is None or value == "":
        if required:
            raise FsiFieldMissing(field=field)
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or len(value) > length_max:
        raise FsiFieldInvalid(field=field, expected="")
    if pattern is not None and pattern.fullmatch(value) is None:
        raise FsiFieldInvalid(field=field, expected=f"（应为 {pattern.pattern}）")
    return value


def required_text(node: Node, name: str, **kwargs: Any) -> str:
    found = text(node, name, required=True, **kwargs)
    if found is None:  # text() raises first; this satisfies the type checker
        raise FsiFieldMissing(field=name)
    return found


def amount_fen(node: Node, name: str, *, required: bool = True, where: str = "") -> int | None:
    """A yuan amount (number or text, at most two decimals, not negative) as fen."""
    value = node.get(name)
    if value is None or value == "":
        if required:
            raise FsiFieldMissing(field=f"{where}{name}")
        return None
    try:
        return parse_yuan(value)
    except GongjiError as refused:
        refused.detail["field"] = f"{where}{name}"
        raise


def decimal(node: Node, name: str, *, where: str = "") -> Decimal:
    """A required decimal number (a quantity): number or plain decimal text, finite."""
    value = node.get(name)
    field = f"{where}{name}"
    if value is None or value == "":
        raise FsiFieldMissing(field=field)
    if isinstance(value, str) and _DECIMAL_TEXT.fullmatch(value):
        return Decimal(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, Decimal) and value.is_finite():
        return value
    raise FsiFieldInvalid(field=field, expected="（应为数字）")


def child(node: Node, *names: str) -> Node:
    """The first of ``names`` that is an object (``data``, ``druginfo``…), else ``node`` itself:
    some HIS put the fields straight into ``input``."""
    for name in names:
        value = node.get(name)
        if isinstance(value, Mapping):
            return value
    return node


def entries(nodes: Sequence[Node], names: Sequence[str], field: str) -> list[Node]:
    """The list found under the first of ``names`` in the first of ``nodes`` that has one."""
    for node in nodes:
        for name in names:
            value = node.get(name)
            if value is None:
                continue
            if not isinstance(value, list) or len(value) > LIST_LENGTH_MAX:
                raise FsiFieldInvalid(field=name, expected="")
            return _objects(value, name)
    raise FsiFieldMissing(field=field)


def _objects(values: list[Any], name: str) -> list[Node]:
    for index, value in enumerate(values):
        if not isinstance(value, Mapping):
            raise FsiFieldInvalid(field=f"{name}[{index}]", expected="（应为对象）")
    return values


MUTUAL_AID_FLAG = "mulaid_flag"


def mutual_aid_choice(data: Node) -> bool | None:
    """The patient's choice for this bill, ``exp_content.mulaid_flag``: ``"1"`` use family mutual
    aid, ``"0"`` do not, absent the patient's standing choice (docs/rules.md §6.2).
    ``exp_content`` is an object or, as many HIS send the platform's extension field, a JSON
    text; anything else in it is ignored."""
    raw = data.get("exp_content")
    if raw is None or raw == "":
        return None
    content = _extension(raw)
    flag = content.get(MUTUAL_AID_FLAG)
    if flag is None or flag == "":
        return None
    if flag not in ("0", "1", 0, 1) or isinstance(flag, bool):
        raise FsiFieldInvalid(field=f"exp_content.{MUTUAL_AID_FLAG}", expected="（应为 0 或 1）")
    return str(flag) == "1"


def _extension(raw: object) -> Mapping[str, Any]:
    if isinstance(raw, Mapping):
        return raw
    if isinstance(raw, str):
        try:
            parsed = json.loads(raw)
        except (ValueError, RecursionError):  # not JSON; a number or a nesting it will not build
            parsed = None
        if isinstance(parsed, Mapping):
            return parsed
    raise FsiFieldInvalid(field="exp_content", expected="（应为 JSON 对象）")
