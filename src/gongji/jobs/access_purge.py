"""The ``access-purge`` job: one-time codes and bearer tokens a day past their expiry, the
counts of wrong sign-ins against names no operator holds once a day has passed without a try
and no lockout runs (identity.service.identity.purge_expired_access), and the signed requests'
nonces too old to be replayed (identity.service.signing.purge_nonces) are deleted, so tables
that every anonymous sign-in attempt or signed request writes to do not grow for ever. A key
forgets its own old nonces as it signs; this job forgets those of keys that stopped signing
(revoked, rotated, an institution gone quiet).

One short transaction; safe to run anywhere at the same time as the server's scheduler.
"""

from __future__ import annotations

from gongji.identity.service import identity, signing
from gongji.kernel.context import Context
from gongji.store.uow import UnitOfWork, run_in_transaction


def run_access_purge(ctx: Context) -> int:
    """Delete what has outlived its use; the number of rows deleted."""

    def purge(uow: UnitOfWork) -> int:
        deleted = identity.purge_expired_access(ctx, uow) + signing.purge_nonces(ctx, uow)
        uow.commit()
        return deleted

    return run_in_transaction(ctx.engine, purge)
