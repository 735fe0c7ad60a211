"""Per-settlement arithmetic (docs/rules.md §8) and benefit tables (§13), worked by hand.

Amounts are fen. "ded" is act_pay_dedc, "fund" is hifp_pay = fund_pay_sumamt, "psn" is
psn_part_amt, "payable" is payable_by_accounts = first self-pay + deductible + co-pay.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal

import pytest

from gongji.core.errors import InvariantViolation
from gongji.institutions.domain.institutions import InstitutionLevel
from gongji.settlement.domain.benefits import (
    BenefitEntry,
    BenefitRule,
    BenefitRuleMissing,
    BenefitTable,
    BenefitValueInvalid,
    Employment,
    check_benefits,
    hefei_example_table,
    parse_benefits,
)
from gongji.settlement.domain.compute import (
    SettlementFigures,
    YearToDate,
    check_settlement,
    compute_settlement,
    split_by_weights,
)
from gongji.settlement.domain.items import (
    AccountPayPolicy,
    BillEmpty,
    BillLine,
    CatalogueItem,
    ItemCategory,
    ItemClass,
)

D = Decimal
A, B, C = ItemClass.A, ItemClass.B, ItemClass.C
PRIMARY, SECONDARY, TERTIARY = (
    InstitutionLevel.PRIMARY,
    InstitutionLevel.SECONDARY,
    InstitutionLevel.TERTIARY,
)
EMPLOYED, RETIRED = Employment.EMPLOYED, Employment.RETIRED
HEFEI = hefei_example_table()
HEFEI_PRIMARY_EMPLOYED = HEFEI.lookup("310", "11", PRIMARY, EMPLOYED)  # 20000, 0.60, 400000

# A bureau's own table, as it would come from TOML (numbers invented for the tests).
OTHER_TYPES: list[Mapping[str, object]] = [
    {"insutype": "310", "med_type": "14", "level": "*", "employment": "*",
     "deductible_fen": 0, "ratio": "0.8", "annual_cap_fen": 1_000_000},
    {"insutype": "310", "med_type": "14", "employment": "retired",
     "deductible_fen": 0, "ratio": "0.85", "annual_cap_fen": 1_200_000},
    {"insutype": "310", "med_type": "21", "level": "tertiary",
     "deductible_fen": 100_000, "ratio": "0.85", "annual_cap_fen": 30_000_000},
    {"insutype": "310", "med_type": "21", "level": "tertiary", "employment": "retired",
     "deductible_fen": 100_000, "ratio": "0.9", "annual_cap_fen": 30_000_000},
    {"insutype": "310", "med_type": "41", "level": "none",
     "deductible_fen": 0, "ratio": "0", "annual_cap_fen": 0},
]  # fmt: skip
TABLE = parse_benefits(OTHER_TYPES)


def line(
    quantity: str,
    unit_price_fen: int,
    item_class: ItemClass = A,
    category: ItemCategory = ItemCategory.DRUG,
    *,
    prop: str = "0",
    ceiling: int | None = None,
    account_payable: bool = True,
    in_catalogue: bool = True,
) -> BillLine:
    thing = CatalogueItem(
        "I" + str(unit_price_fen),
        "项目",
        item_class,
        category,
        D(prop),
        ceiling,
        account_payable,
        in_catalogue,
    )
    return BillLine(thing, D(quantity), unit_price_fen)


def totals(f: SettlementFigures) -> dict[str, int]:
    return {
        "medfee": f.medfee_sumamt,
        "fulamt": f.fulamt_ownpay_amt,
        "overlmt": f.overlmt_selfpay,
        "preselfpay": f.preselfpay_amt,
        "inscp": f.inscp_scp_amt,
        "ded": f.act_pay_dedc,
        "fund": f.hifp_pay,
        "psn": f.psn_part_amt,
        "payable": f.payable_by_accounts_fen,
        "account": f.account_payable_fen,
    }


# --- one worked example per med_type ------------------------------------------------------


def test_med_type_11_hefei_outpatient_mixed_bill() -> None:
    # Hefei primary, employed: deductible 20000, ratio 0.6, cap 400000.
    # Year to date: 15000 of the deductible used → 5000 left; no fund paid yet.
    # L1 A drug       1250 × 2   = 2500                           in scope 2500
    # L2 B drug 0.1   3333 × 3   = 9999  first 999.9→1000          in scope 8999
    # L3 C service    5000 × 1   = 5000  full self-pay 5000
    # L4 out of cat.  1200 × 1.5 = 1800  full self-pay 1800
    # L5 A exam      10000 × 1, ceiling 8000: over-limit 2000       in scope 8000
    # medfee 29299 = full 6800 + over 2000 + first 1000 + in scope 19499.
    # ded = min(19499, 5000) = 5000; fund = (19499 − 5000) × 0.6 = 8699.4 → 8699.
    # psn = 29299 − 8699 = 20600; payable = 1000 + 5000 + (19499 − 5000 − 8699 = 5800) = 11800.
    # In-scope burden 19499 − 8699 = 10800 split by in scope [2500, 8999, 0, 0, 8000] (Σ 19499):
    #   exact 1384.69, 4984.32, 4430.997 → floors 1384, 4984, 4430 (Σ 10798), 2 fen left go to
    #   the largest remainders L5 then L1 → 1385, 4984, 0, 0, 4431.
    # Account parts: L1 1385, L2 1000 + 4984 = 5984, L3 0, L4 0, L5 4431 → 11800.
    bill = [
        line("2", 1250),
        line("3", 3333, B, prop="0.1"),
        line("1", 5000, C, ItemCategory.SERVICE),
        line("1.5", 1200, category=ItemCategory.CONSUMABLE, in_catalogue=False),
        line("1", 10000, category=ItemCategory.EXAMINATION, ceiling=8000),
    ]
    f = compute_settlement(bill, HEFEI_PRIMARY_EMPLOYED, YearToDate(15_000, 0))
    assert totals(f) == {
        "medfee": 29299, "fulamt": 6800, "overlmt": 2000, "preselfpay": 1000, "inscp": 19499,
        "ded": 5000, "fund": 8699, "psn": 20600, "payable": 11800, "account": 11800,
    }  # fmt: skip
    assert f.fund_pay_sumamt == 8699
    assert f.hosp_part_amt == 0
    assert [i.inscp_personal_fen for i in f.items] == [1385, 4984, 0, 0, 4431]
    assert [i.account_payable_fen for i in f.items] == [1385, 5984, 0, 0, 4431]
    assert f.year_to_date_after == YearToDate(20_000, 8699)


def test_med_type_14_chronic_disease_cap_exceeded() -> None:
    # med_type 14, retired at a secondary hospital: the retired wildcard-level rule
    # (deductible 0, ratio 0.85, cap 1200000) beats the all-wildcard one. Fund paid 1195000.
    # L1 B drug 0.15  4567 × 2 = 9134, first 1370.1 → 1370, in scope 7764
    # L2 A exam       1500 × 1 = 1500, in scope 1500
    # in scope 9264; ded 0; fund 9264 × 0.85 = 7874.4 → 7874, cap left 5000 → 5000.
    # psn = 10634 − 5000 = 5634; payable = 1370 + 0 + 4264 = 5634.
    # Burden 4264 by [7764, 1500]: 3573.58, 690.41 → 3573 + 690 = 4263, 1 fen to L1 → 3574, 690.
    rule = TABLE.lookup("310", "14", SECONDARY, RETIRED)
    assert rule == BenefitRule(0, D("0.85"), 1_200_000, pool="14")  # no pool given: its own
    bill = [line("2", 4567, B, prop="0.15"), line("1", 1500, category=ItemCategory.EXAMINATION)]
    f = compute_settlement(bill, rule, YearToDate(0, 1_195_000))
    assert totals(f) == {
        "medfee": 10634, "fulamt": 0, "overlmt": 0, "preselfpay": 1370, "inscp": 9264,
        "ded": 0, "fund": 5000, "psn": 5634, "payable": 5634, "account": 5634,
    }  # fmt: skip
    assert [i.account_payable_fen for i in f.items] == [1370 + 3574, 690]
    assert f.year_to_date_after == YearToDate(0, 1_200_000)


def test_med_type_21_inpatient_with_half_up_fund() -> None:
    # Inpatient, tertiary, employed: deductible 100000, ratio 0.85, cap 30000000; fresh year.
    # L1 A bed      6000 × 10, ceiling 5000/day: price 60000, over 10000, in scope 50000
    # L2 B drug 0.1 12345 × 20 = 246900: first 24690, in scope 222210
    # L3 C consumable 80000: full 80000
    # L4 C wellness    3000: full 3000 (and not account-payable)
    # medfee 389900 = 83000 + 10000 + 24690 + 272210.
    # ded = 100000; fund = 172210 × 0.85 = 146378.5 → 146379 (half up).
    # psn = 389900 − 146379 = 243521; payable = 24690 + 100000 + 25831 = 150521.
    # Burden 272210 − 146379 = 125831 by [50000, 222210]: 23112.99…, 102718.14…
    #   → 23112 + 102718 = 125830, 1 fen to L1 (remainder 232480 > 39730) → 23113, 102718.
    rule = TABLE.lookup("310", "21", TERTIARY, EMPLOYED)
    bill = [
        line("10", 6000, category=ItemCategory.SERVICE, ceiling=5000),
        line("20", 12345, B, prop="0.1"),
        line("1", 80000, C, ItemCategory.CONSUMABLE),
        line("1", 3000, C, ItemCategory.WELLNESS),
    ]
    f = compute_settlement(bill, rule, YearToDate())
    assert totals(f) == {
        "medfee": 389900, "fulamt": 83000, "overlmt": 10000, "preselfpay": 24690,
        "inscp": 272210, "ded": 100000, "fund": 146379, "psn": 243521, "payable": 150521,
        "account": 150521,
    }  # fmt: skip
    assert [i.account_payable_fen for i in f.items] == [23113, 24690 + 102718, 0, 0]
    assert f.year_to_date_after == YearToDate(100_000, 146_379)


def test_med_type_41_pharmacy_purchase_paid_by_the_person() -> None:
    # Pharmacy (level none): ratio 0, cap 0 — the fund pays nothing, the person all.
    # L1 A drug      2350 × 2 = 4700, in scope 4700
    # L2 B drug 0.05 1999 × 1 = 1999, first 99.95 → 100, in scope 1899
    # L3 C wellness  8800 full self-pay, never account-payable
    # medfee 15499; in scope 6599; ded 0; fund 0; psn 15499; payable 100 + 6599 = 6699.
    rule = TABLE.lookup("310", "41", InstitutionLevel.NONE, RETIRED)
    bill = [
        line("2", 2350),
        line("1", 1999, B, prop="0.05"),
        line("1", 8800, C, ItemCategory.WELLNESS),
    ]
    f = compute_settlement(bill, rule, YearToDate(0, 0))
    assert totals(f) == {
        "medfee": 15499, "fulamt": 8800, "overlmt": 0, "preselfpay": 100, "inscp": 6599,
        "ded": 0, "fund": 0, "psn": 15499, "payable": 6699, "account": 6699,
    }  # fmt: skip
    # A region letting accounts pay full self-pay widens payable by 8800, but the wellness line
    # stays excluded item by item, so what accounts may pay is still 6699.
    wide = compute_settlement(bill, rule, YearToDate(), AccountPayPolicy(True, False))
    assert (wide.payable_by_accounts_fen, wide.account_payable_fen) == (15499, 6699)


# --- deductible edges (Hefei primary, employed: deductible 20000, ratio 0.6) ----------------


def test_deductible_exactly_used_up() -> None:
    # 15000 left, in scope 15000: ded 15000, fund 0, psn 15000; deductible used → 20000.
    f = compute_settlement([line("1", 15000)], HEFEI_PRIMARY_EMPLOYED, YearToDate(5000, 0))
    assert (f.act_pay_dedc, f.hifp_pay, f.psn_part_amt, f.payable_by_accounts_fen) == (
        15000, 0, 15000, 15000,
    )  # fmt: skip
    assert f.year_to_date_after == YearToDate(20_000, 0)


def test_deductible_partly_left() -> None:
    # 15000 left, in scope 40000: ded 15000, fund 25000 × 0.6 = 15000, psn 25000.
    f = compute_settlement([line("1", 40000)], HEFEI_PRIMARY_EMPLOYED, YearToDate(5000, 0))
    assert (f.act_pay_dedc, f.hifp_pay, f.psn_part_amt) == (15000, 15000, 25000)
    assert f.year_to_date_after == YearToDate(20_000, 15_000)


def test_deductible_already_exhausted_and_public_health_item() -> None:
    # Deductible used 20000 → 0 left. A drug 10000 + A vaccine (public health) 5000.
    # ded 0; fund 15000 × 0.6 = 9000; psn 6000 = payable; burden 6000 by [10000, 5000] →
    # 4000, 2000; the vaccine's 2000 is not account-payable → account 4000.
    bill = [line("1", 10000), line("1", 5000, category=ItemCategory.PUBLIC_HEALTH)]
    f = compute_settlement(bill, HEFEI_PRIMARY_EMPLOYED, YearToDate(20_000, 0))
    assert (f.act_pay_dedc, f.hifp_pay, f.psn_part_amt) == (0, 9000, 6000)
    assert (f.payable_by_accounts_fen, f.account_payable_fen) == (6000, 4000)
    assert [i.inscp_personal_fen for i in f.items] == [4000, 2000]


def test_deductible_used_beyond_a_lowered_rule_counts_as_exhausted() -> None:
    # Used 25000 of a deductible now 20000: nothing left, not a negative deductible.
    f = compute_settlement([line("1", 1000)], HEFEI_PRIMARY_EMPLOYED, YearToDate(25_000, 0))
    assert (f.act_pay_dedc, f.hifp_pay) == (0, 600)


# --- cap edges (Hefei primary, employed: cap 400000; deductible already used) -------------


def test_cap_exactly_reached() -> None:
    # Cap left 400000 − 394000 = 6000; fund 10000 × 0.6 = 6000 = cap left → fund paid 400000.
    f = compute_settlement([line("1", 10000)], HEFEI_PRIMARY_EMPLOYED, YearToDate(20_000, 394_000))
    assert (f.hifp_pay, f.psn_part_amt) == (6000, 4000)
    assert f.year_to_date_after == YearToDate(20_000, 400_000)


def test_cap_exceeded() -> None:
    # Cap left 2000; 10000 × 0.6 = 6000 → 2000; psn 8000, all in-scope burden → payable 8000.
    f = compute_settlement([line("1", 10000)], HEFEI_PRIMARY_EMPLOYED, YearToDate(20_000, 398_000))
    assert (f.hifp_pay, f.psn_part_amt, f.payable_by_accounts_fen) == (2000, 8000, 8000)
    assert f.year_to_date_after == YearToDate(20_000, 400_000)


@pytest.mark.parametrize("fund_paid", [400_000, 410_000])
def test_cap_already_exhausted(fund_paid: int) -> None:
    f = compute_settlement(
        [line("1", 10000)], HEFEI_PRIMARY_EMPLOYED, YearToDate(20_000, fund_paid)
    )
    assert (f.hifp_pay, f.psn_part_amt, f.account_payable_fen) == (0, 10000, 10000)
    assert f.year_to_date_after == YearToDate(20_000, fund_paid)


# --- policy flags ---------------------------------------------------------------------------


def test_policy_lets_accounts_pay_over_limit_and_full_selfpay() -> None:
    # Deductible exhausted. A drug 1000 with ceiling 800 (over 200, in scope 800) + C 500.
    # fund 800 × 0.6 = 480; psn 1500 − 480 = 1020 = 200 + 500 + 320.
    bill = [line("1", 1000, ceiling=800), line("1", 500, C)]
    ytd = YearToDate(20_000, 0)
    default = compute_settlement(bill, HEFEI_PRIMARY_EMPLOYED, ytd)
    over = compute_settlement(bill, HEFEI_PRIMARY_EMPLOYED, ytd, AccountPayPolicy(False, True))
    both = compute_settlement(bill, HEFEI_PRIMARY_EMPLOYED, ytd, AccountPayPolicy(True, True))
    assert (default.psn_part_amt, default.account_payable_fen) == (1020, 320)
    assert over.account_payable_fen == 320 + 200
    assert both.account_payable_fen == both.payable_by_accounts_fen == 1020


# --- guards ---------------------------------------------------------------------------------


def test_empty_bill_is_refused() -> None:
    with pytest.raises(BillEmpty):
        compute_settlement([], HEFEI_PRIMARY_EMPLOYED, YearToDate())


def test_negative_accumulator_is_a_bug() -> None:
    with pytest.raises(InvariantViolation):
        YearToDate(-1, 0)


def test_broken_identities_are_caught() -> None:
    good = compute_settlement([line("1", 1000)], HEFEI_PRIMARY_EMPLOYED, YearToDate())
    check_settlement(good)
    for change in (
        {"medfee_sumamt": good.medfee_sumamt + 1},
        {"psn_part_amt": good.psn_part_amt - 1},
        {"fund_pay_sumamt": good.fund_pay_sumamt + 1},
        {"account_payable_fen": good.psn_part_amt + 1},
        {"act_pay_dedc": -1},
    ):
        with pytest.raises(InvariantViolation):
            check_settlement(dataclasses.replace(good, **change))  # type: ignore[arg-type]


def test_split_by_weights() -> None:
    assert split_by_weights(10800, [2500, 8999, 0, 0, 8000]) == [1385, 4984, 0, 0, 4431]
    assert split_by_weights(10, [1, 1, 1]) == [4, 3, 3]  # ties go to the earlier part
    assert split_by_weights(0, [0, 0]) == [0, 0]
    assert split_by_weights(0, []) == []
    with pytest.raises(InvariantViolation):
        split_by_weights(1, [0, 0])
    with pytest.raises(InvariantViolation):
        split_by_weights(-1, [1])


# --- benefit tables -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "employment", "expected"),
    [
        (PRIMARY, EMPLOYED, BenefitRule(20_000, D("0.60"), 400_000, "outpatient")),
        (PRIMARY, RETIRED, BenefitRule(20_000, D("0.70"), 500_000, "outpatient")),
        (SECONDARY, EMPLOYED, BenefitRule(40_000, D("0.50"), 400_000, "outpatient")),
        (TERTIARY, RETIRED, BenefitRule(40_000, D("0.60"), 500_000, "outpatient")),
    ],
)
def test_hefei_example(
    level: InstitutionLevel, employment: Employment, expected: BenefitRule
) -> None:
    assert HEFEI.lookup("310", "11", level, employment) == expected


def test_hefei_example_has_no_pharmacy_or_resident_rule() -> None:
    with pytest.raises(BenefitRuleMissing) as caught:
        HEFEI.lookup("310", "11", InstitutionLevel.NONE, EMPLOYED)
    assert caught.value.code == "benefit_rule_missing"
    with pytest.raises(BenefitRuleMissing):
        HEFEI.lookup("390", "11", PRIMARY, EMPLOYED)


def test_most_specific_rule_wins() -> None:
    # 14: employed anywhere → the all-wildcard rule; retired → the employment-specific rule.
    assert TABLE.lookup("310", "14", PRIMARY, EMPLOYED).ratio == D("0.8")
    assert TABLE.lookup("310", "14", TERTIARY, RETIRED).ratio == D("0.85")
    # 21 tertiary: employed → level rule 0.85; retired → level + employment rule 0.9.
    assert TABLE.lookup("310", "21", TERTIARY, EMPLOYED).ratio == D("0.85")
    assert TABLE.lookup("310", "21", TERTIARY, RETIRED).ratio == D("0.9")
    with pytest.raises(BenefitRuleMissing):
        TABLE.lookup("310", "21", SECONDARY, EMPLOYED)


def test_level_outranks_employment_between_half_specific_rules() -> None:
    rule_level = BenefitRule(1, D("0.5"), 10)
    rule_employment = BenefitRule(2, D("0.6"), 10)
    table = BenefitTable(
        (
            BenefitEntry("310", "11", None, RETIRED, rule_employment),
            BenefitEntry("310", "11", PRIMARY, None, rule_level),
        )
    )
    assert table.lookup("310", "11", PRIMARY, RETIRED) == rule_level
    assert table.lookup("310", "11", SECONDARY, RETIRED) == rule_employment


def _entry(**change: object) -> dict[str, object]:
    base: dict[str, object] = {
        "insutype": "310", "med_type": "11", "level": "primary", "employment": "employed",
        "deductible_fen": 20_000, "ratio": "0.6", "annual_cap_fen": 400_000,
    }  # fmt: skip
    base.update(change)
    return {k: v for k, v in base.items() if v is not None}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ratio": 0.6}, "ratio"),
        ({"ratio": "1.2"}, "ratio"),
        ({"ratio": "-0.1"}, "ratio"),
        ({"ratio": "sixty"}, "ratio"),
        ({"ratio": "NaN"}, "ratio"),
        ({"deductible_fen": -1}, "deductible_fen"),
        ({"deductible_fen": "20000"}, "deductible_fen"),
        ({"annual_cap_fen": True}, "annual_cap_fen"),
        ({"annual_cap_fen": 1.5}, "annual_cap_fen"),
        ({"level": "quaternary"}, "level"),
        ({"employment": "student"}, "employment"),
        ({"insutype": 310}, "insutype"),
        ({"med_type": ""}, "med_type"),
        ({"ratio": None}, "ratio"),
        ({"retired_bonus": "0.1"}, "retired_bonus"),
    ],
)
def test_bad_benefit_entry(change: dict[str, object], field: str) -> None:
    second = {**_entry(med_type="14"), **change}
    raw = [_entry(), {k: v for k, v in second.items() if v is not None}]
    with pytest.raises(BenefitValueInvalid) as caught:
        parse_benefits(raw)
    assert caught.value.code == "benefit_value_invalid"
    assert (caught.value.detail["entry"], caught.value.detail["field"]) == (1, field)


def test_check_benefits_lists_every_bad_entry_and_duplicates() -> None:
    raw = [_entry(), _entry(ratio="2"), _entry(), _entry(level="*", deductible_fen=-5)]
    problems = check_benefits(raw)
    assert [(p.detail["entry"], p.detail["field"]) for p in problems] == [
        (1, "ratio"),
        (2, "key"),
        (3, "deductible_fen"),
    ]


def test_parse_benefits_accepts_missing_wildcards_and_decimal_ratios() -> None:
    table = parse_benefits([_entry(level=None, employment=None, ratio=D("0.55"))])
    expected = BenefitRule(20_000, D("0.55"), 400_000, pool="11")
    assert table.lookup("310", "11", TERTIARY, RETIRED) == expected


def test_a_benefit_pool_is_named_or_the_med_types_own() -> None:
    any_scheme = _entry(level=None, employment=None)
    shared = {**any_scheme, "med_type": "41", "pool": "outpatient"}
    table = parse_benefits([{**any_scheme, "pool": "outpatient"}, shared])
    assert table.lookup("310", "11", TERTIARY, RETIRED).pool == "outpatient"
    assert table.lookup("310", "41", TERTIARY, RETIRED).pool == "outpatient"
    for bad in ("", "Outpatient", "门诊", "x" * 17, 7):
        problems = check_benefits([{**_entry(), "pool": bad}])
        assert [p.detail["field"] for p in problems] == ["pool"], bad


def test_benefit_rule_refuses_bad_values() -> None:
    with pytest.raises(BenefitValueInvalid):
        BenefitRule(-1, D("0.5"), 0)
    with pytest.raises(BenefitValueInvalid):
        BenefitRule(0, D("1.01"), 0)
    with pytest.raises(BenefitValueInvalid):
        BenefitTable(
            (
                BenefitEntry("310", "11", None, None, BenefitRule(0, D(1), 0)),
                BenefitEntry("310", "11", None, None, BenefitRule(0, D(1), 1)),
            )
        )
