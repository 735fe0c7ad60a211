"""The rules of premiums paid for relatives that need no storage (docs/rules.md §9)."""

from __future__ import annotations

from datetime import date

import pytest

from gongji.core.errors import GongjiError
from gongji.kernel.reference import load_policy_book
from gongji.mutual_aid.domain.premiums import (
    PremiumKind,
    check_insured,
    check_year,
    premium_amount_fen,
)

TODAY = date(2026, 3, 2)


@pytest.mark.parametrize(("year", "ok"), [(2025, False), (2026, True), (2027, True), (2028, False)])
def test_this_year_and_next_may_be_paid(year: int, ok: bool) -> None:
    if ok:
        check_year(year, TODAY)
        return
    with pytest.raises(GongjiError) as caught:
        check_year(year, TODAY)
    assert caught.value.code == "premium_year_invalid"
    assert "2026" in caught.value.message() and "2027" in caught.value.message()


@pytest.mark.parametrize(
    ("kind", "insutype", "code"),
    [
        (PremiumKind.RESIDENT, "390", None),
        (PremiumKind.RESIDENT, "310", "premium_not_applicable"),
        (PremiumKind.LONG_TERM_CARE, "310", None),
        (PremiumKind.LONG_TERM_CARE, "390", None),
        (PremiumKind.LONG_TERM_CARE, "320", "premium_insured_not_active"),
        (PremiumKind.RESIDENT, None, "premium_insured_not_active"),
    ],
)
def test_who_owes_which_premium(kind: PremiumKind, insutype: str | None, code: str | None) -> None:
    if code is None:
        check_insured(kind, insutype)
        return
    with pytest.raises(GongjiError) as caught:
        check_insured(kind, insutype)
    assert caught.value.code == code


def test_the_amounts_are_the_policys_of_1_january() -> None:
    policy = load_policy_book(None).resolve("370100", date(2026, 1, 1)).policy
    assert premium_amount_fen(policy, PremiumKind.RESIDENT) == 40_000
    assert premium_amount_fen(policy, PremiumKind.LONG_TERM_CARE) == 9_000
    assert PremiumKind.RESIDENT.short == "ri" and PremiumKind.LONG_TERM_CARE.short == "ltc"
