"""我的记录 (records a person understands), on both databases: a settlement shows the
institution's name, the amounts by source and the items to the patient, and what the
contributor's money paid to the contributor; month totals add them up; reversals count back.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from gongji.core.clock import ManualClock
from gongji.core.errors import GongjiError
from gongji.kernel.context import Context
from gongji.mutual_aid.service import guardians, relationships, wallet_view
from gongji.settlement.service import person_records
from gongji.settlement.service.settlement import reverse, settle
from support.desk import HOSPITAL, PHARMACY, bill, open_desks
from support.world import ELDER, at, build_context, give, insured, person_actor, relate, run

SON, MOTHER, STRANGER_PSN = "P620100000001", "P370100000001", "P620100000009"


@pytest.fixture
def ctx(engine: Engine) -> Iterator[Context]:
    context = build_context(engine, ManualClock(at("2026-03-02 10:00:00")))
    open_desks(context)
    insured(context, SON, current=180_000, earlier=620_000, name="张建国")
    insured(context, MOTHER, region="370100", insutype="390", name="王桂兰", born=ELDER)
    insured(context, STRANGER_PSN, name="赵四")
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


def _as_guardian(ctx: Context, guardian: str) -> person_records.HolderRecords:
    actor = person_actor(guardian)
    return run(ctx, lambda uow: person_records.records_for_guardian(ctx, uow, actor, MOTHER, None))


def _refused_as_guardian(ctx: Context, guardian: str) -> None:
    with pytest.raises(GongjiError) as caught:
        _as_guardian(ctx, guardian)
    assert caught.value.code == "guardian_not_allowed"


def test_her_guardian_reads_her_records_only_while_she_lets_him(ctx: Context) -> None:
    """亲情账户: the son reads his mother's records as she reads them — the purchase, its items and
    the family-money part — only with her consent; each reading is in her history; once she
    revokes, he is refused and nothing more is recorded."""
    run(ctx, lambda uow: settle(ctx, uow, bill(MOTHER, "m-1", ("TB", "2", 6_000))))
    _refused_as_guardian(ctx, SON)  # no consent yet
    before = _events(ctx, MOTHER)
    assert "guardian_records_viewed" not in before
    mother = person_actor(MOTHER)
    [relationship] = run(ctx, lambda uow: relationships.list_for(uow, MOTHER))
    consent = run(ctx, lambda uow: guardians.grant(ctx, uow, mother, relationship.id))

    seen = _as_guardian(ctx, SON)
    assert seen.name_masked == "王**"
    assert seen.records == _records(ctx, MOTHER)  # exactly what she sees herself
    [record] = seen.records
    assert (record.institution, record.medfee_fen, record.family_fen) == (
        "济南测试药房", 12_000, 10_000,
    )  # fmt: skip
    assert [item.name for item in record.items] == ["测试乙类全自付药品"]
    (newest,) = run(ctx, lambda uow: wallet_view.latest(uow, MOTHER, 1))
    assert (newest.kind, newest.actor) == ("guardian_records_viewed", f"person:{SON}")

    _refused_as_guardian(ctx, STRANGER_PSN)  # no consent of hers
    run(ctx, lambda uow: guardians.revoke(ctx, uow, mother, consent.id))
    viewed = _events(ctx, MOTHER).count("guardian_records_viewed")
    _refused_as_guardian(ctx, SON)
    assert _events(ctx, MOTHER).count("guardian_records_viewed") == viewed == 1


def _events(ctx: Context, psn_no: str) -> list[str]:
    found, _ = run(ctx, lambda uow: wallet_view.history(uow, psn_no, None, 100))
    return [event.kind for event in found]
