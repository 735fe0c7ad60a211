"""Refusals that belong to no single rule module: not found, forbidden, duplicates."""

from __future__ import annotations

from typing import ClassVar

from gongji.core.errors import GongjiError, InvariantViolation


class NotFound(GongjiError):
    """Also what a person gets for someone else's object: existence is not disclosed."""

    code: ClassVar[str] = "not_found"
    message_zh: ClassVar[str] = "未找到{what}"
    message_en: ClassVar[str] = "No such {what}"


class Forbidden(GongjiError):
    code: ClassVar[str] = "forbidden"
    message_zh: ClassVar[str] = "无权办理此业务"
    message_en: ClassVar[str] = "Not allowed"


class PersonExists(GongjiError):
    code: ClassVar[str] = "person_exists_with_different_data"
    message_zh: ClassVar[str] = "人员 {psn_no} 已存在且信息不一致"
    message_en: ClassVar[str] = "Person {psn_no} exists with different data"


class RegionUnknown(GongjiError):
    code: ClassVar[str] = "region_unknown"
    message_zh: ClassVar[str] = "未知的医保区划：{region}"
    message_en: ClassVar[str] = "Unknown region: {region}"


class LedgerRefused(InvariantViolation):
    """The ledger refused a transfer the service had decided was fine: a bug, never user input."""

    def __init__(self, what: str, results: object) -> None:
        super().__init__(f"ledger refused {what}: {results}")
