"""Searching the audit trail by operator, person and business days (docs/backoffice.md §Audit)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from gongji.audit.domain.chain import LinkedEntry
from gongji.audit.service import log as audit
from gongji.kernel.context import BUSINESS_TZ
from gongji.store.uow import UnitOfWork

SHOWN_MAX = 200


def day_bounds_us(first: date | None, last: date | None) -> tuple[int | None, int | None]:
    """Business days (Asia/Shanghai), both included, as half-open UTC microseconds."""

    def start(day: date) -> int:
        return int(datetime.combine(day, time(0), tzinfo=BUSINESS_TZ).timestamp() * 1_000_000)

    return (
        start(first) if first else None,
        start(last + timedelta(days=1)) if last else None,
    )


def search(
    uow: UnitOfWork,
    *,
    operator: str = "",
    psn_no: str = "",
    first: date | None = None,
    last: date | None = None,
    before_seq: int | None = None,
    limit: int = SHOWN_MAX,
) -> list[LinkedEntry]:
    """Newest first. ``operator`` is an operator's name, ``psn_no`` the person a record is about."""
    from_us, to_us = day_bounds_us(first, last)
    return audit.search_by(
        uow,
        actor=f"operator:{operator}" if operator else None,
        subject=psn_no or None,
        from_us=from_us,
        to_us=to_us,
        before_seq=before_seq,
        limit=limit,
    )
