"""Masks for personal data in every output and log: ID numbers, names, mobile numbers.

The functions are total: they never raise, whatever they are given, because a mask is called
on the way out of an error path or into a log line, where a second failure would hide the
first. When the input does not look like what the mask expects, it hides more, never less.
"""

from __future__ import annotations

from typing import Final

MASK: Final = "*"
_UNKNOWN_MASKED: Final = MASK * 4
"""What a mask shows for a value that is not text at all: nothing of it, not even its length."""

_ID_NUMBER_LENGTH_MIN: Final = 15  # first-generation cards had 15 digits
_ID_KEEP_HEAD: Final = 6
_ID_KEEP_TAIL: Final = 4
_ID_CHARACTERS: Final = frozenset("0123456789Xx")

_PHONE_LENGTH_MIN: Final = 8
_PHONE_KEEP_HEAD: Final = 3
_PHONE_KEEP_TAIL: Final = 4
_PHONE_HIDDEN_MIN: Final = 4

COMPOUND_SURNAMES: Final = frozenset(
    {
        "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
        "宇文", "司徒", "夏侯", "轩辕", "令狐", "钟离", "端木", "独孤", "南宫", "西门",
        "司空", "闻人", "澹台", "公冶", "宗政", "濮阳", "淳于", "单于", "太叔", "申屠",
        "赫连", "万俟", "呼延", "左丘", "公羊", "百里", "东郭", "南门", "拓跋", "第五",
        "乐正", "谷梁", "梁丘", "鲜于", "闾丘", "子车", "亓官", "司寇", "巫马", "公西",
    }
)  # fmt: skip
"""Two-character surnames, kept whole in a masked name (欧阳娜娜 → 欧阳**)."""


def mask_id_number(text: str) -> str:
    """Keep the region (first 6) and the last 4: ``620102********1234``.

    Anything shorter than a 15-digit card or made of other characters is hidden entirely: it
    may be a mistyped number or not a number at all, and either way its parts mean nothing.
    """
    if not isinstance(text, str):
        return _UNKNOWN_MASKED
    number = text.strip()
    if len(number) < _ID_NUMBER_LENGTH_MIN or not set(number) <= _ID_CHARACTERS:
        return MASK * len(number)
    hidden = len(number) - _ID_KEEP_HEAD - _ID_KEEP_TAIL
    return number[:_ID_KEEP_HEAD] + MASK * hidden + number[-_ID_KEEP_TAIL:]


def mask_name(text: str) -> str:
    """Keep the surname and hide the given name: ``张三`` → ``张*``, ``欧阳娜娜`` → ``欧阳**``.

    A one-character name is hidden entirely; keeping it would show the whole name. A name of
    exactly a compound surname's two characters is read as surname plus given name (欧阳 → 欧*).
    """
    if not isinstance(text, str):
        return _UNKNOWN_MASKED
    name = text.strip()
    if len(name) <= 1:
        return MASK * len(name)
    kept = 2 if len(name) > 2 and name[:2] in COMPOUND_SURNAMES else 1
    return name[:kept] + MASK * (len(name) - kept)


def mask_phone(text: str) -> str:
    """Keep the first 3 and last 4 digits: ``13812345678`` → ``138****5678``.

    At least ``_PHONE_HIDDEN_MIN`` characters are hidden, so a shorter number (a landline of 8
    digits) shows fewer of its ends: ``12345678`` → ``12****78``. Shorter than 8 characters
    there is too little left to hide, so everything is hidden.
    """
    if not isinstance(text, str):
        return _UNKNOWN_MASKED
    phone = text.strip()
    if len(phone) < _PHONE_LENGTH_MIN:
        return MASK * len(phone)
    shown = min(_PHONE_KEEP_HEAD + _PHONE_KEEP_TAIL, len(phone) - _PHONE_HIDDEN_MIN)
    head = min(_PHONE_KEEP_HEAD, shown // 2)
    tail = shown - head
    return phone[:head] + MASK * (len(phone) - shown) + phone[-tail:]
