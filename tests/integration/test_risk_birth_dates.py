"""A rule run reads birth dates (by decrypting ID numbers, docs/benchmarks.md, risk) only for the
persons the impossible-age clause judges: both sides of a parent, child, grandparent or spouse
relation made inside the window. On SQLite and PostgreSQL, full and incremental."""

from __future__ import annotations

from datetime import date

from gongji.core.clock import ManualClock
from gongji.kernel.context import Context
from gongji.people.service.persons import birth_date_from_enc
from gongji.risk.service.runs import run_at
from gongji.risk.store import alerts_repo
from support.world import insured, relate, run

HOLDER, SISTER, FATHER, WIFE = (f"P62010000070{k}" for k in range(4))


def test_only_the_age_checked_relations_of_the_window_are_decrypted(
    ctx: Context, clock: ManualClock
) -> None:
    insured(ctx, HOLDER, earlier=100_000)
    insured(ctx, SISTER, insutype="390", born=date(1972, 1, 1))
    insured(ctx, FATHER, insutype="390", born=date(1940, 1, 1))
    insured(ctx, WIFE, insutype="390", born=date(2010, 5, 1))  # no spouse can be 15
    relate(ctx, HOLDER, SISTER, "sibling")
    relate(ctx, HOLDER, FATHER, "parent")
    relate(ctx, HOLDER, WIFE, "spouse")
    read: list[date] = []

    def born(id_enc: str) -> date:
        read.append(birth_date_from_enc(ctx, id_enc))
        return read[-1]

    result = run_at(ctx.engine, ctx.now_us, full=True, window_days=90, born=born)
    assert sorted(read) == [date(1940, 1, 1), date(1970, 1, 1), date(2010, 5, 1)]  # not the sister
    assert result.persons_judged == 4
    alerts = run(ctx, lambda uow: alerts_repo.of_subject(uow.connection, "person", HOLDER))
    assert [(a.rule, a.reason) for a in alerts] == [("kinship", "impossible_age")]
    shown = str(alerts[0].evidence.figures)  # years apart, never a birth date, in clear
    assert "2010" not in shown and "1970" not in shown
