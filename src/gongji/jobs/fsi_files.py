"""The ``fsi-files`` job: files uploaded on the national interface (9101) are deleted once
their 7-day period has ended (docs/national-interface.md), so a detail list of settlements does
not outlive the reason it was sent. 9102 and 3202 already refuse such a file; this removes it.

Each batch is its own short transaction, so a large backlog never holds a long write lock;
a run stops at the first batch that is not full. Safe to run anywhere at the same time as the
server's scheduler: a file deleted by one run is simply not found by the other.
"""

from __future__ import annotations

from typing import Final

from gongji.fsi.service import files
from gongji.kernel.context import Context
from gongji.store.uow import UnitOfWork, run_in_transaction

BATCH_FILES: Final = 200
"""Files deleted per transaction: up to 512 KiB each, so at most about 100 MiB per batch."""


def run_delete_expired_files(ctx: Context, batch_files: int = BATCH_FILES) -> int:
    """Delete every file past its period, ``batch_files`` per transaction; the number deleted."""

    def one_batch(uow: UnitOfWork) -> int:
        deleted = files.delete_expired(ctx, uow, batch_files)
        uow.commit()
        return deleted

    total = 0
    while True:
        deleted = run_in_transaction(ctx.engine, one_batch)
        total += deleted
        if deleted < batch_files:
            return total
