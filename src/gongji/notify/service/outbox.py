"""The one way other areas tell a person something (docs/rules.md §15): ``enqueue`` writes the
inbox entry and the SMS to send, in the caller's unit of work, so a message exists exactly when
the business change that caused it commits — a refused or rolled-back command tells no one.

The id is the business event and the person (``offer_received:G…:P…``): the same event
enqueued again, by a replayed request or a job run twice, finds its row and adds nothing.
"""

from __future__ import annotations

import json
from typing import Final

from gongji.kernel.context import Context
from gongji.notify.domain.messages import NoticeKind, Params
from gongji.notify.store import notify_repo
from gongji.notify.store.notify_repo import NotificationRow
from gongji.store.uow import UnitOfWork

ID_LENGTH_MAX: Final = 120


def notice_id(kind: NoticeKind, ref: str, psn_no: str) -> str:
    return f"{kind.value}:{ref}:{psn_no}"[:ID_LENGTH_MAX]


def enqueue(
    ctx: Context, uow: UnitOfWork, psn_no: str, kind: NoticeKind, ref: str, params: Params
) -> bool:
    """Tell ``psn_no`` about event ``ref``; False when it was told already."""
    return notify_repo.insert_if_new(uow.connection, _row(ctx, psn_no, kind, ref, params))


def enqueue_quietly(
    ctx: Context, uow: UnitOfWork, psn_no: str, kind: NoticeKind, ref: str, params: Params
) -> None:
    """As :func:`enqueue`, for a caller that does not ask whether ``psn_no`` was told already
    (a settlement's notices: their event was made in the same transaction). The insert then
    answers nothing, so on PostgreSQL it travels with the transaction's next statement."""
    notify_repo.insert_unless_there(uow.connection, _row(ctx, psn_no, kind, ref, params))


def _row(ctx: Context, psn_no: str, kind: NoticeKind, ref: str, params: Params) -> NotificationRow:
    now_us = ctx.now_us()
    return NotificationRow(
        id=notice_id(kind, ref, psn_no),
        psn_no=psn_no,
        kind=kind.value,
        params=json.dumps(dict(params), ensure_ascii=False, sort_keys=True),
        created_at_us=now_us,
        read_at_us=None,
        sms_state="pending",
        sms_attempts=0,
        sms_due_at_us=now_us,
        sms_claimed_at_us=None,
        sms_done_at_us=None,
    )
