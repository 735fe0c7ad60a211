"""The payment waterfall (docs/rules.md §8): who pays the personal burden, in which order.

The person's burden (``psn_part_amt``) is paid by accounts up to what accounts may pay (the
account-payable amount of :mod:`~gongji.settlement.domain.compute`), step by step in a
configurable order — by default the own personal account, then grants (oldest first), then
authorizations (binding order) — and the rest in cash. Shared money (grants and
authorizations, ``acct_mulaid_pay``) is part of ``acct_pay``, as on the national interface.

The plan only says how much comes from where; the ledger moves it. Balances given here are
read under the caller's lock, so a plan never draws more than a source holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from gongji.core.errors import GongjiError, InvariantViolation

SHARED_SOURCES_MAX: Final = 1_000
"""Most shared sources one settlement may draw on; far above any family's grants."""


class PaymentOrderInvalid(GongjiError):
    """A payment order names an unknown step, repeats one, or puts a step after cash."""

    code = "payment_order_invalid"
    message_zh = "支付顺序配置不正确：{order}"
    message_en = "Invalid payment order: {order}"


class PaymentSourcesTooMany(GongjiError):
    """More shared sources than :data:`SHARED_SOURCES_MAX` offered to one settlement."""

    code = "payment_sources_too_many"
    message_zh = "共济资金来源超过 {limit} 个"
    message_en = "More than {limit} mutual-aid sources for one settlement"


class SharedKind(StrEnum):
    """Where shared money comes from: a grant's quota (§6.1) or an authorization (§6.2)."""

    GRANT = "grant"
    AUTHORIZATION = "authorization"


class PaymentStep(StrEnum):
    """One step of the waterfall; cash takes whatever is left and so comes last."""

    OWN_ACCOUNT = "own_account"
    GRANTS = "grants"
    AUTHORIZATIONS = "authorizations"
    CASH = "cash"


DEFAULT_PAYMENT_ORDER: Final = (
    PaymentStep.OWN_ACCOUNT,
    PaymentStep.GRANTS,
    PaymentStep.AUTHORIZATIONS,
    PaymentStep.CASH,
)

_STEP_KIND: Final = {
    PaymentStep.GRANTS: SharedKind.GRANT,
    PaymentStep.AUTHORIZATIONS: SharedKind.AUTHORIZATION,
}


@dataclass(frozen=True)
class SharedSource:
    """Shared money available to this settlement, already in the order it is to be drawn."""

    kind: SharedKind
    source_id: str
    available_fen: int

    def __post_init__(self) -> None:
        # Balances come from the ledger: a bad one is a bug, not something a user did.
        if not self.source_id or self.available_fen < 0:
            raise InvariantViolation(f"invalid shared source: {self}")


@dataclass(frozen=True)
class SourceDraw:
    """How much one shared source pays; only sources that pay something appear."""

    kind: SharedKind
    source_id: str
    amount_fen: int


@dataclass(frozen=True)
class PaymentPlan:
    """Who pays the personal burden, in fen, under the national names where they exist.

    ``psn_part_amt = acct_pay + psn_cash_pay``; ``acct_pay = own_acct_pay_fen + acct_mulaid_pay``;
    ``acct_mulaid_pay`` is the sum of ``draws``.
    """

    psn_part_amt: int
    acct_pay: int
    acct_mulaid_pay: int
    own_acct_pay_fen: int
    psn_cash_pay: int
    draws: tuple[SourceDraw, ...]


def parse_payment_order(names: Sequence[str]) -> tuple[PaymentStep, ...]:
    """Read a configured order such as ``["grants", "own_account", "cash"]``."""
    allowed = {step.value for step in PaymentStep}
    if any(name not in allowed for name in names):
        raise PaymentOrderInvalid(order=",".join(map(str, names)))
    steps = tuple(PaymentStep(name) for name in names)
    _account_steps(steps)
    return steps


def plan_payment(
    psn_part_fen: int,
    account_payable_fen: int,
    own_account_available_fen: int | None,
    shared_sources: Sequence[SharedSource],
    order: Sequence[PaymentStep] = DEFAULT_PAYMENT_ORDER,
    *,
    use_mutual_aid: bool = True,
) -> PaymentPlan:
    """Plan the payment of one personal burden.

    ``own_account_available_fen`` is ``None`` when ``acct_used_flag`` = 0 (the own account is
    not touched); ``use_mutual_aid`` = False leaves every shared source untouched. Accounts pay
    at most ``account_payable_fen`` together; cash pays the rest.
    """
    steps = _account_steps(order)
    _check_inputs(psn_part_fen, account_payable_fen, own_account_available_fen, shared_sources)
    slots: list[SharedSource | None] = []  # None is the own account
    for step in steps:
        if step is PaymentStep.OWN_ACCOUNT:
            slots.extend([None] if own_account_available_fen is not None else [])
        elif use_mutual_aid:
            slots.extend(s for s in shared_sources if s.kind is _STEP_KIND[step])
    capacities = [(own_account_available_fen or 0) if s is None else s.available_fen for s in slots]
    amounts = _draw_in_order(account_payable_fen, capacities)
    own = sum(a for s, a in zip(slots, amounts, strict=True) if s is None)
    draws = tuple(
        SourceDraw(s.kind, s.source_id, a)
        for s, a in zip(slots, amounts, strict=True)
        if s is not None and a > 0
    )
    shared = sum(d.amount_fen for d in draws)
    plan = PaymentPlan(
        psn_part_amt=psn_part_fen,
        acct_pay=own + shared,
        acct_mulaid_pay=shared,
        own_acct_pay_fen=own,
        psn_cash_pay=psn_part_fen - own - shared,
        draws=draws,
    )
    check_plan(plan, account_payable_fen, own_account_available_fen, shared_sources)
    return plan


def check_plan(
    plan: PaymentPlan,
    account_payable_fen: int,
    own_account_available_fen: int | None,
    shared_sources: Sequence[SharedSource],
) -> None:
    """Raise ``InvariantViolation`` if the plan breaks an identity or overdraws a source."""
    available = {(s.kind, s.source_id): s.available_fen for s in shared_sources}
    identities = (
        ("psn_part = acct_pay + cash", plan.psn_part_amt == plan.acct_pay + plan.psn_cash_pay),
        ("acct_pay = own + mulaid", plan.acct_pay == plan.own_acct_pay_fen + plan.acct_mulaid_pay),
        ("mulaid = sum of draws", plan.acct_mulaid_pay == sum(d.amount_fen for d in plan.draws)),
        ("accounts within account-payable", plan.acct_pay <= account_payable_fen),
        ("own within balance", plan.own_acct_pay_fen <= (own_account_available_fen or 0)),
        ("no negative amount", min(plan.own_acct_pay_fen, plan.psn_cash_pay) >= 0),
        ("draws within sources", all(_draw_ok(d, available) for d in plan.draws)),
    )
    for name, holds in identities:
        if not holds:
            raise InvariantViolation(f"payment identity broken: {name}: {plan}")


def _draw_ok(draw: SourceDraw, available: dict[tuple[SharedKind, str], int]) -> bool:
    return 0 < draw.amount_fen <= available.get((draw.kind, draw.source_id), 0)


def _account_steps(order: Sequence[PaymentStep]) -> tuple[PaymentStep, ...]:
    """The steps before cash; refuses repeats, unknown steps and steps after cash."""
    steps = tuple(order)
    unknown = any(not isinstance(step, PaymentStep) for step in steps)
    after_cash = PaymentStep.CASH in steps and steps[-1] is not PaymentStep.CASH
    if unknown or after_cash or len(set(steps)) != len(steps):
        raise PaymentOrderInvalid(order=",".join(map(str, steps)))
    return tuple(step for step in steps if step is not PaymentStep.CASH)


def _check_inputs(
    psn_part_fen: int,
    account_payable_fen: int,
    own_account_available_fen: int | None,
    shared_sources: Sequence[SharedSource],
) -> None:
    if len(shared_sources) > SHARED_SOURCES_MAX:
        raise PaymentSourcesTooMany(limit=SHARED_SOURCES_MAX, sources=len(shared_sources))
    # These come from computed figures and ledger balances: out of range is a bug.
    if not 0 <= account_payable_fen <= psn_part_fen:
        raise InvariantViolation(f"account payable {account_payable_fen} of {psn_part_fen}")
    if own_account_available_fen is not None and own_account_available_fen < 0:
        raise InvariantViolation(f"negative own account balance {own_account_available_fen}")
    keys = {(s.kind, s.source_id) for s in shared_sources}
    if len(keys) != len(shared_sources):
        raise InvariantViolation("the same shared source is offered twice")


def _draw_in_order(total_fen: int, capacities: Sequence[int]) -> list[int]:
    """Fill capacities in order, each as far as it goes, until ``total_fen`` is drawn; what no
    capacity can take is simply not drawn (the waterfall's cash step pays it)."""
    amounts: list[int] = []
    remaining = total_fen
    for capacity in capacities:
        amount = min(capacity, remaining)
        amounts.append(amount)
        remaining -= amount
    return amounts
