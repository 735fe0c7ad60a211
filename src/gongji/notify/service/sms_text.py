"""Sending a notification's text by SMS on top of the SMS gateway (``ctx.sms``).

The gateway's own interface sends one-time codes; a gateway that can also send a text offers
``send_text(mobile, text)``, which notifications use. The development gateway cannot, so in
development the text goes to the log instead, beside the codes (the text carries no secret,
docs/rules.md §15; the number is masked as in every log line). A production gateway without
``send_text`` delivers nothing: its messages are marked ``no_gateway`` and stay in the inbox.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from gongji.core.masking import mask_phone
from gongji.kernel.sms import LogSmsGateway

log = logging.getLogger("gongji.sms")


class TextSender(Protocol):
    def send_text(self, mobile: str, text: str) -> None: ...


class DevelopmentTexts:
    """The development stand-in: logs each text and keeps the last per number (demo, tests)."""

    def __init__(self) -> None:
        self._last: dict[str, str] = {}
        self._lock = threading.Lock()

    def send_text(self, mobile: str, text: str) -> None:
        log.warning("development SMS gateway: message for %s: %s", mask_phone(mobile), text)
        with self._lock:
            self._last[mobile] = text

    def last_text(self, mobile: str) -> str | None:
        with self._lock:
            return self._last.get(mobile)


DEVELOPMENT_TEXTS = DevelopmentTexts()


def sender_for(gateway: object) -> TextSender | None:
    if callable(getattr(gateway, "send_text", None)):
        return gateway  # type: ignore[return-value]
    if isinstance(gateway, LogSmsGateway):
        return DEVELOPMENT_TEXTS
    return None
