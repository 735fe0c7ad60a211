"""Sending one-time codes. Pluggable: production wires a real SMS provider; the development
gateway writes the code to the log (and keeps the last one per number for tests and the demo).
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from gongji.core.masking import mask_phone

log = logging.getLogger("gongji.sms")


class SmsGateway(Protocol):
    def send_code(self, mobile: str, code: str) -> None: ...


class LogSmsGateway:
    def __init__(self) -> None:
        self._last: dict[str, str] = {}
        self._lock = threading.Lock()

    def send_code(self, mobile: str, code: str) -> None:
        # The code must be readable in a development log; the number is masked like every log.
        log.warning("development SMS gateway: one-time code for %s is %s", mask_phone(mobile), code)
        with self._lock:
            self._last[mobile] = code

    def last_code(self, mobile: str) -> str | None:
        with self._lock:
            return self._last.get(mobile)
