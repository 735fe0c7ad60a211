"""Health and ledger verdict: what an operator's monitoring polls."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from gongji import __version__
from gongji.bootstrap import Container
from gongji.ledger.check import check_ledger
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


@router.get("/ledger/check", response_model=LedgerVerdict, summary="Verify every ledger invariant")
async def ledger_check(request: Request) -> LedgerVerdict:
    report = await run_in_threadpool(check_ledger, _container(request).engine)
    return LedgerVerdict(
        ok=report.ok,
        verdict=report.verdict(),
        accounts=report.accounts,
        transfers=report.transfers,
        pending_open=report.pending_open,
        debits_posted_fen=report.debits_posted,
        credits_posted_fen=report.credits_posted,
        violations=report.violations,
    )
