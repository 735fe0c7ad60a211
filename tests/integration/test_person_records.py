"""我的记录 (records a person understands), on both databases: a settlement shows the
institution's name, the amounts by source and the items to the patient, and what the
contributor's money paid to the contributor; month totals add them up; reversals count back.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from gongji.core.clock import ManualClock
from gongji.kernel.context import Context
from gongji.settlement.service import person_records
from gongji.settlement.service.settlement import reverse, settle
from support.desk import HOSPITAL, PHARMACY, bill, open_desks
from support.world import ELDER, at, build_context, give, insured, relate, run

SON, MOTHER = "P620100000001", "P370100000001"


@pytest.fixture
def ctx(engine: Engine) -> Iterator[Context]:
    context = build_context(engine, ManualClock(at("2026-03-02 10:00:00")))
    open_desks(context)
    insured(context, SON, current=180_000, earlier=620_000, name="张建国")
    insured(context, MOTHER, region="370100", insutype="390", name="王桂兰", born=ELDER)
    relate(context, SON, MOTHER, "parent")
    give(context, SON, MOTHER, 10_000)
    yield context


def _records(ctx: Context, psn_no: str, month: str | None = None) -> list[person_records.Record]:
    return run(ctx, lambda uow: person_records.records(ctx, uow, psn_no, month))


def test_the_mother_sees_where_what_and_who_paid(ctx: Context) -> None:
    run(
        ctx,
        lambda uow: settle(ctx, uow, bill(MOTHER, "m-1", ("TB", "2", 6_000), ("TC", "1", 1_000))),
    )
    [record] = _records(ctx, MOTHER)
    assert (record.institution, record.business_date, record.as_patient) == (
        "济南测试药房",
        "2026-03-02",
        True,
    )
    # 130.00: TB (100 % first self-pay) may be paid by accounts, TC (class C) only in cash.
    assert (record.medfee_fen, record.own_fen, record.family_fen, record.fund_fen) == (
        13_000, 0, 10_000, 0,
    )  # fmt: skip
    assert record.cash_fen == 3_000
    assert [(i.name, i.quantity, i.amount_fen) for i in record.items] == [
        ("测试乙类全自付药品", "2", 12_000),
        ("测试丙类药品", "1", 1_000),
    ]
    [for_son] = _records(ctx, SON)
    assert (for_son.as_patient, for_son.patient, for_son.mine_fen) == (False, "王**", 10_000)
    assert for_son.items == () and for_son.medfee_fen == 0  # the rest is the mother's business


def test_month_totals_and_reversals(ctx: Context) -> None:
    first = run(ctx, lambda uow: settle(ctx, uow, bill(MOTHER, "m-1", ("TB", "1", 4_000))))
    run(
        ctx,
        lambda uow: settle(
            ctx, uow, bill(SON, "s-1", ("TA", "1", 10_000), med_type="11", institution=HOSPITAL)
        ),
    )
    run(ctx, lambda uow: reverse(ctx, uow, PHARMACY, first.setl_id, "m-1-r"))
    mother = _records(ctx, MOTHER)
    assert sorted(r.family_fen for r in mother) == [-4_000, 4_000]
    assert [r.reversal for r in mother].count(True) == 1
    [march] = person_records.month_totals(mother)
    assert (march.month, march.medfee_fen, march.family_fen) == ("2026-03", 0, 0)
    [son_march] = person_records.month_totals(_records(ctx, SON))
    assert (son_march.own_fen, son_march.given_fen) == (10_000, 0)  # +40.00 − 40.00 given
    assert _records(ctx, MOTHER, "2026-02") == []
