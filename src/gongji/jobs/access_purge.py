"""The ``access-purge`` job: one-time codes and bearer tokens a day past their expiry, and the
counts of wrong sign-ins against names no operator holds once a day has passed without a try
and no lockout runs (identity.service.identity.purge_expired_access), are deleted, so tables
that every anonymous sign-in attempt writes to do not grow for ever.

One short transaction; safe to run anywhere at the same time as the server's scheduler.
"""

from __future__ import annotations

from gongji.identity.service import identity
from gongji.kernel.context import Context
from gongji.store.uow import UnitOfWork, run_in_transaction


def run_access_purge(ctx: Context) -> int:
    """Delete what has outlived its use; the number of rows deleted."""

    def purge(uow: UnitOfWork) -> int:
        deleted = identity.purge_expired_access(ctx, uow)
        uow.commit()
        return deleted

    return run_in_transaction(ctx.engine, purge)
