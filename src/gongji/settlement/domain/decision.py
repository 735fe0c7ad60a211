"""A settlement's decision, in pure code: from the facts gathered about a bill (its adjudicated
lines, the benefit rule, the year so far, the money the patient may draw on), what the fund
pays, who pays the personal burden and from which ledger accounts (docs/rules.md §8).

Pre-settle and settle both decide here, from facts read once; the use cases only gather the
facts before and write the decision after, so every figure can be tested without a database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gongji.core.money import allocate_in_order
from gongji.mutual_aid.domain.sharing import Source
from gongji.settlement.domain.benefits import BenefitRule
from gongji.settlement.domain.compute import SettlementFigures, YearToDate, compute_settlement
from gongji.settlement.domain.items import BillLine
from gongji.settlement.domain.payment import (
    PaymentPlan,
    PaymentStep,
    SharedKind,
    SharedSource,
    plan_payment,
)


@dataclass(frozen=True, slots=True)
class SettlementFacts:
    """Everything a settlement decides from, read in one phase at one instant."""

    bill: tuple[BillLine, ...]
    rule: BenefitRule
    year_to_date: YearToDate
    own: Source | None  # None: no own account may pay (resident, or acct_used_flag = 0)
    shared: tuple[Source, ...]
    payment_order: tuple[PaymentStep, ...]


@dataclass(frozen=True, slots=True)
class PlannedDraw:
    """Part of the personal burden drawn from one ledger account."""

    kind: str
    source_id: str
    account_id: str
    contributor: str
    contributor_region: str
    amount_fen: int


@dataclass(frozen=True, slots=True)
class Decision:
    figures: SettlementFigures
    plan: PaymentPlan
    draws: tuple[PlannedDraw, ...]


def decide(facts: SettlementFacts) -> Decision:
    figures = compute_settlement(facts.bill, facts.rule, facts.year_to_date)
    plan = plan_payment(
        figures.psn_part_amt,
        figures.account_payable_fen,
        facts.own.available_fen if facts.own else None,
        [SharedSource(SharedKind(s.kind), s.source_id, s.available_fen) for s in facts.shared],
        facts.payment_order,
        use_mutual_aid=bool(facts.shared),
    )
    return Decision(figures, plan, spread_draws(plan, facts.own, facts.shared))


def spread_draws(
    plan: PaymentPlan, own: Source | None, shared: Sequence[Source]
) -> tuple[PlannedDraw, ...]:
    """Spread each source's planned amount over its accounts, in their order."""
    wanted: list[tuple[Source, int]] = []
    if own is not None and plan.own_acct_pay_fen > 0:
        wanted.append((own, plan.own_acct_pay_fen))
    by_id = {s.source_id: s for s in shared}
    wanted += [(by_id[d.source_id], d.amount_fen) for d in plan.draws if d.amount_fen > 0]
    draws = []
    for source, amount in wanted:
        parts = allocate_in_order(amount, [available for _, available in source.accounts])
        for (account_id, _), part in zip(source.accounts, parts, strict=False):
            if part > 0:
                draws.append(
                    PlannedDraw(
                        source.kind,
                        source.source_id,
                        account_id,
                        source.contributor,
                        source.contributor_region,
                        part,
                    )
                )
    return tuple(draws)
