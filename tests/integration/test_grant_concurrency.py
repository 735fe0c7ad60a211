"""Grants under concurrency, on both databases: the locks, not luck, keep the rules."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

from sqlalchemy import Engine

from gongji.core.clock import ManualClock
from gongji.core.errors import GongjiError
from gongji.kernel.context import Context
from gongji.ledger.check import check_ledger
from gongji.mutual_aid.service import grants
from gongji.mutual_aid.service.accounts import personal_account_view
from support.world import ELDER, at, build_context, insured, person_actor, relate, run

SON = "P620100000001"


def _race(count: int, action: Callable[[int], str]) -> Counter[str]:
    """Start ``count`` threads at once; tally what each got (``ok`` or the refusal code)."""
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(count)

    def worker(number: int) -> None:
        barrier.wait()
        try:
            result = action(number)
        except GongjiError as error:
            result = error.code
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _family(engine: Engine, relatives: int, earlier: int) -> tuple[Context, list[str]]:
    """Lanzhou shares earlier years' money only (Gansu, docs/rules.md §3), so the son's is there."""
    ctx = build_context(engine, ManualClock(at("2026-03-02 10:00:00")))
    insured(ctx, SON, earlier=earlier, name="张建国")
    others = []
    for number in range(relatives):
        psn_no = f"P3701000100{number:02d}"
        insured(ctx, psn_no, region="370100", insutype="390", name="王桂兰")
        relate(ctx, SON, psn_no, "sibling")
        others.append(psn_no)
    return ctx, others


def test_fifty_concurrent_offers_by_one_contributor_three_succeed(engine: Engine) -> None:
    ctx, relatives = _family(engine, relatives=5, earlier=1_000_000)

    def offer(number: int) -> str:
        run(ctx, lambda uow: grants.offer(ctx, uow, person_actor(SON), relatives[number % 5], 100))
        return "ok"

    outcomes = _race(50, offer)
    assert outcomes["ok"] == 3
    assert set(outcomes) <= {"ok", "grants_per_day_exceeded", "open_offer_exists"}
    assert check_ledger(engine).ok


def test_offers_racing_the_balance_never_earmark_more_than_it(engine: Engine) -> None:
    ctx, relatives = _family(engine, relatives=3, earlier=50_000)

    def offer(number: int) -> str:
        run(
            ctx,
            lambda uow: grants.offer(ctx, uow, person_actor(SON), relatives[number % 3], 20_000),
        )
        return "ok"

    outcomes = _race(12, offer)
    assert outcomes["ok"] == 2  # 2 × 200.00 fit in 500.00; a third would not
    view = run(ctx, lambda uow: personal_account_view(ctx, uow, "620100", SON))
    assert view.reserved_fen == 40_000
    assert view.available_fen == 10_000 >= 0


def test_accept_racing_the_six_oclock_job_has_exactly_one_outcome(engine: Engine) -> None:
    """The recipient taps accept at 05:59:59.9 while the job starts at 06:00: two clocks, one
    database. Whichever commits first wins; the other sees it and changes nothing."""
    clock = ManualClock(at("2026-03-02 10:00:00"))
    ctx = build_context(engine, clock)
    job_clock = ManualClock(at("2026-03-02 10:00:00"))
    job_ctx = build_context(engine, job_clock)
    seen: set[str] = set()
    for attempt in range(6):
        son, mother = f"P62010000{attempt:04d}", f"P37010000{attempt:04d}"
        insured(ctx, son, earlier=100_000, name="张建国")
        insured(ctx, mother, region="370100", insutype="390", name="王桂兰", born=ELDER)
        relate(ctx, son, mother, "parent")
        clock.set(at(f"2026-03-{2 + attempt:02d} 10:00:00"))
        grant = run(ctx, lambda uow: grants.offer(ctx, uow, person_actor(son), mother, 30_000))
        clock.set(at(f"2026-03-{3 + attempt:02d} 05:59:59.900"))
        job_clock.set(at(f"2026-03-{3 + attempt:02d} 06:00:00"))

        def act(number: int) -> str:
            if number == 0:
                run(job_ctx, lambda uow: grants.expire_due_offers(job_ctx, uow))
                return "job"
            run(ctx, lambda uow: grants.accept(ctx, uow, person_actor(mother), grant.id))
            return "accepted"

        outcomes = _race(2, act)
        final = run(ctx, lambda uow: grants.grant_visible_to(uow, person_actor(son), grant.id))
        assert outcomes["accepted"] + outcomes["grant_offer_expired"] == 1
        assert final.state == ("active" if outcomes["accepted"] else "expired")
        seen.add(final.state)
        assert check_ledger(engine).ok
    assert seen, "no race ran"
