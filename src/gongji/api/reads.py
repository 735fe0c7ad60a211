"""Read-only units of work for GET routes: a consistent snapshot, no write lock."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

from gongji.kernel.context import Context
from gongji.store.uow import UnitOfWork, run_in_transaction

T = TypeVar("T")


def read(ctx: Context, work: Callable[[UnitOfWork], T]) -> T:
    return run_in_transaction(ctx.engine, work, read_only=True)


async def read_async(ctx: Context, work: Callable[[UnitOfWork], T]) -> T:
    return await run_in_threadpool(read, ctx, work)
