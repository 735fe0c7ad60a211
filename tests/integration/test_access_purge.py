"""The ``access-purge`` job, on both databases: the wrong-sign-in counts of names no operator
holds are forgotten once nobody has tried the name for a day and its lockout has ended, never
while it is locked or recently tried; the nonces of a key that stopped signing, once they are
too old to be replayed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from gongji.core.clock import ManualClock
from gongji.identity.service import signing
from gongji.identity.store import access_repo, nonces_repo
from gongji.jobs.access_purge import run_access_purge
from gongji.jobs.scheduler import Scheduler
from gongji.kernel.context import Context
from gongji.store.tables_access import unknown_sign_ins
from gongji.store.tables_institutions import request_nonces
from gongji.store.uow import UnitOfWork
from support.world import run

DAY_US = 86_400_000_000


def names(ctx: Context) -> list[str]:
    with ctx.engine.connect() as connection:
        rows = connection.execute(select(unknown_sign_ins.c.name_hash).order_by("name_hash"))
        return [row[0] for row in rows]


def test_quiet_unlocked_names_are_forgotten_locked_or_recent_ones_kept(
    ctx: Context, clock: ManualClock
) -> None:
    now = ctx.now_us()

    def tried(name: str, at_us: int, locked_until_us: int | None = None) -> None:
        def work(uow: UnitOfWork) -> None:
            connection = uow.connection
            access_repo.count_unknown_name_failure(connection, name, at_us)
            if locked_until_us is not None:
                access_repo.lock_unknown_name(connection, name, locked_until_us)

        run(ctx, work)

    tried("a-quiet", now)
    tried("b-locked", now, locked_until_us=now + 2 * DAY_US)  # a long lockout still running
    assert run_access_purge(ctx) == 0  # nothing a day old yet
    clock.advance(timedelta(days=1, minutes=1))
    tried("c-recent", ctx.now_us())
    assert run_access_purge(ctx) == 1
    assert names(ctx) == ["b-locked", "c-recent"]
    clock.advance(timedelta(days=1, minutes=1))
    assert run_access_purge(ctx) == 2  # the lockout has ended, the recent one is a day old
    assert names(ctx) == []


def test_the_servers_scheduler_runs_it(ctx: Context, clock: ManualClock) -> None:
    jobs = dict(Scheduler(ctx)._jobs())
    run(ctx, lambda uow: access_repo.count_unknown_name_failure(uow.connection, "x", 0))
    clock.advance(timedelta(days=2))
    jobs["access purge"]()
    with ctx.engine.connect() as connection:
        left = connection.execute(select(func.count()).select_from(unknown_sign_ins))
        assert left.scalar_one() == 0


def test_a_silent_keys_nonces_are_forgotten_once_too_old_to_replay(
    ctx: Context, clock: ManualClock
) -> None:
    """A key forgets its own old nonces only when it signs again: a key that stopped signing
    left them for ever, the whole-table purge being called by no job."""

    def spend(key_id: str, nonce: str) -> None:
        run(ctx, lambda uow: nonces_repo.spent_now(uow.connection, key_id, nonce, ctx.now_us()))

    spend("k-silent", "n" * 16)
    clock.advance(timedelta(seconds=signing.NONCE_KEPT_S - 60))
    spend("k-silent", "m" * 16)
    assert run_access_purge(ctx) == 0  # both may still be replayed within their window
    clock.advance(timedelta(seconds=120))
    assert run_access_purge(ctx) == 1
    with ctx.engine.connect() as connection:
        left = connection.execute(select(request_nonces.c.nonce)).scalars().all()
    assert left == ["m" * 16]
