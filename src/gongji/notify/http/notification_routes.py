"""/api/v1/notifications: a person's inbox (newest first, in the language asked) and marking it
read; the same services as the 消息 page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from gongji.api.deps import get_context, require_person
from gongji.api.reads import read
from gongji.api.schemas import iso
from gongji.api.writes import write
from gongji.kernel.context import Actor, Context
from gongji.notify.service import inbox
from gongji.store.uow import UnitOfWork

router = APIRouter(prefix="/api/v1", tags=["notifications"])
Person = Annotated[Actor, Depends(require_person)]
Ctx = Annotated[Context, Depends(get_context)]


class NotificationOut(BaseModel):
    id: str
    kind: str
    title: str
    body: str
    created_at: str | None
    read: bool
    sms: str  # pending | sending | sent | skipped | failed | uncertain | no_gateway

    @classmethod
    def of(cls, message: inbox.Message) -> NotificationOut:
        return cls(
            id=message.id,
            kind=message.kind.value,
            title=message.text.title,
            body=message.text.body,
            created_at=iso(message.created_at_us),
            read=message.read,
            sms=message.sms_state,
        )


class InboxOut(BaseModel):
    unread: int
    notifications: list[NotificationOut]


class MarkedOut(BaseModel):
    marked_read: int


@router.get("/notifications", response_model=InboxOut, summary="My messages, newest first")
def get_notifications(request: Request, person: Person, ctx: Ctx) -> InboxOut:
    language = "en" if request.headers.get("accept-language", "").startswith("en") else "zh"

    def work(uow: UnitOfWork) -> InboxOut:
        found = inbox.messages(uow, person.id, language)
        return InboxOut(
            unread=inbox.unread(uow, person.id),
            notifications=[NotificationOut.of(m) for m in found],
        )

    return read(ctx, work)


@router.post("/notifications/read", response_model=MarkedOut, summary="Mark all my messages read")
def mark_read(request: Request, person: Person) -> JSONResponse:
    return write(
        request,
        person,
        "notifications.read",
        {},
        lambda ctx, uow: MarkedOut(marked_read=inbox.mark_all_read(ctx, uow, person.id)),
    )
