"""The notifications job: the evening reminder of offers that return at 06:00, then the SMS due
(docs/rules.md §15). Run every minute by the server and safe to run anywhere else at the same
time: a reminder is one row per offer, and an SMS is claimed before it is sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from gongji.kernel.context import Context
from gongji.mutual_aid.service.notices import remind_expiring_offers
from gongji.notify.service.delivery import Delivery, deliver_due
from gongji.store.uow import UnitOfWork, run_in_transaction

DELIVERY_PASSES_MAX = 100


@dataclass(frozen=True, slots=True)
class NotificationsRun:
    reminded: int
    delivered: Delivery


def run_notifications(ctx: Context) -> NotificationsRun:
    def remind(uow: UnitOfWork) -> int:
        told = remind_expiring_offers(ctx, uow)
        uow.commit()
        return told

    reminded = run_in_transaction(ctx.engine, remind)
    total = Delivery()
    for _ in range(DELIVERY_PASSES_MAX):
        delivered = deliver_due(ctx)
        total = _add(total, delivered)
        if sum(_counts(delivered)) == 0:
            break
    return NotificationsRun(reminded, total)


def _counts(delivery: Delivery) -> tuple[int, ...]:
    return (
        delivery.sent,
        delivery.deferred,
        delivery.skipped,
        delivery.retrying,
        delivery.failed,
        delivery.uncertain,
    )


def _add(a: Delivery, b: Delivery) -> Delivery:
    return Delivery(*(x + y for x, y in zip(_counts(a), _counts(b), strict=True)))
