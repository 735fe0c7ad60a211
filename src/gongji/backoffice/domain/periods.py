"""A span of business days as the fewest stored periods: whole years, whole months, single days.

The statistics keep rows per day, per month and per year; a span from 2026-01-15 to 2027-02-03
reads 17 days of January, the months February to December, January 2027 and three days, instead
of 385 days. The periods never overlap, so their sums add up to the span's.
"""

from __future__ import annotations

from datetime import date, timedelta


def _month_end(day: date) -> date:
    following = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return following - timedelta(days=1)


def periods(first: date, last: date) -> list[str]:
    """``YYYY`` for a whole year inside the span, ``YYYY-MM`` for a whole month, else days."""
    found: list[str] = []
    day = first
    while day <= last:
        if day.month == 1 and day.day == 1 and date(day.year, 12, 31) <= last:
            found.append(f"{day.year:04d}")
            day = date(day.year + 1, 1, 1)
        elif day.day == 1 and _month_end(day) <= last:
            found.append(f"{day.year:04d}-{day.month:02d}")
            day = _month_end(day) + timedelta(days=1)
        else:
            found.append(day.isoformat())
            day += timedelta(days=1)
    return found


def month_of(day: str) -> tuple[str, str, str]:
    """The month a day belongs to, and its first and last day (as stored period keys)."""
    start = date.fromisoformat(day).replace(day=1)
    return day[:7], start.isoformat(), _month_end(start).isoformat()


def year_of(day: str) -> tuple[str, str, str]:
    """The year a day belongs to, and its first and last month."""
    return day[:4], f"{day[:4]}-01", f"{day[:4]}-12"
