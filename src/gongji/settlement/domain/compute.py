"""The arithmetic of one settlement (docs/rules.md §8): deductible, fund, personal burden.

Given the adjudicated lines, the patient's benefit rule and what the patient has used this year,
the fund pays ``(in_scope − deductible) × ratio`` (rounded half up once, on the settlement)
within the cap left, and the rest is the person's (``psn_part_amt``).

Which part of that burden accounts may pay is decided per item (docs/rules.md §7), but deductible
and co-pay are settlement-level amounts. They are distributed back to the items in proportion to
each item's in-scope amount (largest remainder, ties to the earlier line), with
:func:`split_by_weights`. Proportional is chosen because it does not depend on the order of the
bill: applying the deductible to lines in bill order would let the HIS's ordering decide whether
a wellness line or a drug line absorbs it. The choice moves no fund money; it only decides how
much of the in-scope burden of account-ineligible items stays in cash.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from gongji.core.errors import InvariantViolation
from gongji.settlement.domain.benefits import BenefitRule
from gongji.settlement.domain.items import (
    DEFAULT_ACCOUNT_POLICY,
    AccountPayPolicy,
    BillLine,
    ItemFigures,
    account_payable_part,
    adjudicate_bill,
    multiply_half_up_fen,
)

SPLIT_PARTS_MAX: Final = 1_000_000
"""Most parts one split may have; a bound on the work a single call can cause."""


@dataclass(frozen=True)
class YearToDate:
    """What the patient has used this year under the rule's scheme: deductible and fund paid.

    These come from the store; a negative value is corrupt data, hence a bug, not a refusal.
    """

    deductible_used_fen: int = 0
    fund_paid_fen: int = 0

    def __post_init__(self) -> None:
        if min(self.deductible_used_fen, self.fund_paid_fen) < 0:
            raise InvariantViolation(f"negative year-to-date accumulator: {self}")

    def deductible_left_fen(self, rule: BenefitRule) -> int:
        # max(): the rule may have been lowered mid-year below what was already used.
        return max(0, rule.deductible_fen - self.deductible_used_fen)

    def cap_left_fen(self, rule: BenefitRule) -> int:
        return max(0, rule.annual_cap_fen - self.fund_paid_fen)


@dataclass(frozen=True)
class ItemSettlement:
    """One line's figures, its share of the in-scope burden, and what accounts may pay of it."""

    figures: ItemFigures
    inscp_personal_fen: int
    account_payable_fen: int


@dataclass(frozen=True)
class SettlementFigures:
    """The computed figures of one settlement, all in integer fen.

    National interface fields keep the interface's names (no ``_fen`` suffix, but fen here, not
    yuan); gongji's own fields carry the suffix. ``payable_by_accounts_fen`` is docs/rules.md §8's
    ``payable_by_accounts`` widened by whatever the account policy also lets accounts pay (full
    self-pay, over-limit); ``account_payable_fen`` is that amount restricted item by item (§7).
    """

    medfee_sumamt: int
    fulamt_ownpay_amt: int
    overlmt_selfpay: int
    preselfpay_amt: int
    inscp_scp_amt: int
    act_pay_dedc: int
    hifp_pay: int
    fund_pay_sumamt: int
    hosp_part_amt: int
    psn_part_amt: int
    payable_by_accounts_fen: int
    account_payable_fen: int
    items: tuple[ItemSettlement, ...]
    year_to_date_after: YearToDate


def compute_settlement(
    lines: Sequence[BillLine],
    rule: BenefitRule,
    year_to_date: YearToDate,
    policy: AccountPayPolicy = DEFAULT_ACCOUNT_POLICY,
) -> SettlementFigures:
    """Compute one settlement; moves nothing, so pre-settle and settle call the same function."""
    figures = adjudicate_bill(lines)
    in_scope = sum(f.inscp_scp_amt for f in figures)
    deductible = min(in_scope, year_to_date.deductible_left_fen(rule))
    fund = min(
        multiply_half_up_fen(in_scope - deductible, rule.ratio),
        year_to_date.cap_left_fen(rule),
    )
    shares = split_by_weights(in_scope - fund, [f.inscp_scp_amt for f in figures])
    items = tuple(
        ItemSettlement(f, share, account_payable_part(f, share, policy))
        for f, share in zip(figures, shares, strict=True)
    )
    result = _assemble(items, deductible, fund, policy, year_to_date)
    check_settlement(result)
    return result


def _assemble(
    items: tuple[ItemSettlement, ...],
    deductible: int,
    fund: int,
    policy: AccountPayPolicy,
    year_to_date: YearToDate,
) -> SettlementFigures:
    medfee = sum(i.figures.det_item_fee_sumamt for i in items)
    full_selfpay = sum(i.figures.fulamt_ownpay_amt for i in items)
    overlimit = sum(i.figures.overlmt_amt for i in items)
    first_selfpay = sum(i.figures.preselfpay_amt for i in items)
    in_scope = sum(i.figures.inscp_scp_amt for i in items)
    payable = first_selfpay + deductible + (in_scope - deductible - fund)
    if policy.account_may_pay_full_selfpay:
        payable += full_selfpay
    if policy.account_may_pay_overlimit:
        payable += overlimit
    return SettlementFigures(
        medfee_sumamt=medfee,
        fulamt_ownpay_amt=full_selfpay,
        overlmt_selfpay=overlimit,
        preselfpay_amt=first_selfpay,
        inscp_scp_amt=in_scope,
        act_pay_dedc=deductible,
        hifp_pay=fund,
        fund_pay_sumamt=fund,
        hosp_part_amt=0,
        psn_part_amt=medfee - fund,
        payable_by_accounts_fen=payable,
        account_payable_fen=sum(i.account_payable_fen for i in items),
        items=items,
        year_to_date_after=YearToDate(
            year_to_date.deductible_used_fen + deductible, year_to_date.fund_paid_fen + fund
        ),
    )


def check_settlement(figures: SettlementFigures) -> None:
    """Raise ``InvariantViolation`` naming the first identity of docs/rules.md §8 that fails.

    Called on every computed result; also usable on figures read back or received for a reversal.
    """
    f = figures
    amounts = (
        f.medfee_sumamt,
        f.fulamt_ownpay_amt,
        f.overlmt_selfpay,
        f.preselfpay_amt,
        f.inscp_scp_amt,
        f.act_pay_dedc,
        f.hifp_pay,
        f.fund_pay_sumamt,
        f.hosp_part_amt,
        f.psn_part_amt,
        f.payable_by_accounts_fen,
        f.account_payable_fen,
    )
    identities = (
        ("no amount is negative", min(amounts) >= 0),
        (
            "medfee = fulamt + overlmt + preselfpay + inscp",
            f.medfee_sumamt
            == f.fulamt_ownpay_amt + f.overlmt_selfpay + f.preselfpay_amt + f.inscp_scp_amt,
        ),
        (
            "medfee = fund_pay_sumamt + psn_part_amt + hosp_part_amt",
            f.medfee_sumamt == f.fund_pay_sumamt + f.psn_part_amt + f.hosp_part_amt,
        ),
        ("deductible + fund <= in-scope", f.act_pay_dedc + f.hifp_pay <= f.inscp_scp_amt),
        ("fund_pay_sumamt = hifp_pay", f.fund_pay_sumamt == f.hifp_pay),
        (
            "account payable <= payable by accounts <= personal part",
            f.account_payable_fen <= f.payable_by_accounts_fen <= f.psn_part_amt,
        ),
        ("items add up", _items_add_up(f)),
    )
    for name, holds in identities:
        if not holds:
            raise InvariantViolation(f"settlement identity broken: {name}: {figures}")


def _items_add_up(figures: SettlementFigures) -> bool:
    items = figures.items
    return (
        sum(i.figures.det_item_fee_sumamt for i in items) == figures.medfee_sumamt
        and sum(i.inscp_personal_fen for i in items) == figures.inscp_scp_amt - figures.hifp_pay
        and sum(i.account_payable_fen for i in items) == figures.account_payable_fen
    )


def split_by_weights(total_fen: int, weights: Sequence[int]) -> list[int]:
    """Split ``total_fen`` in proportion to ``weights``; the parts always add up to the total.

    Each part is its exact share rounded down, and the fen left over go one each to the parts
    with the largest remainders (ties to the earlier part). When ``total_fen <= sum(weights)``
    no part exceeds its weight. Private stand-in for ``gongji.core.money``'s splitter.
    """
    if total_fen < 0 or any(w < 0 for w in weights) or len(weights) > SPLIT_PARTS_MAX:
        raise InvariantViolation(f"cannot split {total_fen} by {len(weights)} weights")
    weight_sum = sum(weights)
    if weight_sum == 0:
        if total_fen:
            raise InvariantViolation(f"cannot split {total_fen} by zero weights")
        return [0] * len(weights)
    parts = [total_fen * w // weight_sum for w in weights]
    remainders = [total_fen * w % weight_sum for w in weights]
    leftover = total_fen - sum(parts)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for index in by_remainder[:leftover]:
        parts[index] += 1
    return parts
