"""Notification texts and quiet hours (docs/rules.md §15), pure."""

from __future__ import annotations

from datetime import datetime, time

import pytest

from gongji.notify.domain.messages import SMS_LENGTH_MAX, NoticeKind, render, sms_text
from gongji.notify.domain.quiet_hours import QuietHours, parse_clock


def test_every_kind_renders_in_both_languages_with_amounts_in_yuan() -> None:
    params = {"who": "张*", "amount_fen": 50_000, "deadline": "03月03日 06:00", "year": 2026,
              "institution": "兰州市示范第一人民医院", "premium": "城乡居民医保费"}  # fmt: skip
    for kind in NoticeKind:
        zh, en = render(kind, params), render(kind, params, "en")
        assert zh.title and zh.body and en.title and en.body
        assert "{" not in zh.body and "{" not in en.body
    assert "500.00 元" in render(NoticeKind.OFFER_RECEIVED, params).body


def test_a_missing_word_leaves_a_gap_rather_than_losing_the_message() -> None:
    assert render(NoticeKind.OFFER_RETURNED, {}).body.startswith("您共济给的")


def test_an_sms_is_signed_and_at_most_one_message_long() -> None:
    text = sms_text(
        NoticeKind.QUOTA_SPENT, {"who": "王*", "institution": "药" * 300, "amount_fen": 1}
    )
    assert text.startswith("【医保钱包】") and len(text) == SMS_LENGTH_MAX


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 3, 2, 21, 59), datetime(2026, 3, 2, 21, 59)),
        (datetime(2026, 3, 2, 22, 0), datetime(2026, 3, 3, 8, 0)),
        (datetime(2026, 3, 3, 7, 59), datetime(2026, 3, 3, 8, 0)),
        (datetime(2026, 3, 3, 8, 0), datetime(2026, 3, 3, 8, 0)),
    ],
)
def test_quiet_hours_wrap_past_midnight(now: datetime, expected: datetime) -> None:
    assert QuietHours(time(22), time(8)).send_at(now) == expected


def test_a_daytime_window_and_equal_ends() -> None:
    lunch = QuietHours(time(12), time(14))
    assert lunch.send_at(datetime(2026, 3, 2, 12, 30)) == datetime(2026, 3, 2, 14, 0)
    assert not QuietHours(time(8), time(8)).contains(time(8))


@pytest.mark.parametrize("text", ["24:00", "7", "07:5", "ab:cd", ""])
def test_clock_times_are_refused_unless_hh_mm(text: str) -> None:
    with pytest.raises(ValueError):
        parse_clock(text)
