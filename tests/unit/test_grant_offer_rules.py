"""The rules of a grant (docs/rules.md §6.1), decided without a database: each refusal is the
nearest case to an offer that passes, so a test fails if a check moves, loosens or disappears.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from gongji.core.enrolment import (
    INSUTYPE_EMPLOYEE,
    INSUTYPE_RESIDENT,
    EnrolmentStatus,
    WalletStatus,
)
from gongji.core.errors import GongjiError
from gongji.core.policy import Policy
from gongji.kernel.reference import load_policy_book
from gongji.mutual_aid.domain.grants import (
    GrantState,
    OfferFacts,
    PartyFacts,
    check_accept,
    check_hold_decision,
    check_offer,
    check_revoke,
    offer_expires_at,
    released_offer_expires_at,
    split_sources,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
LANZHOU: Policy = load_policy_book(None).resolve("620100", date(2026, 3, 2)).policy
JINAN: Policy = load_policy_book(None).resolve("370100", date(2026, 3, 2)).policy
DEZHOU: Policy = load_policy_book(None).resolve("371400", date(2026, 3, 2)).policy

EMPLOYEE = PartyFacts(EnrolmentStatus.NORMAL, INSUTYPE_EMPLOYEE, True, WalletStatus.OPEN)
RESIDENT = PartyFacts(EnrolmentStatus.NORMAL, INSUTYPE_RESIDENT, False, WalletStatus.OPEN)
TEN_AM = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)

FINE = OfferFacts(
    amount_fen=50_000,
    local_now=TEN_AM,
    contributor=EMPLOYEE,
    recipient=RESIDENT,
    same_person=False,
    relationship_active=True,
    relationship_verified=True,
    offers_today=0,
    open_offer_to_recipient=False,
    granted_this_month_fen=0,
    granted_this_year_fen=0,
    own_available_fen=800_000,
    received_quota_fen=0,
)


def refusal_of(facts: OfferFacts, policy: Policy = LANZHOU) -> str:
    with pytest.raises(GongjiError) as caught:
        check_offer(facts, policy)
    return caught.value.code


def test_an_offer_within_every_rule_passes() -> None:
    check_offer(FINE, LANZHOU)


@pytest.mark.parametrize(
    ("amount_fen", "allowed"),
    [(1, True), (200_000, True), (200_001, False), (0, False), (-1, False)],
)
def test_the_amount_is_positive_and_at_most_the_policy_limit(
    amount_fen: int, allowed: bool
) -> None:
    facts = replace(FINE, amount_fen=amount_fen)
    if allowed:
        check_offer(facts, LANZHOU)
    else:
        expected = "grant_amount_exceeds_limit" if amount_fen > 0 else "grant_amount_not_positive"
        assert refusal_of(facts) == expected


def test_the_limit_is_the_policy_value_not_a_constant() -> None:
    tighter = replace(LANZHOU, grant_amount_max_fen=40_000)
    assert refusal_of(FINE, tighter) == "grant_amount_exceeds_limit"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"same_person": True}, "grant_to_self"),
        ({"relationship_active": False}, "relationship_not_active"),
        ({"relationship_verified": False}, "relationship_not_verified"),
        ({"offers_today": 3}, "grants_per_day_exceeded"),
        ({"open_offer_to_recipient": True}, "open_offer_exists"),
        ({"own_available_fen": 49_999}, "insufficient_balance"),
        (
            {"own_available_fen": 40_000, "received_quota_fen": 10_000},
            "onward_granting_not_allowed",
        ),
    ],
)
def test_each_fact_that_breaks_a_rule_refuses_with_its_code(
    change: dict[str, object], code: str
) -> None:
    assert refusal_of(replace(FINE, **change)) == code  # type: ignore[arg-type]


def test_two_offers_today_leave_room_for_a_third() -> None:
    check_offer(replace(FINE, offers_today=2), LANZHOU)


def test_exactly_the_available_balance_may_be_offered() -> None:
    check_offer(replace(FINE, own_available_fen=50_000), LANZHOU)


@pytest.mark.parametrize(
    ("party", "code"),
    [
        (replace(EMPLOYEE, enrolment_status=EnrolmentStatus.SUSPENDED), "person_suspended"),
        (replace(EMPLOYEE, enrolment_status=EnrolmentStatus.TERMINATED), "enrolment_not_active"),
        (replace(EMPLOYEE, enrolment_status=None), "enrolment_not_active"),
        (replace(EMPLOYEE, has_personal_account=False), "contributor_has_no_personal_account"),
        (replace(EMPLOYEE, wallet_status=None), "wallet_not_open"),
        (replace(EMPLOYEE, wallet_status=WalletStatus.CLOSED), "wallet_not_open"),
        (replace(EMPLOYEE, wallet_status=WalletStatus.FROZEN), "wallet_frozen"),
    ],
)
def test_the_contributor_must_be_enrolled_with_an_account_and_an_open_wallet(
    party: PartyFacts, code: str
) -> None:
    assert refusal_of(replace(FINE, contributor=party)) == code


@pytest.mark.parametrize(
    ("party", "code"),
    [
        (replace(RESIDENT, insutype="320"), "recipient_not_insured"),
        (replace(RESIDENT, wallet_status=None), "recipient_wallet_not_open"),
        (replace(RESIDENT, wallet_status=WalletStatus.FROZEN), "recipient_wallet_frozen"),
        (replace(RESIDENT, enrolment_status=EnrolmentStatus.SUSPENDED), "person_suspended"),
    ],
)
def test_the_recipient_must_be_insured_with_an_open_wallet(party: PartyFacts, code: str) -> None:
    assert refusal_of(replace(FINE, recipient=party)) == code


def test_an_employee_may_receive_as_well_as_a_resident() -> None:
    check_offer(replace(FINE, recipient=EMPLOYEE), LANZHOU)


@pytest.mark.parametrize(
    ("clock", "quiet"),
    [
        (time(21, 59), False),
        (time(22, 0), True),
        (time(3, 0), True),
        (time(5, 59), True),
        (time(6, 0), False),
    ],
)
def test_no_offer_is_made_in_the_quiet_hours(clock: time, quiet: bool) -> None:
    facts = replace(FINE, local_now=datetime.combine(TEN_AM.date(), clock, tzinfo=SHANGHAI))
    if quiet:
        assert refusal_of(facts) == "quiet_hours"
    else:
        check_offer(facts, LANZHOU)


def test_equal_ends_mean_no_quiet_hours() -> None:
    always_open = replace(LANZHOU, quiet_hours_start=time(0, 0), quiet_hours_end=time(0, 0))
    check_offer(replace(FINE, local_now=TEN_AM.replace(hour=23)), always_open)


def test_monthly_and_yearly_caps_count_what_was_granted_before() -> None:
    capped = replace(LANZHOU, grant_monthly_cap_fen=100_000, grant_yearly_cap_fen=300_000)
    check_offer(replace(FINE, granted_this_month_fen=50_000), capped)
    assert refusal_of(replace(FINE, granted_this_month_fen=50_001), capped) == "grant_cap_exceeded"
    assert refusal_of(replace(FINE, granted_this_year_fen=250_001), capped) == "grant_cap_exceeded"


def test_where_onward_granting_is_allowed_only_the_total_counts() -> None:
    onward = replace(LANZHOU, onward_granting_allowed=True)
    short = replace(FINE, own_available_fen=40_000, received_quota_fen=10_000)
    assert refusal_of(short, onward) == "insufficient_balance"


def test_checks_run_in_a_fixed_order_amount_first_money_last() -> None:
    everything_wrong = replace(
        FINE,
        amount_fen=300_000,
        same_person=True,
        relationship_active=False,
        own_available_fen=0,
    )
    assert refusal_of(everything_wrong) == "grant_amount_exceeds_limit"
    assert refusal_of(replace(everything_wrong, amount_fen=1_000)) == "grant_to_self"


def test_an_offer_returns_at_six_the_next_morning() -> None:
    late = datetime(2026, 3, 2, 21, 30, tzinfo=SHANGHAI)
    assert offer_expires_at(late, LANZHOU) == datetime(2026, 3, 3, 6, 0, tzinfo=SHANGHAI)


def test_an_offer_may_be_accepted_until_its_deadline_and_not_at_it() -> None:
    deadline = offer_expires_at(TEN_AM, LANZHOU)
    check_accept(GrantState.OFFERED, deadline - timedelta(microseconds=1), deadline)
    with pytest.raises(GongjiError) as caught:
        check_accept(GrantState.OFFERED, deadline, deadline)
    assert caught.value.code == "grant_offer_expired"


@pytest.mark.parametrize(
    ("state", "code"),
    [
        (GrantState.EXPIRED, "grant_offer_expired"),
        (GrantState.ACTIVE, "grant_not_offered"),
        (GrantState.REJECTED, "grant_not_offered"),
        (GrantState.HELD, "grant_held_for_review"),
    ],
)
def test_only_an_open_offer_may_be_accepted(state: GrantState, code: str) -> None:
    with pytest.raises(GongjiError) as caught:
        check_accept(state, TEN_AM, offer_expires_at(TEN_AM, LANZHOU))
    assert caught.value.code == code


def test_a_held_grant_is_accepted_not_even_before_its_deadline() -> None:
    deadline = offer_expires_at(TEN_AM, LANZHOU)
    with pytest.raises(GongjiError) as caught:
        check_accept(GrantState.HELD, TEN_AM, deadline)
    assert caught.value.code == "grant_held_for_review"


@pytest.mark.parametrize("state", [s for s in GrantState if s is not GrantState.HELD])
def test_only_a_held_grant_is_released_or_rejected_by_the_officer(state: GrantState) -> None:
    check_hold_decision(GrantState.HELD)
    with pytest.raises(GongjiError) as caught:
        check_hold_decision(state)
    assert caught.value.code == "grant_not_held"


def test_a_released_grant_has_a_whole_acceptance_period_from_its_release() -> None:
    released = datetime(2026, 3, 9, 15, 0, tzinfo=SHANGHAI)  # a week after the offer
    assert released_offer_expires_at(released, LANZHOU) == datetime(
        2026, 3, 10, 6, 0, tzinfo=SHANGHAI
    )
    assert released_offer_expires_at(released, LANZHOU) > offer_expires_at(TEN_AM, LANZHOU)


def test_revocation_waits_the_policy_days_after_acceptance() -> None:
    accepted = date(2026, 3, 2)
    days = LANZHOU.grant_revocation_allowed_after_days
    check_revoke(GrantState.ACTIVE, accepted, accepted + timedelta(days=days), LANZHOU)
    with pytest.raises(GongjiError) as caught:
        check_revoke(GrantState.ACTIVE, accepted, accepted + timedelta(days=days - 1), LANZHOU)
    assert caught.value.code == "grant_revocation_too_early"
    with pytest.raises(GongjiError) as caught:
        check_revoke(GrantState.OFFERED, accepted, accepted + timedelta(days=days), LANZHOU)
    assert caught.value.code == "grant_not_active"


def test_a_grant_takes_this_years_money_first_where_the_region_allows() -> None:
    assert split_sources(50_000, 30_000, 100_000, JINAN) == (30_000, 20_000)
    assert split_sources(50_000, -5, 100_000, JINAN) == (0, 50_000)


def test_gansu_never_shares_this_years_money() -> None:
    assert LANZHOU.mutual_aid_earlier_years_only
    assert split_sources(50_000, 30_000, 100_000, LANZHOU) == (0, 50_000)


def test_earlier_years_only_regions_never_share_this_years_money() -> None:
    assert DEZHOU.mutual_aid_earlier_years_only
    assert split_sources(50_000, 800_000, 100_000, DEZHOU) == (0, 50_000)
