"""PUT /api/v1/test/clock: set the clock every rule and job reads. Mounted only when gongji is
started with GONGJI_TEST_CLOCK=1 (the route does not exist otherwise, and production refuses
the setting), for browser and API tests of time rules such as quiet hours and the 06:00 return.

Moving the clock moves every token's expiry, every TOTP window and every quiet hour at once, so
even a test deployment takes an operator's token for it (``admin`` or ``clerk``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict

from gongji.api.deps import require_operator
from gongji.core.clock import ManualClock
from gongji.core.errors import GongjiError
from gongji.kernel.context import Actor, Role

router = APIRouter(prefix="/api/v1/test", tags=["test"])
Clerk = Annotated[Actor, Depends(require_operator(Role.CLERK))]


class ClockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    now: datetime


class ClockOut(BaseModel):
    now: str


class ClockNeedsZone(GongjiError):
    code = "clock_needs_timezone"
    message_zh = "时间须带时区，例如 2026-03-01T21:59:59+08:00"
    message_en = "Give a time with its offset, e.g. 2026-03-01T21:59:59+08:00"


def _clock(request: Request) -> ManualClock:
    clock = request.app.state.container.clock
    if not isinstance(clock, ManualClock):
        raise RuntimeError("the test clock is mounted without a ManualClock")
    return clock


@router.put("/clock", response_model=ClockOut, summary="Set the clock (test deployments only)")
def set_clock(body: ClockIn, request: Request, _: Clerk) -> ClockOut:
    if body.now.tzinfo is None:
        raise ClockNeedsZone()
    _clock(request).set(body.now)
    return ClockOut(now=body.now.isoformat())


@router.get("/clock", response_model=ClockOut, summary="Read the clock")
def get_clock(request: Request) -> ClockOut:
    return ClockOut(now=_clock(request).now().isoformat())
