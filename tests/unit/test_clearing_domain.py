"""Monthly clearing (docs/rules.md §11) by hand: mutual-aid money spent outside the contributor's
insured region makes the contributor's region owe the region where it was spent.

Regions: 620100 Lanzhou (Gansu 620000), 370100 Jinan and 371400 Dezhou (Shandong 370000),
440100 Guangzhou (Guangdong 440000).
"""

from __future__ import annotations

import random
from datetime import date

import pytest

from gongji.core.errors import InvariantViolation
from gongji.settlement.domain.clearing import (
    ClearingMonthInvalid,
    ClearingMonthOpen,
    Flow,
    NetPosition,
    PairLine,
    check_month_closed,
    clear,
    of_lines,
    parse_month,
)


def nets(flows: list[Flow]) -> dict[str, int]:
    return {p.region: p.net_fen for p in clear("2026-03", flows).net_positions()}


def test_a_lanzhou_grant_spent_in_jinan_makes_gansu_owe_shandong() -> None:
    # A Lanzhou contributor's grant pays 60.00 of his mother's pharmacy bill in Jinan: the money
    # is Gansu's fund's (his personal account), the Jinan pharmacy was paid, so Gansu owes.
    clearing = clear("2026-03", [Flow("620100", "370100", 6_000, 1)])
    assert clearing.lines == (PairLine("620100", "370100", 6_000, 1),)
    assert clearing.province_lines() == (PairLine("620000", "370000", 6_000, 1),)
    assert clearing.net_positions() == (
        NetPosition("370000", received_fen=6_000, paid_fen=0),
        NetPosition("620000", received_fen=0, paid_fen=6_000),
    )
    assert [p.net_fen for p in clearing.net_positions()] == [6_000, -6_000]
    assert (clearing.total_fen, clearing.draws) == (6_000, 1)


def test_money_spent_in_the_contributors_own_city_is_not_cleared() -> None:
    # A district of Lanzhou (620102) is still Lanzhou's pooling area.
    clearing = clear(
        "2026-03", [Flow("620102", "620100", 9_999, 3), Flow("620100", "620100", 1, 1)]
    )
    assert clearing.lines == ()
    assert clearing.province_lines() == ()
    assert clearing.net_positions() == ()
    assert (clearing.total_fen, clearing.draws) == (0, 0)


def test_cities_of_one_province_clear_among_themselves_only() -> None:
    # Dezhou → Jinan is a city pair for Shandong to clear, nothing for the national level.
    clearing = clear("2026-03", [Flow("371400", "370100", 2_500, 2)])
    assert clearing.lines == (PairLine("371400", "370100", 2_500, 2),)
    assert clearing.province_lines() == ()
    assert clearing.net_positions() == ()


def test_city_pairs_roll_up_into_province_pairs() -> None:
    flows = [
        Flow("620100", "370100", 6_000, 1),
        Flow("620102", "371400", 1_500, 2),  # a Lanzhou district: the city pair is Lanzhou's
        Flow("620100", "370100", 400, 1),
        Flow("620100", "440100", 2_000, 1),
    ]
    clearing = clear("2026-03", flows)
    assert clearing.lines == (
        PairLine("620100", "370100", 6_400, 2),
        PairLine("620100", "371400", 1_500, 2),
        PairLine("620100", "440100", 2_000, 1),
    )
    assert clearing.province_lines() == (
        PairLine("620000", "370000", 7_900, 4),
        PairLine("620000", "440000", 2_000, 1),
    )


def test_net_positions_per_province_add_up_to_zero() -> None:
    # Gansu → Shandong 100.00, Shandong → Gansu 30.00, Gansu → Guangdong 20.00, and Dezhou →
    # Jinan 25.00 inside Shandong (no effect on the provinces' nets).
    flows = [
        Flow("620100", "370100", 10_000, 4),
        Flow("370100", "620100", 3_000, 1),
        Flow("620100", "440100", 2_000, 1),
        Flow("371400", "370100", 2_500, 1),
    ]
    clearing = clear("2026-03", flows)
    assert clearing.province_lines() == (
        PairLine("370000", "620000", 3_000, 1),
        PairLine("620000", "370000", 10_000, 4),
        PairLine("620000", "440000", 2_000, 1),
    )
    assert clearing.net_positions() == (
        NetPosition("370000", 10_000, 3_000),
        NetPosition("440000", 2_000, 0),
        NetPosition("620000", 3_000, 12_000),
    )
    assert nets(flows) == {"370000": 7_000, "440000": 2_000, "620000": -9_000}
    assert sum(nets(flows).values()) == 0
    assert clearing.total_fen == 17_500


def test_a_reversal_in_the_same_month_nets_out() -> None:
    flows = [
        Flow("620100", "370100", 6_000, 1),
        Flow("620100", "370100", 2_000, 1),
        Flow("620100", "370100", 2_000, 1, sign=-1),
    ]
    clearing = clear("2026-03", flows)
    assert clearing.lines == (PairLine("620100", "370100", 6_000, 3),)
    only_reversed = clear("2026-03", [Flow("620100", "370100", 2_000, 1), flows[2]])
    assert only_reversed.lines == ()
    assert only_reversed.draws == 2  # both draws were looked at; nothing is owed


def test_reversals_larger_than_new_spending_are_owed_the_other_way() -> None:
    # April: 10.00 spent, and a March settlement of 15.00 reversed: Jinan gives back 5.00.
    flows = [
        Flow("620100", "370100", 1_000, 1),
        Flow("620100", "370100", 1_500, 1, sign=-1),
        Flow("370100", "620100", 700, 1),
    ]
    clearing = clear("2026-04", flows)
    assert clearing.lines == (PairLine("370100", "620100", 1_200, 3),)
    assert nets(flows) == {"370000": -1_200, "620000": 1_200}


def test_flows_in_any_order_or_grouping_give_the_same_digest() -> None:
    flows = [
        Flow("620100", "370100", 6_000, 1),
        Flow("370100", "620100", 3_000, 1),
        Flow("620100", "440100", 2_000, 1),
        Flow("371400", "370100", 2_500, 1),
        Flow("620100", "370100", 500, 1, sign=-1),
    ]
    first = clear("2026-03", flows)
    shuffled = flows[:]
    random.Random(7).shuffle(shuffled)
    split = [*flows[1:], Flow("620100", "370100", 2_500, 0), Flow("620100", "370100", 3_500, 1)]
    assert clear("2026-03", shuffled) == first
    assert clear("2026-03", split).digest == first.digest
    assert of_lines("2026-03", reversed(first.lines), first.draws) == first


def test_the_digest_is_pinned_and_moves_with_every_figure() -> None:
    clearing = clear("2026-03", [Flow("620100", "370100", 6_000, 1)])
    # The canonical text "gongji-clearing-v1|2026-03|1\n620100|370100|6000|1", SHA-256: a digest
    # published once must be checkable with the same text forever.
    assert clearing.digest == "e29f61743e9dea2d2dbc3d4d915a6ab1f8e7d7a89897f7287290393c7f6dc36e"
    one_fen_more = clear("2026-03", [Flow("620100", "370100", 6_001, 1)])
    other_month = clear("2026-04", [Flow("620100", "370100", 6_000, 1)])
    other_city = clear("2026-03", [Flow("620100", "371400", 6_000, 1)])
    more_draws = clear("2026-03", [Flow("620100", "370100", 6_000, 2)])
    digests = {c.digest for c in (clearing, one_fen_more, other_month, other_city, more_draws)}
    assert len(digests) == 5


def test_an_empty_month_has_a_digest_too() -> None:
    empty = clear("2026-03", [])
    assert (empty.lines, empty.total_fen, empty.draws) == ((), 0, 0)
    assert len(empty.digest) == 64 and empty.digest != clear("2026-04", []).digest


def test_a_bad_flow_is_a_bug() -> None:
    with pytest.raises(InvariantViolation):
        Flow("620100", "370100", 100, 1, sign=2)
    with pytest.raises(InvariantViolation):
        Flow("620100", "370100", -100, 1)


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("2026-03", date(2026, 3, 1), date(2026, 3, 31)),
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("2026-12", date(2026, 12, 1), date(2026, 12, 31)),
    ],
)
def test_months_parse_to_their_first_and_last_day(text: str, first: date, last: date) -> None:
    month = parse_month(text)
    assert (month.text, month.first, month.last) == (text, first, last)


@pytest.mark.parametrize(
    "text", ["2026-3", "2026-13", "2026-00", "March", "", "1899-12", "2026-03-01"]
)
def test_bad_months_are_refused(text: str) -> None:
    with pytest.raises(ClearingMonthInvalid) as caught:
        parse_month(text)
    assert caught.value.code == "clearing_month_invalid"


def test_a_month_can_be_cleared_from_the_day_after_it() -> None:
    march = parse_month("2026-03")
    with pytest.raises(ClearingMonthOpen) as caught:
        check_month_closed(march, date(2026, 3, 31))
    assert caught.value.code == "clearing_month_open"
    assert "2026-04-01" in caught.value.message("zh")
    check_month_closed(march, date(2026, 4, 1))
    assert parse_month("2026-12").next_first == date(2027, 1, 1)
