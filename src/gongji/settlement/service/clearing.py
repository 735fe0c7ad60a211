"""Monthly clearing (清算, docs/rules.md §11): compute once, store, and return the stored result.

A month is cleared in full once it has ended (Asia/Shanghai business dates). The first run
stores the city-pair lines and their digest; every later run returns that stored result
unchanged and says so, so the published figures of a month never move. Reversals made after a
month was cleared correct the month in which they are made (see gongji.settlement.domain.clearing).
Two runs racing for one month: one inserts, the other hits the key, retries and reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from gongji.core.errors import InvariantViolation
from gongji.kernel.context import Context
from gongji.kernel.errors import NotFound
from gongji.settlement.domain.clearing import (
    Clearing,
    Flow,
    Month,
    PairLine,
    check_month_closed,
    clear,
    of_lines,
    parse_month,
)
from gongji.settlement.store import clearing_repo as repo
from gongji.store.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class ClearingRun:
    clearing: Clearing
    computed_at_us: int
    stored_earlier: bool  # True: this run found the month already cleared and changed nothing


def run_clearing(ctx: Context, uow: UnitOfWork, month_text: str) -> ClearingRun:
    """Clear a month that has ended; idempotent: the stored result wins over a recomputation."""
    month = parse_month(month_text)
    stored = _stored(uow, month.text)
    if stored is not None:
        return stored
    check_month_closed(month, ctx.today())
    clearing = compute_clearing(uow, month)
    now_us = ctx.now_us()
    repo.insert_clearing(
        uow.connection,
        repo.ClearingRunRow(
            month.text, clearing.digest, clearing.draws, clearing.total_fen, now_us
        ),
        [
            repo.ClearingLineRow(month.text, line.payer, line.payee, line.amount_fen, line.draws)
            for line in clearing.lines
        ],
    )
    return ClearingRun(clearing, now_us, stored_earlier=False)


def compute_clearing(uow: UnitOfWork, month: Month) -> Clearing:
    """The month's clearing as the postings say now; reads only (``run_clearing`` stores it).

    Settled draws count in the month of their settlement, reversed ones (negatively) in the
    month of their reversal, premiums paid with a relative's money in the month of payment, so
    recomputing a past month later gives the same figures.
    """
    first, last = month.first.isoformat(), month.last.isoformat()
    settled = repo.shared_draw_sums(uow.connection, first, last)
    settled += repo.premium_draw_sums(uow.connection, first, last)
    reversed_ = repo.reversed_draw_sums(uow.connection, first, last)
    flows = [Flow(s.contributor_region, s.treatment_region, s.amount_fen, s.draws) for s in settled]
    flows += [
        Flow(s.contributor_region, s.treatment_region, s.amount_fen, s.draws, sign=-1)
        for s in reversed_
    ]
    return clear(month.text, flows)


def clearing_of(uow: UnitOfWork, month_text: str) -> ClearingRun:
    """The stored clearing of a month, or ``not_found`` if it has not been run."""
    month = parse_month(month_text)
    stored = _stored(uow, month.text)
    if stored is None:
        raise NotFound(what=f"{month.text} 的清算结果")
    return stored


def _stored(uow: UnitOfWork, month: str) -> ClearingRun | None:
    """The stored run, checked against its digest: stored figures that no longer match are a bug."""
    run = repo.clearing_run(uow.connection, month)
    if run is None:
        return None
    lines = [
        PairLine(row.payer_region, row.payee_region, row.amount_fen, row.draws)
        for row in repo.clearing_lines_of(uow.connection, month)
    ]
    clearing = of_lines(month, lines, run.draws)
    if clearing.digest != run.digest or clearing.total_fen != run.total_fen:
        raise InvariantViolation(f"the stored clearing of {month} does not match its digest")
    return ClearingRun(clearing, run.computed_at_us, stored_earlier=True)
