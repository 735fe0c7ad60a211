"""Loading the shipped reference data (regions, national policy) and a bureau's policy file.

This is the only place that reads those files; the domain parses their text. A broken shipped
file is a bug in gongji (InvariantViolation); a broken bureau file is the bureau's to fix, so it
is refused with the policy file's own error codes.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gongji.core.errors import GongjiError, InvariantViolation
from gongji.core.policy import PolicyBook, parse_policy_toml
from gongji.core.policy_values import PolicyIncomplete, PolicyValueInvalid
from gongji.core.regions import Region, parse_regions_csv

DATA_PACKAGE = "gongji.data"
REGIONS_FILE = "regions.csv"
POLICY_FILE = "policy.toml"
SHIPPED_POLICY_SOURCE = "gongji/data/policy.toml"
"""The name shipped policy values carry in their provenance."""

POLICY_FILE_BYTES_MAX = 4 * 1024 * 1024


class PolicyFileUnreadable(GongjiError):
    """The bureau's policy file cannot be read (missing, not UTF-8, too large)."""

    code: ClassVar[str] = "policy_file_unreadable"
    message_zh: ClassVar[str] = "无法读取政策文件 {source}：{reason}"
    message_en: ClassVar[str] = "Cannot read policy file {source}: {reason}"


def _shipped_text(name: str) -> str:
    return resources.files(DATA_PACKAGE).joinpath(name).read_text(encoding="utf-8")


def load_regions() -> list[Region]:
    """The shipped regions: the provinces, the XPCC and their capitals."""
    regions, errors = parse_regions_csv(_shipped_text(REGIONS_FILE))
    if errors:
        raise InvariantViolation(f"shipped {REGIONS_FILE} is invalid: {errors}")
    return regions


def load_policy_book(extra_path: str | None) -> PolicyBook:
    """The shipped policy, overridden by the bureau's file at ``extra_path`` if given.

    The book is checked as a whole before use: every key has a national value and every time
    zone named is known, so no grant is refused later for a reason a start-up could have shown.
    """
    try:
        book = parse_policy_toml(_shipped_text(POLICY_FILE), SHIPPED_POLICY_SOURCE)
    except GongjiError as exc:
        raise InvariantViolation(f"shipped {POLICY_FILE} is invalid: {exc}") from exc
    if extra_path:
        book = book.merged_with(parse_policy_toml(_read_bureau_file(extra_path), extra_path))
    missing = book.missing_national_keys()
    if missing:
        raise PolicyIncomplete(region="national", on="any date", keys=", ".join(missing))
    _check_time_zones(book)
    return book


def _read_bureau_file(path: str) -> str:
    try:
        file = Path(path)
        if file.stat().st_size > POLICY_FILE_BYTES_MAX:
            raise PolicyFileUnreadable(source=path, reason=f"over {POLICY_FILE_BYTES_MAX} bytes")
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyFileUnreadable(source=path, reason=str(exc)) from None


def _check_time_zones(book: PolicyBook) -> None:
    for entry in book.entries:
        name = entry.values.get("business_timezone")
        if not isinstance(name, str):
            continue
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise PolicyValueInvalid(
                source=entry.source_name,
                where=entry.provenance,
                key="business_timezone",
                value=repr(name),
                reason="unknown time zone",
            ) from None
