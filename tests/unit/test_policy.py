"""Policy: parsing policy files, resolving per region and date, provenance, and refusals."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time
from pathlib import Path
from typing import Any

import pytest

from gongji.core.errors import GongjiError
from gongji.core.policy import (
    AuthorizationScope,
    PaymentSource,
    Policy,
    PolicyBook,
    parse_policy_toml,
)
from gongji.core.policy_values import POLICY_KEYS, PolicyError
from gongji.kernel.reference import (
    SHIPPED_POLICY_SOURCE,
    PolicyFileUnreadable,
    load_policy_book,
    load_regions,
)

SHIPPED = load_policy_book(None)
DEZHOU = "371400"


def refusal(text: str) -> GongjiError:
    with pytest.raises(PolicyError) as caught:
        parse_policy_toml(text, "bureau.toml")
    return caught.value


def test_policy_keys_are_exactly_the_policy_fields() -> None:
    assert list(POLICY_KEYS) == list(Policy.__dataclass_fields__)


def test_shipped_national_defaults_are_the_rule_book() -> None:
    policy = SHIPPED.resolve("370100", date(2026, 1, 9)).policy
    assert policy.grants_per_day_max == 3
    assert policy.grant_amount_max_fen == 200_000
    assert (policy.quiet_hours_start, policy.quiet_hours_end) == (time(22), time(6))
    assert policy.offer_expiry_time == time(6)
    assert policy.offer_expiry_after_days == 1
    assert policy.one_open_offer_per_pair is True
    assert policy.onward_granting_allowed is False
    assert policy.grant_revocation_allowed_after_days == 30
    assert policy.authorization_scope is AuthorizationScope.PROVINCE
    assert policy.mutual_aid_earlier_years_only is False
    assert policy.wallet_place_of_use_change_allowed is True
    assert policy.payment_order == tuple(PaymentSource)
    assert policy.business_timezone == "Asia/Shanghai"
    assert policy.grant_monthly_cap_fen is None
    assert policy.grant_yearly_cap_fen is None
    assert policy.kinship_generation_gap_min_years == 14


def test_gansu_from_2025_authorizes_nationwide_and_shares_earlier_years_money_only() -> None:
    """Gansu's 2025 guide: usable at designated institutions across the country; 历年 only."""
    for city in ("620000", "620100", "620200", "621000"):
        resolved = SHIPPED.resolve(city, date(2025, 1, 1))
        assert resolved.policy.authorization_scope is AuthorizationScope.NATION
        assert resolved.policy.mutual_aid_earlier_years_only is True
        assert resolved.source_of("authorization_scope") == (
            f"620000 from 2025-01-01 ({SHIPPED_POLICY_SOURCE})"
        )
    before = SHIPPED.resolve("620100", date(2024, 12, 31)).policy
    assert before.authorization_scope is AuthorizationScope.PROVINCE
    assert before.mutual_aid_earlier_years_only is False
    assert SHIPPED.resolve("610100", date(2026, 1, 1)).policy.authorization_scope is (
        AuthorizationScope.PROVINCE
    )


def test_shipped_policy_resolves_for_every_shipped_region() -> None:
    assert SHIPPED.missing_national_keys() == ()
    for region in load_regions():
        resolved = SHIPPED.resolve(region.code, date(2026, 1, 9))
        assert set(resolved.sources) == set(POLICY_KEYS)


def test_dezhou_shares_earlier_years_money_only_from_2025() -> None:
    assert not SHIPPED.resolve(DEZHOU, date(2024, 12, 31)).policy.mutual_aid_earlier_years_only
    on_the_day = SHIPPED.resolve(DEZHOU, date(2025, 1, 1))
    assert on_the_day.policy.mutual_aid_earlier_years_only
    assert SHIPPED.resolve("371402", date(2030, 6, 1)).policy.mutual_aid_earlier_years_only
    assert not SHIPPED.resolve("370100", date(2030, 6, 1)).policy.mutual_aid_earlier_years_only


def test_a_resolution_is_remembered_per_region_and_date() -> None:
    book = SHIPPED.merged_with(parse_policy_toml("", "empty.toml"))  # a book nobody resolved
    first = book.resolve("371400", date(2025, 3, 1))
    assert book.resolve("371400", date(2025, 3, 1)) is first
    assert book.resolve("371400", date(2024, 3, 1)) == SHIPPED.resolve("371400", date(2024, 3, 1))
    assert book.resolve("371400", date(2024, 3, 1)).policy != first.policy  # Dezhou, 2025 rule


def test_provenance_names_the_entry_and_the_file() -> None:
    resolved = SHIPPED.resolve(DEZHOU, date(2025, 1, 1))
    assert resolved.source_of("mutual_aid_earlier_years_only") == (
        f"371400 from 2025-01-01 ({SHIPPED_POLICY_SOURCE})"
    )
    assert resolved.source_of("grants_per_day_max") == (
        f"national defaults ({SHIPPED_POLICY_SOURCE})"
    )


BUREAU = """
[national]
grants_per_day_max = 5

[[region]]
code = "370000"
effective_from = 2026-01-01
grant_amount_max_fen = 100000
quiet_hours_start = "23:00"

[[region]]
code = "371400"
effective_from = "2026-01-01"
grant_amount_max_fen = 50000

[[region]]
code = "371400"
effective_from = 2027-01-01
mutual_aid_earlier_years_only = false
"""


def test_a_city_override_beats_a_province_override_key_by_key() -> None:
    book = SHIPPED.merged_with(parse_policy_toml(BUREAU, "bureau.toml"))
    dezhou = book.resolve("371402", date(2026, 3, 1))
    assert dezhou.policy.grant_amount_max_fen == 50_000
    assert dezhou.source_of("grant_amount_max_fen") == "371400 from 2026-01-01 (bureau.toml)"
    assert dezhou.policy.quiet_hours_start == time(23)
    assert dezhou.source_of("quiet_hours_start") == "370000 from 2026-01-01 (bureau.toml)"
    jinan = book.resolve("370100", date(2026, 3, 1))
    assert jinan.policy.grant_amount_max_fen == 100_000
    assert jinan.policy.quiet_hours_start == time(23)


def test_an_empty_book_merges_as_a_no_op() -> None:
    assert SHIPPED.merged_with(PolicyBook(())).resolve(DEZHOU, date(2025, 1, 1)) == SHIPPED.resolve(
        DEZHOU, date(2025, 1, 1)
    )


def test_a_bureau_file_overrides_the_shipped_file(tmp_path: Path) -> None:
    path = tmp_path / "bureau.toml"
    path.write_text(BUREAU, encoding="utf-8")
    book = load_policy_book(str(path))
    assert book.sources == (SHIPPED_POLICY_SOURCE, str(path))

    lanzhou = book.resolve("620100", date(2026, 3, 1))
    assert lanzhou.policy.grants_per_day_max == 5
    assert lanzhou.source_of("grants_per_day_max") == f"national defaults ({path})"
    assert (
        lanzhou.source_of("grant_amount_max_fen") == f"national defaults ({SHIPPED_POLICY_SOURCE})"
    )

    # The shipped Dezhou entry stands until the bureau's later entry takes over.
    assert book.resolve(DEZHOU, date(2026, 12, 31)).policy.mutual_aid_earlier_years_only
    later = book.resolve(DEZHOU, date(2027, 1, 1))
    assert not later.policy.mutual_aid_earlier_years_only
    assert later.source_of("mutual_aid_earlier_years_only") == f"371400 from 2027-01-01 ({path})"

    # Before its entries take effect, the bureau's regional values do not apply.
    assert book.resolve(DEZHOU, date(2025, 6, 1)).policy.grant_amount_max_fen == 200_000


def test_same_region_and_date_in_a_later_file_wins() -> None:
    shipped_like = (
        '[[region]]\ncode = "620000"\neffective_from = 2025-01-01\ngrants_per_day_max = 2\n'
    )
    bureau = '[[region]]\ncode = "620000"\neffective_from = 2025-01-01\ngrants_per_day_max = 4\n'
    book = SHIPPED.merged_with(parse_policy_toml(shipped_like, "a.toml"))
    book = book.merged_with(parse_policy_toml(bureau, "b.toml"))
    resolved = book.resolve("620100", date(2025, 1, 1))
    assert resolved.policy.grants_per_day_max == 4
    assert resolved.source_of("grants_per_day_max") == "620000 from 2025-01-01 (b.toml)"


def test_benefits_are_passed_through_untouched() -> None:
    text = '[[benefits]]\nregion = "340100"\ndeductible_fen = 20000\n\n[[benefits]]\nx = [1, 2]\n'
    book = SHIPPED.merged_with(parse_policy_toml(text, "bureau.toml"))
    bureau_part = book.raw_benefits[len(SHIPPED.raw_benefits) :]  # after the shipped tables
    assert [dict(table) for table in bureau_part] == [
        {"region": "340100", "deductible_fen": 20000},
        {"x": [1, 2]},
    ]


def test_a_book_without_national_defaults_cannot_resolve() -> None:
    book = parse_policy_toml(BUREAU, "bureau.toml")
    assert "grant_amount_max_fen" in book.missing_national_keys()
    with pytest.raises(GongjiError) as caught:
        book.resolve("620100", date(2026, 3, 1))
    assert caught.value.code == "policy_incomplete"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("[national]\ngrants_per_day = 3\n", "policy_key_unknown"),
        ("[benefit]\nx = 1\n", "policy_key_unknown"),
        ("title = 'x'\n", "policy_key_unknown"),
        (
            '[[region]]\ncode = "620000"\neffective_from = 2025-01-01\nfoo = 1\n',
            "policy_key_unknown",
        ),
        ("[national]\ngrants_per_day_max = true\n", "policy_value_invalid"),
        ("[national]\ngrants_per_day_max = 3.0\n", "policy_value_invalid"),
        ('[national]\ngrants_per_day_max = "3"\n', "policy_value_invalid"),
        ("[national]\ngrants_per_day_max = -1\n", "policy_value_invalid"),
        ('[national]\ngrant_amount_max_fen = "2000.00"\n', "policy_value_invalid"),
        ("[national]\ngrant_amount_max_fen = 0\n", "policy_value_invalid"),
        ('[national]\ngrant_monthly_cap_fen = "unlimited"\n', "policy_value_invalid"),
        ('[national]\nquiet_hours_start = "24:00"\n', "policy_value_invalid"),
        ('[national]\nquiet_hours_start = "6:00"\n', "policy_value_invalid"),
        ("[national]\nquiet_hours_start = 22:00:30\n", "policy_value_invalid"),
        ("[national]\noffer_expiry_after_days = 0\n", "policy_value_invalid"),
        ("[national]\none_open_offer_per_pair = 1\n", "policy_value_invalid"),
        ('[national]\nonward_granting_allowed = "false"\n', "policy_value_invalid"),
        ('[national]\nauthorization_scope = "city"\n', "policy_value_invalid"),
        (
            '[national]\npayment_order = ["cash", "own_account", "grants", "authorizations"]\n',
            "policy_value_invalid",
        ),
        ('[national]\npayment_order = ["own_account", "grants", "cash"]\n', "policy_value_invalid"),
        (
            '[national]\npayment_order = ["own_account", "own_account", "grants", "cash"]\n',
            "policy_value_invalid",
        ),
        ('[national]\nbusiness_timezone = "Asia Shanghai"\n', "policy_value_invalid"),
        ("national = 3\n", "policy_value_invalid"),
        ('[region]\ncode = "620000"\n', "policy_value_invalid"),
        ("benefits = 3\n", "policy_value_invalid"),
        ('[[region]]\ncode = "62000"\neffective_from = 2025-01-01\n', "policy_value_invalid"),
        ("[[region]]\ncode = 620000\neffective_from = 2025-01-01\n", "policy_value_invalid"),
        ('[[region]]\ncode = "620102"\neffective_from = 2025-01-01\n', "policy_value_invalid"),
        ('[[region]]\ncode = "620000"\neffective_from = 2025-02-30\n', "policy_toml_invalid"),
        ('[[region]]\ncode = "620000"\neffective_from = "2025-02-30"\n', "policy_value_invalid"),
        (
            '[[region]]\ncode = "620000"\neffective_from = 2025-01-01T00:00:00\n',
            "policy_value_invalid",
        ),
        ('[[region]]\ncode = "620000"\neffective_from = "next year"\n', "policy_value_invalid"),
        ("[[region]]\neffective_from = 2025-01-01\n", "policy_key_missing"),
        ('[[region]]\ncode = "620000"\n', "policy_key_missing"),
        (
            '[[region]]\ncode = "620000"\neffective_from = 2025-01-01\n' * 2,
            "policy_entry_duplicate",
        ),
        ("[national\n", "policy_toml_invalid"),
    ],
)
def test_every_bad_key_or_value_is_refused_with_its_code(text: str, code: str) -> None:
    error = refusal(text)
    assert error.code == code
    assert "bureau.toml" in error.message("en")
    assert "bureau.toml" in error.message("zh")


def test_all_problems_of_a_file_are_listed() -> None:
    error = refusal("[national]\ngrants_per_day_max = true\ntypo = 1\n[[region]]\ncode = '1'\n")
    problems: list[dict[str, Any]] = error.detail["problems"]
    assert [problem["code"] for problem in problems] == [
        "policy_value_invalid",
        "policy_key_unknown",
        "policy_value_invalid",
        "policy_key_missing",
    ]
    assert "grants_per_day_max" in problems[0]["message"]


def test_an_unknown_time_zone_is_refused_at_load(tmp_path: Path) -> None:
    path = tmp_path / "bureau.toml"
    path.write_text('[national]\nbusiness_timezone = "Mars/Olympus"\n', encoding="utf-8")
    with pytest.raises(GongjiError) as caught:
        load_policy_book(str(path))
    assert caught.value.code == "policy_value_invalid"


def test_a_missing_bureau_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileUnreadable) as caught:
        load_policy_book(str(tmp_path / "absent.toml"))
    assert caught.value.code == "policy_file_unreadable"


def test_a_policy_built_in_code_obeys_the_same_bounds() -> None:
    policy = SHIPPED.resolve("620100", date(2026, 1, 9)).policy
    with pytest.raises(GongjiError) as caught:
        replace(policy, grant_amount_max_fen=0)
    assert caught.value.code == "policy_value_invalid"
    with pytest.raises(GongjiError):
        replace(policy, payment_order=(PaymentSource.CASH,))


@pytest.mark.parametrize(
    ("start", "end", "at", "quiet"),
    [
        (time(22), time(6), time(21, 59), False),
        (time(22), time(6), time(22), True),
        (time(22), time(6), time(0), True),
        (time(22), time(6), time(5, 59), True),
        (time(22), time(6), time(6), False),
        (time(1), time(5), time(3), True),
        (time(1), time(5), time(5), False),
        (time(6), time(6), time(6), False),
    ],
)
def test_quiet_hours_may_wrap_past_midnight(start: time, end: time, at: time, quiet: bool) -> None:
    policy = SHIPPED.resolve("620100", date(2026, 1, 9)).policy
    policy = replace(policy, quiet_hours_start=start, quiet_hours_end=end)
    assert policy.in_quiet_hours(at) is quiet
