"""Delivering notifications by SMS (docs/rules.md §15): retried, never sent twice.

For each message due, one short transaction decides (preferences, quiet hours, a mobile number)
and claims it (``pending`` → ``sending``, only if still pending, so of two deliverers one
wins). The gateway is called outside any transaction. A second transaction records the outcome:
``sent``; or, if the gateway refused, ``pending`` again after a pause (1, 5, 15, 60 minutes),
``failed`` after the fifth try. A deliverer that dies between claim and outcome leaves the
message ``sending``; after ``CLAIM_LEASE_S`` it becomes ``uncertain`` and is never sent again,
because the gateway may have sent it already: a duplicate is the one failure a family notices
and cannot tell from a second event. The inbox has the message either way.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Final, Unpack

from gongji.core.clock import to_us
from gongji.kernel.context import Context
from gongji.notify.domain.messages import NoticeKind, sms_text
from gongji.notify.service import preferences
from gongji.notify.service.sms_text import sender_for
from gongji.notify.store import notify_repo
from gongji.notify.store.notify_repo import NotificationRow, SmsChanges
from gongji.people.service.persons import mobile_number
from gongji.store.uow import UnitOfWork, run_in_transaction

log = logging.getLogger("gongji.notify")

BATCH: Final = 100
CLAIM_LEASE_S: Final = 600
RETRY_AFTER_S: Final = (60, 300, 900, 3600)
ATTEMPTS_MAX: Final = len(RETRY_AFTER_S) + 1


@dataclass(frozen=True, slots=True)
class Delivery:
    sent: int = 0
    deferred: int = 0
    skipped: int = 0
    retrying: int = 0
    failed: int = 0
    uncertain: int = 0


@dataclass(frozen=True, slots=True)
class _Claim:
    row: NotificationRow
    mobile: str


def deliver_due(ctx: Context, limit: int = BATCH) -> Delivery:
    """One pass: give up on stale claims, then send what is due. Idempotent; safe in parallel."""
    uncertain = _give_up_stale(ctx)
    due = run_in_transaction(
        ctx.engine,
        lambda uow: notify_repo.due_sms(uow.connection, ctx.now_us(), limit),
        read_only=True,
    )
    counts = {"sent": 0, "deferred": 0, "skipped": 0, "retrying": 0, "failed": 0}
    for row in due:
        outcome = _deliver(ctx, row)
        if outcome:
            counts[outcome] += 1
    return Delivery(**counts, uncertain=uncertain)


def _give_up_stale(ctx: Context) -> int:
    def work(uow: UnitOfWork) -> int:
        cutoff = ctx.now_us() - CLAIM_LEASE_S * 1_000_000
        moved = [
            notify_repo.move_sms(uow.connection, notification_id, "sending", sms_state="uncertain")
            for notification_id in notify_repo.stale_claims(uow.connection, cutoff)
        ]
        uow.commit()
        return sum(moved)

    return run_in_transaction(ctx.engine, work)


def _deliver(ctx: Context, row: NotificationRow) -> str | None:
    claim = run_in_transaction(ctx.engine, lambda uow: _decide_and_claim(ctx, uow, row))
    if not isinstance(claim, _Claim):
        return claim
    sender = sender_for(ctx.sms)
    if sender is None:
        return _finish(ctx, row, "no_gateway")
    text = sms_text(NoticeKind(row.kind), json.loads(row.params))
    try:
        sender.send_text(claim.mobile, text)
    except Exception:  # the gateway refused or failed: nothing was sent, so it may be retried
        log.warning("SMS of notification %s refused by the gateway; will retry", row.id)
        return _retry_or_fail(ctx, row)
    return _finish(ctx, row, "sent")


def _decide_and_claim(ctx: Context, uow: UnitOfWork, row: NotificationRow) -> _Claim | str | None:
    wanted = preferences.of(uow, row.psn_no)
    mobile = mobile_number(ctx, uow, row.psn_no)
    if not wanted.wants_sms(NoticeKind(row.kind)) or mobile is None:
        return _commit(uow, _move(uow, row, sms_state="skipped", sms_done_at_us=ctx.now_us()))
    local_now = ctx.local_now()
    send_at = wanted.quiet.send_at(local_now)
    if send_at > local_now:
        return _commit(uow, _move(uow, row, sms_state="pending", sms_due_at_us=to_us(send_at)))
    claimed = _move(
        uow,
        row,
        sms_state="sending",
        sms_claimed_at_us=ctx.now_us(),
        sms_attempts=row.sms_attempts + 1,
    )
    uow.commit()
    return _Claim(row, mobile) if claimed else None


def _move(uow: UnitOfWork, row: NotificationRow, **values: Unpack[SmsChanges]) -> str | None:
    """Move the SMS on from the state it was read in; the outcome's name, or None if another
    deliverer moved it first."""
    moved = notify_repo.move_sms(uow.connection, row.id, "pending", **values)
    if not moved:
        return None
    return "deferred" if values["sms_state"] == "pending" else str(values["sms_state"])


def _commit(uow: UnitOfWork, outcome: str | None) -> str | None:
    uow.commit()
    return outcome


def _finish(ctx: Context, row: NotificationRow, state: str) -> str | None:
    def work(uow: UnitOfWork) -> bool:
        done = notify_repo.move_sms(
            uow.connection, row.id, "sending", sms_state=state, sms_done_at_us=ctx.now_us()
        )
        uow.commit()
        return done

    done = run_in_transaction(ctx.engine, work)
    return ("sent" if state == "sent" else "skipped") if done else None


def _retry_or_fail(ctx: Context, row: NotificationRow) -> str | None:
    attempts = row.sms_attempts + 1
    if attempts >= ATTEMPTS_MAX:
        values: SmsChanges = {"sms_state": "failed", "sms_done_at_us": ctx.now_us()}
    else:
        pause = timedelta(seconds=RETRY_AFTER_S[attempts - 1])
        values = {"sms_state": "pending", "sms_due_at_us": to_us(ctx.now() + pause)}

    def work(uow: UnitOfWork) -> bool:
        moved = notify_repo.move_sms(uow.connection, row.id, "sending", **values)
        uow.commit()
        return moved

    moved = run_in_transaction(ctx.engine, work)
    if not moved:
        return None
    return "failed" if values["sms_state"] == "failed" else "retrying"
