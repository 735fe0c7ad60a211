"""A span of days as stored periods: whole years, whole months, days; never overlapping and
covering each day exactly once."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from gongji.backoffice.domain.periods import month_of, periods, year_of


def _days_of(period: str) -> set[date]:
    if len(period) == 10:
        return {date.fromisoformat(period)}
    if len(period) == 7:
        first = date.fromisoformat(f"{period}-01")
        return {
            first + timedelta(n) for n in range(31) if (first + timedelta(n)).month == first.month
        }
    first = date(int(period), 1, 1)
    return {first + timedelta(n) for n in range(366) if (first + timedelta(n)).year == first.year}


def test_examples() -> None:
    assert periods(date(2026, 3, 1), date(2026, 3, 31)) == ["2026-03"]
    assert periods(date(2026, 1, 1), date(2026, 12, 31)) == ["2026"]
    assert periods(date(2026, 2, 27), date(2026, 4, 1)) == [
        "2026-02-27",
        "2026-02-28",
        "2026-03",
        "2026-04-01",
    ]
    assert month_of("2024-02-10") == ("2024-02", "2024-02-01", "2024-02-29")
    assert year_of("2026-03-02") == ("2026", "2026-01", "2026-12")


@given(st.dates(date(2020, 1, 1), date(2030, 12, 31)), st.integers(0, 900))
def test_every_day_is_covered_once(first: date, length: int) -> None:
    last = first + timedelta(days=length)
    covered: list[date] = []
    for period in periods(first, last):
        covered.extend(sorted(_days_of(period)))
    assert covered == [first + timedelta(n) for n in range(length + 1)]
