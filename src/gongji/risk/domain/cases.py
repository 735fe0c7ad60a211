"""A risk officer's case: its states, the steps between them, and what each step requires."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from gongji.core.errors import GongjiError


class CaseState(StrEnum):
    OPEN = "open"
    INVESTIGATING = "investigating"
    CLOSED_UNFOUNDED = "closed_unfounded"
    CLOSED_CONFIRMED = "closed_confirmed"

    @property
    def closed(self) -> bool:
        return self in (CaseState.CLOSED_UNFOUNDED, CaseState.CLOSED_CONFIRMED)

    @property
    def label_zh(self) -> str:
        return _LABEL_ZH[self]


_LABEL_ZH = {
    CaseState.OPEN: "已立案",
    CaseState.INVESTIGATING: "稽核中",
    CaseState.CLOSED_UNFOUNDED: "已结案（不成立）",
    CaseState.CLOSED_CONFIRMED: "已结案（属实）",
}

_NEXT: dict[CaseState, frozenset[CaseState]] = {
    CaseState.OPEN: frozenset({CaseState.INVESTIGATING, CaseState.CLOSED_UNFOUNDED}),
    CaseState.INVESTIGATING: frozenset({CaseState.CLOSED_UNFOUNDED, CaseState.CLOSED_CONFIRMED}),
    CaseState.CLOSED_UNFOUNDED: frozenset(),
    CaseState.CLOSED_CONFIRMED: frozenset(),
}


class CaseStepRefused(GongjiError):
    code: ClassVar[str] = "risk_case_step_refused"
    message_zh: ClassVar[str] = "案件状态为“{state}”，不能执行“{step}”"
    message_en: ClassVar[str] = "A case in state {state} cannot take the step {step}"


class RecoveryInvalid(GongjiError):
    code: ClassVar[str] = "risk_recovery_invalid"
    message_zh: ClassVar[str] = "追回金额只能在确认属实结案时登记，且须为非负金额"
    message_en: ClassVar[str] = "A recovery is recorded only when closing confirmed, never negative"


def check_step(state: CaseState, to: CaseState) -> None:
    """Refuse a step the workflow does not have (open → investigating → closed)."""
    if to not in _NEXT[state]:
        raise CaseStepRefused(state=state.label_zh, step=to.label_zh)


def check_closing(to: CaseState, recovered_fen: int | None) -> None:
    """A confirmed close may record what was recovered (追回); an unfounded one recovers
    nothing."""
    if recovered_fen is None:
        return
    if isinstance(recovered_fen, bool) or recovered_fen < 0 or to is not CaseState.CLOSED_CONFIRMED:
        raise RecoveryInvalid(recovered_fen=recovered_fen)


def check_action_allowed(state: CaseState) -> None:
    """Freezing a wallet or suspending an institution happens while the case is open."""
    if state.closed:
        raise CaseStepRefused(state=state.label_zh, step="freeze")
