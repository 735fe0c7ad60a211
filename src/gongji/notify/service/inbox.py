"""The inbox (消息): a person's notifications, newest first, and how many are unread (the badge
on the home page). Opening the inbox marks what it shows as read."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final

from gongji.kernel.context import Context
from gongji.notify.domain.messages import NoticeKind, Rendered, render
from gongji.notify.store import notify_repo
from gongji.store.uow import UnitOfWork

PAGE_SIZE: Final = 50


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    kind: NoticeKind
    created_at_us: int
    read: bool
    text: Rendered
    sms_state: str


def messages(uow: UnitOfWork, psn_no: str, language: str = "zh") -> list[Message]:
    return [
        Message(
            row.id,
            NoticeKind(row.kind),
            row.created_at_us,
            row.read_at_us is not None,
            render(NoticeKind(row.kind), json.loads(row.params), language),
            row.sms_state,
        )
        for row in notify_repo.inbox(uow.connection, psn_no, PAGE_SIZE)
    ]


def unread(uow: UnitOfWork, psn_no: str) -> int:
    return notify_repo.unread_count(uow.connection, psn_no)


def mark_all_read(ctx: Context, uow: UnitOfWork, psn_no: str) -> int:
    return notify_repo.mark_read(uow.connection, psn_no, ctx.now_us())
