"""Who may spend shared money and which part of an account mutual aid may take
(docs/rules.md §6–§7), without a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from gongji.core.enrolment import EnrolmentStatus, WalletStatus
from gongji.core.errors import GongjiError
from gongji.kernel.reference import load_policy_book
from gongji.mutual_aid.domain.sharing import (
    AccountPart,
    cap_accounts,
    check_spender,
    shareable_parts,
)

SHIPPED = load_policy_book(None)
JINAN = SHIPPED.resolve("370100", date(2026, 3, 2)).policy
LANZHOU = SHIPPED.resolve("620100", date(2026, 3, 2)).policy


def test_this_years_money_is_shared_first_where_the_region_allows() -> None:
    assert shareable_parts(JINAN) == (AccountPart.CURRENT, AccountPart.EARLIER)


def test_earlier_years_only_regions_share_earlier_years_money_alone() -> None:
    earlier_only = replace(JINAN, mutual_aid_earlier_years_only=True)
    assert shareable_parts(earlier_only) == (AccountPart.EARLIER,)


def test_gansu_shares_earlier_years_money_only_as_its_guide_says() -> None:
    assert shareable_parts(LANZHOU) == (AccountPart.EARLIER,)


def test_an_enrolled_person_with_an_open_wallet_may_spend() -> None:
    check_spender(EnrolmentStatus.NORMAL, WalletStatus.OPEN, "就医人")


@pytest.mark.parametrize(
    ("enrolment", "wallet", "code"),
    [
        (EnrolmentStatus.SUSPENDED, WalletStatus.OPEN, "person_suspended"),
        (EnrolmentStatus.TERMINATED, WalletStatus.OPEN, "enrolment_not_active"),
        (None, WalletStatus.OPEN, "enrolment_not_active"),
        (EnrolmentStatus.NORMAL, None, "wallet_not_open"),
        (EnrolmentStatus.NORMAL, WalletStatus.CLOSED, "wallet_not_open"),
        (EnrolmentStatus.NORMAL, WalletStatus.FROZEN, "wallet_frozen"),
    ],
)
def test_who_may_not_spend_shared_money(
    enrolment: EnrolmentStatus | None, wallet: WalletStatus | None, code: str
) -> None:
    with pytest.raises(GongjiError) as caught:
        check_spender(enrolment, wallet, "就医人")
    assert caught.value.code == code


def test_an_authorizations_quota_caps_what_its_accounts_give_in_order() -> None:
    accounts = (("cur", 30_000), ("old", 50_000))
    assert cap_accounts(accounts, None) == accounts
    assert cap_accounts(accounts, 40_000) == (("cur", 30_000), ("old", 10_000))
    assert cap_accounts(accounts, 10_000) == (("cur", 10_000), ("old", 0))
    assert cap_accounts(accounts, -5) == (("cur", 0), ("old", 0))
