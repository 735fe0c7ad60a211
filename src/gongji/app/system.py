"""Health and ledger verdict: what an operator's monitoring polls.

The ledger verdict is the one the ``ledger-check`` job stored last (hourly incremental, daily
full), with when it ran and its kind: a full check costs seconds on a large ledger, so no
request may start one (anonymous clients looping
it starved the server). Reading it takes an operator's token.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from gongji import __version__
from gongji.api.deps import require_operator
from gongji.bootstrap import Container
from gongji.core.clock import from_us
from gongji.jobs.ledger_check import last_verdict
from gongji.kernel.context import Actor
from gongji.kernel.errors import NotFound
from gongji.store.migrate import recorded_revision

router = APIRouter(tags=["system"])


class Health(BaseModel):
    status: str
    version: str
    database: str
    schema_revision: str | None


class LedgerVerdict(BaseModel):
    ok: bool
    verdict: str
    accounts: int
    transfers: int
    pending_open: int
    debits_posted_fen: int
    credits_posted_fen: int
    violations: list[str]
    checked_at: str
    check_seconds: float
    kind: str
    """``full`` or ``incremental`` (only the transfers since the last passing check)."""


def _container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


@router.get("/health", response_model=Health, summary="Liveness and schema revision")
def health(request: Request) -> Health:
    container = _container(request)
    return Health(
        status="ok",
        version=__version__,
        database=container.engine.dialect.name,
        schema_revision=recorded_revision(container.engine),
    )


@router.get(
    "/ledger/check",
    response_model=LedgerVerdict,
    summary="The last stored verdict of the ledger check job (operators)",
)
async def ledger_check(
    request: Request, _: Annotated[Actor, Depends(require_operator())]
) -> LedgerVerdict:
    stored = await run_in_threadpool(last_verdict, _container(request).engine)
    if stored is None:
        raise NotFound(what="账本检查结果（请先运行 gongji jobs run ledger-check）")
    report = stored.report
    return LedgerVerdict(
        ok=report.ok,
        verdict=report.verdict(),
        accounts=report.accounts,
        transfers=report.transfers,
        pending_open=report.pending_open,
        debits_posted_fen=report.debits_posted,
        credits_posted_fen=report.credits_posted,
        violations=report.violations,
        checked_at=from_us(stored.finished_at_us).isoformat(),
        check_seconds=round((stored.finished_at_us - stored.started_at_us) / 1_000_000, 3),
        kind=stored.kind,
    )
