"""Property test of settlement on a real database (SQLite): for random bills, balances, grants
and authorizations, the identities of docs/rules.md §8 hold, nothing is negative, shared money never
pays what it may not, and settle-then-reverse restores every balance and accumulator.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gongji.core.clock import ManualClock
from gongji.ledger.check import check_ledger
from gongji.mutual_aid.service import authorizations, grants
from gongji.mutual_aid.service.accounts import personal_account_view
from gongji.mutual_aid.service.wallet_view import wallet_view
from gongji.settlement.service.settlement import reverse, settle
from gongji.settlement.store import settlements_repo
from gongji.store.engine import make_engine
from gongji.store.migrate import upgrade
from support.desk import HOSPITAL, bill, open_desks
from support.world import at, build_context, insured, person_actor, relate, run

SON, WIFE = "P620100000001", "P620100000002"
ITEMS = ("TA", "TB", "TC", "TW")
_runs = itertools.count()

lines = st.lists(
    st.tuples(st.sampled_from(ITEMS), st.integers(1, 3).map(str), st.integers(1, 60_000)),
    min_size=1,
    max_size=5,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    bill_lines=lines,
    wife_current=st.integers(0, 30_000),
    grant_fen=st.integers(0, 40_000),
    quota_fen=st.one_of(st.none(), st.integers(1, 30_000)),
    med_type=st.sampled_from(["11", "14", "21"]),
    acct_used=st.booleans(),
)
def test_settle_then_reverse_restores_everything(
    tmp_path: Path,
    bill_lines: list[tuple[str, str, int]],
    wife_current: int,
    grant_fen: int,
    quota_fen: int | None,
    med_type: str,
    acct_used: bool,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / f'p{next(_runs)}.db'}")
    upgrade(engine)
    ctx = build_context(engine, ManualClock(at("2026-03-02 10:00:00")))
    open_desks(ctx)
    insured(ctx, SON, current=500_000, earlier=100_000, name="张建国")
    insured(ctx, WIFE, current=wife_current, name="李秀英")
    relate(ctx, SON, WIFE, "spouse")
    if grant_fen:
        grant = run(ctx, lambda uow: grants.offer(ctx, uow, person_actor(SON), WIFE, grant_fen))
        run(ctx, lambda uow: grants.accept(ctx, uow, person_actor(WIFE), grant.id))
    run(ctx, lambda uow: authorizations.bind(ctx, uow, person_actor(SON), WIFE, quota_fen))

    def snapshot() -> tuple[int, int, int, list[tuple[int, int]]]:
        son = run(ctx, lambda uow: personal_account_view(ctx, uow, "620100", SON)).available_fen
        wife = run(ctx, lambda uow: personal_account_view(ctx, uow, "620100", WIFE)).available_fen
        received = run(ctx, lambda uow: wallet_view(ctx, uow, WIFE)).received_total_fen
        used = [
            run(
                ctx,
                lambda uow: settlements_repo.read_accumulator(
                    uow.connection, WIFE, 2026, "310", pool
                ),
            )
            for pool in ("outpatient", "chronic", "inpatient")
        ]
        return son, wife, received, used

    before = snapshot()
    request = bill(
        WIFE, "p1", *bill_lines, med_type=med_type, institution=HOSPITAL, acct_used=acct_used
    )
    row = run(ctx, lambda uow: settle(ctx, uow, request))
    amounts = row.amounts()
    assert all(value >= 0 for value in amounts.values())
    assert (
        row.medfee_sumamt
        == row.fulamt_ownpay_amt + row.overlmt_selfpay + row.preselfpay_amt + row.inscp_scp_amt
    )
    assert row.medfee_sumamt == row.fund_pay_sumamt + row.psn_part_amt + row.hosp_part_amt
    assert row.psn_part_amt == row.acct_pay + row.psn_cash_pay
    assert row.acct_mulaid_pay <= row.acct_pay
    items = run(ctx, lambda uow: settlements_repo.items_of(uow.connection, row.setl_id))
    assert row.acct_pay <= sum(item.account_payable_fen for item in items)
    if not acct_used:
        assert row.acct_pay == row.acct_mulaid_pay
    assert check_ledger(engine).ok
    run(ctx, lambda uow: reverse(ctx, uow, HOSPITAL, row.setl_id, "p1-r"))
    assert snapshot() == before
    assert check_ledger(engine).ok
    engine.dispose()
