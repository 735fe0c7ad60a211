"""Quiet hours of a person's SMS: within them a message waits until they end, as a phone call
from a bureau would. The inbox is not affected: it is read when the person chooses.

The window may wrap past midnight (22:00 to 08:00); equal ends mean no quiet hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

DEFAULT_START = time(22, 0)
DEFAULT_END = time(8, 0)


@dataclass(frozen=True, slots=True)
class QuietHours:
    start: time = DEFAULT_START
    end: time = DEFAULT_END

    def contains(self, at: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= at < self.end
        return at >= self.start or at < self.end

    def send_at(self, local_now: datetime) -> datetime:
        """``local_now`` itself when it is outside the window, else the window's end."""
        if not self.contains(local_now.time()):
            return local_now
        end_today = local_now.replace(
            hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0
        )
        return end_today if end_today > local_now else end_today + timedelta(days=1)


def parse_clock(text: str) -> time:
    """``"22:00"`` → 22:00; refuses anything else with ``ValueError``."""
    hours, _, minutes = text.strip().partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2 and len(hours) <= 2):
        raise ValueError("a time HH:MM is expected")
    return time(int(hours), int(minutes))
