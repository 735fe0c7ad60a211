"""Pinyin initials of a catalogue item's name (拼音首字母), for the desk's search: a cashier types
``amxl`` and finds 阿莫西林胶囊, as pharmacy tills in China let them.

Each Han character gives the first letter of its most common reading (重组 → ``cz``); letters
and digits outside Han characters are kept, lower-cased (维生素C片 → ``wsscp``); full-width
forms read as their ASCII ones; everything else (spaces, brackets, dots) is dropped. So
阿莫西林胶囊(0.25g) is found by ``amxljn025g`` or any part of it. Computed when an item is
written, never at search time.
"""

from __future__ import annotations

import unicodedata
from typing import Final

from pypinyin import Style, lazy_pinyin

INITIALS_LENGTH_MAX: Final = 200
"""As long as a name may be: one letter per character at most."""


def name_initials(name: str) -> str:
    plain = unicodedata.normalize("NFKC", name)  # full-width Ａ and １ as A and 1
    letters = lazy_pinyin(plain, style=Style.FIRST_LETTER, errors="default", strict=False)
    kept = "".join(ch for ch in "".join(letters).lower() if ch.isascii() and ch.isalnum())
    return kept[:INITIALS_LENGTH_MAX]
