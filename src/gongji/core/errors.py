"""The one root exception of gongji and the shape every refusal takes.

Every failure a user can cause is a subclass of :class:`GongjiError` with a stable snake_case
``code`` and a message in Chinese and English. Only entrypoints (api, cli, web) decide how a code
becomes an HTTP status or an exit code; code below them raises and never formats.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class GongjiError(Exception):
    """Root of every refusal. Subclasses set ``code`` and the two message templates.

    Templates are ``str.format`` strings over ``detail``; a missing key leaves the template as is.
    """

    code: ClassVar[str] = "error"
    message_zh: ClassVar[str] = "操作失败"
    message_en: ClassVar[str] = "The operation failed"

    def __init__(self, **detail: Any) -> None:
        self.detail: dict[str, Any] = dict(detail)
        super().__init__(f"{self.code}: {self.message('en')}")

    def message(self, language: str = "zh") -> str:
        template = self.message_en if language.lower().startswith("en") else self.message_zh
        try:
            return template.format(**self.detail)
        except (KeyError, IndexError, ValueError):
            return template

    def as_dict(self, language: str = "zh") -> Mapping[str, Any]:
        return {"code": self.code, "message": self.message(language), "detail": self.detail}


class InvariantViolation(Exception):
    """A broken invariant: a bug, never a user's fault. Deliberately not a GongjiError."""
