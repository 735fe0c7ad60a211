"""Identifiers for new objects: a kind letter, the time in microseconds, random bits.

Time first keeps them roughly sortable (useful for paging and for reading logs); the random part
makes a clash between two processes in the same microsecond negligible.
"""

from __future__ import annotations

import secrets


def new_id(prefix: str, now_us: int) -> str:
    return f"{prefix}{now_us:013x}{secrets.token_hex(5)}"
