"""Refusals of settlement requests (docs/rules.md §8) that are not about one bill line."""

from __future__ import annotations

from typing import ClassVar

from gongji.core.errors import GongjiError


class SettlementRequestReused(GongjiError):
    code: ClassVar[str] = "settlement_request_reused"
    message_zh: ClassVar[str] = "请求流水号 {request_id} 已用于内容不同的结算"
    message_en: ClassVar[str] = "Request id {request_id} was used for a different settlement"


class SettlementAlreadyReversed(GongjiError):
    code: ClassVar[str] = "settlement_already_reversed"
    message_zh: ClassVar[str] = "该结算已撤销"
    message_en: ClassVar[str] = "The settlement has already been reversed"


class SettlementNotReversible(GongjiError):
    code: ClassVar[str] = "settlement_not_reversible"
    message_zh: ClassVar[str] = "撤销记录不能再撤销"
    message_en: ClassVar[str] = "A reversal cannot be reversed"


class NotInsuredForSettlement(GongjiError):
    code: ClassVar[str] = "person_not_insured"
    message_zh: ClassVar[str] = "该人员没有正常参保状态的医保，不能结算"
    message_en: ClassVar[str] = "The person has no enrolment in normal status"


class SettlementSuspended(GongjiError):
    code: ClassVar[str] = "settlement_suspended"
    message_zh: ClassVar[str] = "该人员的医保已暂停，暂不能结算"
    message_en: ClassVar[str] = "The person's insurance is suspended"
