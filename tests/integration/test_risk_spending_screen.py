"""Risk's write-time screen of a settlement paid with shared money (docs/rules.md §12.4): it
judges the spender alone, on their own grants and settlements, and raises what the scheduled
run would raise about the same rows, stored once."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from gongji.kernel.context import Role
from gongji.risk.service import items, queries, runs, screening
from gongji.settlement.domain.bill import LineIn, SettleRequest
from gongji.settlement.service import settlement
from support.desk import PHARMACY
from support.till import MOTHER, SON, seed_family
from support.world import give, operator, run

OFFICER = operator(Role.RISK_OFFICER)


def test_shared_money_spent_on_resale_minutes_after_a_grant_is_flagged_as_it_is_written(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded, clock = seed_family(engine)  # the son and his mother related just now: in the window
    ctx = replace(seeded, screens=(screening.make_screen(),))  # as bootstrap registers it
    run(ctx, lambda uow: items.flag_resellable(ctx, uow, OFFICER, "TA"))
    give(ctx, SON, MOTHER, 50_000)
    clock.advance(timedelta(minutes=10))
    decrypted: list[str] = []
    born = screening.birth_date_from_enc

    def counted(ctx_: object, id_enc: str) -> date:
        decrypted.append(id_enc)
        return born(ctx_, id_enc)  # type: ignore[arg-type]

    monkeypatch.setattr(screening, "birth_date_from_enc", counted)
    bill = SettleRequest(PHARMACY, "r-1", MOTHER, "41", (LineIn("TA", Decimal(5), 10_000),))
    paid = run(ctx, lambda uow: settlement.settle(ctx, uow, bill))
    assert paid.acct_mulaid_pay > 0

    queue = run(ctx, lambda uow: queries.alert_queue(uow))
    assert [(a.rule, a.source, a.subject) for a in queue] == [("grant_then_cash", "write", MOTHER)]
    # No rule on spending reads a relationship or a birth date: none was decrypted, though the
    # family's relation is a day old (a grant offer's screen would read both birth dates).
    assert decrypted == []

    clock.advance(timedelta(hours=1))
    runs.run(ctx)  # the scheduled run finds the same rows: nothing new, nothing twice
    again = run(ctx, lambda uow: queries.alert_queue(uow))
    assert [(a.rule, a.source) for a in again] == [("grant_then_cash", "write")]
