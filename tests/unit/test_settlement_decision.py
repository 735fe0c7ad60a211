"""A settlement's decision without a database (docs/rules.md §8): from gathered facts, what the
fund pays, who pays the personal burden, and from which ledger accounts, in the policy's order.

Hefei's example rule for an employee at a primary institution: deductible 200.00, ratio 60 %,
annual cap 4 000.00. A bill of 1 000.00 of class-A drugs, nothing used this year: the fund pays
(1 000.00 − 200.00) × 60 % = 480.00, the patient's burden is 520.00, all of it payable by
accounts.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gongji.institutions.domain.institutions import InstitutionLevel
from gongji.mutual_aid.domain.sharing import Source
from gongji.settlement.domain.benefits import Employment, hefei_example_table
from gongji.settlement.domain.compute import YearToDate, check_settlement
from gongji.settlement.domain.decision import PlannedDraw, SettlementFacts, decide
from gongji.settlement.domain.items import BillLine, CatalogueItem, ItemCategory, ItemClass
from gongji.settlement.domain.payment import PaymentStep

RULE = hefei_example_table().lookup("310", "11", InstitutionLevel.PRIMARY, Employment.EMPLOYED)
DRUG = CatalogueItem(
    "XA01", "阿莫西林", ItemClass.A, ItemCategory.DRUG, Decimal(0), None, True, True
)
ORDER = (
    PaymentStep.OWN_ACCOUNT,
    PaymentStep.GRANTS,
    PaymentStep.AUTHORIZATIONS,
    PaymentStep.CASH,
)


def bill(total_fen: int) -> tuple[BillLine, ...]:
    return (BillLine(DRUG, Decimal(1), total_fen),)


def own(current_fen: int, earlier_fen: int) -> Source:
    accounts = (("pa:620100:P1:cur", current_fen), ("pa:620100:P1:old", earlier_fen))
    return Source("own", "P1", "P1", "620100", accounts)


def grant(grant_id: str, quota_fen: int) -> Source:
    return Source("grant", grant_id, "P2", "620100", ((f"em:{grant_id}", quota_fen),))


def facts(
    total_fen: int = 100_000,
    own_source: Source | None = None,
    shared: tuple[Source, ...] = (),
    order: tuple[PaymentStep, ...] = ORDER,
) -> SettlementFacts:
    return SettlementFacts(bill(total_fen), RULE, YearToDate(), own_source, shared, order)


def test_the_fund_pays_its_share_and_the_rest_is_the_patients() -> None:
    decided = decide(facts())
    assert decided.figures.fund_pay_sumamt == 48_000
    assert decided.figures.psn_part_amt == 52_000
    assert decided.plan.psn_cash_pay == 52_000  # no account may pay: all cash
    assert decided.draws == ()


def test_the_own_account_pays_first_this_years_money_before_earlier_years() -> None:
    decided = decide(facts(own_source=own(30_000, 100_000)))
    assert [(d.account_id, d.amount_fen) for d in decided.draws] == [
        ("pa:620100:P1:cur", 30_000),
        ("pa:620100:P1:old", 22_000),
    ]
    assert (decided.plan.acct_pay, decided.plan.psn_cash_pay) == (52_000, 0)


def test_grants_pay_after_the_own_account_oldest_first_then_cash() -> None:
    decided = decide(
        facts(own_source=own(10_000, 0), shared=(grant("G1", 15_000), grant("G2", 50_000)))
    )
    assert decided.draws == (
        PlannedDraw("own", "P1", "pa:620100:P1:cur", "P1", "620100", 10_000),
        PlannedDraw("grant", "G1", "em:G1", "P2", "620100", 15_000),
        PlannedDraw("grant", "G2", "em:G2", "P2", "620100", 27_000),
    )
    assert decided.plan.acct_mulaid_pay == 42_000
    assert decided.plan.psn_cash_pay == 0


def test_the_policys_order_can_put_shared_money_before_the_own_account() -> None:
    shared_first = (
        PaymentStep.GRANTS,
        PaymentStep.OWN_ACCOUNT,
        PaymentStep.AUTHORIZATIONS,
        PaymentStep.CASH,
    )
    decided = decide(
        facts(own_source=own(100_000, 0), shared=(grant("G1", 20_000),), order=shared_first)
    )
    assert {d.kind: d.amount_fen for d in decided.draws} == {"grant": 20_000, "own": 32_000}


def test_empty_quotas_draw_nothing_and_cash_takes_the_rest() -> None:
    decided = decide(facts(shared=(grant("G1", 0),)))
    assert decided.draws == ()
    assert decided.plan.psn_cash_pay == 52_000


@given(
    total=st.integers(1, 2_000_000),
    current=st.integers(0, 500_000),
    earlier=st.integers(0, 500_000),
    quotas=st.lists(st.integers(0, 300_000), max_size=4),
)
def test_every_decision_adds_up_and_no_account_gives_more_than_it_holds(
    total: int, current: int, earlier: int, quotas: list[int]
) -> None:
    shared = tuple(grant(f"G{n}", q) for n, q in enumerate(quotas))
    decided = decide(facts(total, own(current, earlier), shared))
    check_settlement(decided.figures)
    held = {
        account: available
        for s in (own(current, earlier), *shared)
        for account, available in s.accounts
    }
    for draw in decided.draws:
        assert 0 < draw.amount_fen <= held[draw.account_id]
    assert sum(d.amount_fen for d in decided.draws) == decided.plan.acct_pay
    assert decided.plan.acct_pay + decided.plan.psn_cash_pay == decided.figures.psn_part_amt
    assert (
        sum(d.amount_fen for d in decided.draws if d.kind != "own") == decided.plan.acct_mulaid_pay
    )


@pytest.mark.parametrize("total_fen", [1, 19_999, 20_000, 20_001])
def test_within_the_deductible_the_fund_pays_nothing_and_above_it_its_ratio(total_fen: int) -> None:
    decided = decide(facts(total_fen))
    expected = 0 if total_fen <= 20_000 else ((total_fen - 20_000) * 60 + 50) // 100  # half up
    assert decided.figures.fund_pay_sumamt == expected
