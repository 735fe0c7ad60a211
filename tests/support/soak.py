"""How much longer ``make soak`` runs the long tests than ``make test`` does.

``GONGJI_SOAK=N`` multiplies what they draw or repeat (the state machine's examples, the bank's
and the history writers' transfers, the crash test's kills) by ``N``; unset, they run at the
size that keeps ``make test`` short. Those tests carry the ``soak`` mark, which is how
``make soak`` picks them out.
"""

from __future__ import annotations

import os
from typing import Final


def _factor() -> int:
    text = os.environ.get("GONGJI_SOAK", "").strip()
    if not text:
        return 1
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"GONGJI_SOAK must be a whole number ≥ 1, not {text!r}")
    return int(text)


SOAK_FACTOR: Final = _factor()


def scaled(count: int) -> int:
    """``count`` as ``make test`` runs it, times ``GONGJI_SOAK``."""
    return count * SOAK_FACTOR
