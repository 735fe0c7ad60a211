"""Monthly clearing (docs/rules.md §11) over real settlements, on SQLite and PostgreSQL.

A family spread over Lanzhou (Gansu), Jinan and Dezhou (Shandong) shares money by grants and
spends it at pharmacies and hospitals in Jinan, Dezhou, Guangzhou and Lanzhou. Business dates
are Asia/Shanghai: 23:50 on 31 March is March, 00:10 on 1 April is April.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from gongji.core.clock import ManualClock
from gongji.core.errors import GongjiError
from gongji.institutions.domain.institutions import (
    Institution,
    InstitutionKind,
    InstitutionLevel,
    InstitutionStatus,
)
from gongji.institutions.service import institutions
from gongji.jobs.monthly_clearing import month_before, run_monthly_clearing
from gongji.kernel.context import SYSTEM, Context
from gongji.kernel.reference import load_policy_book
from gongji.mutual_aid.domain.premiums import PremiumKind, PremiumSource
from gongji.mutual_aid.service.premiums import PremiumOrder, pay
from gongji.settlement.domain.clearing import NetPosition, PairLine, parse_month
from gongji.settlement.service.clearing import (
    ClearingRun,
    clearing_of,
    compute_clearing,
    run_clearing,
)
from gongji.settlement.service.settlement import reverse, settle
from gongji.settlement.store.settlements_repo import SettlementRow
from gongji.store.tables_clearing import clearing_lines, clearing_runs
from gongji.store.uow import UnitOfWork
from support.desk import HOSPITAL, bill, open_desks
from support.world import (
    ELDER,
    YOUNGER,
    at,
    build_context,
    give,
    insured,
    person_actor,
    relate,
    run,
)

SON, WIFE, BROTHER = "P620100000001", "P620100000002", "P370100000002"
MOTHER, NIECE, SISTER = "P370100000001", "P370100000003", "P371400000001"
GUANGZHOU_PHARMACY = "P44010000001"


@dataclass
class Family:
    ctx: Context
    clock: ManualClock

    def give(self, by: str, to: str, amount_fen: int) -> str:
        return give(self.ctx, by, to, amount_fen)

    def buy(
        self, when: str, psn_no: str, request_id: str, *line: tuple[str, str, int], **how: Any
    ) -> SettlementRow:
        self.clock.set(at(when))
        request = bill(psn_no, request_id, *line, **how)
        return run(self.ctx, lambda uow: settle(self.ctx, uow, request))

    def undo(self, when: str, row: SettlementRow) -> SettlementRow:
        self.clock.set(at(when))
        return run(
            self.ctx,
            lambda uow: reverse(
                self.ctx, uow, row.institution_code, row.setl_id, f"{row.request_id}-r"
            ),
        )

    def clear(self, when: str, month: str) -> ClearingRun:
        self.clock.set(at(when))
        return run(self.ctx, lambda uow: run_clearing(self.ctx, uow, month))

    def stored_rows(self) -> tuple[int, int]:
        """How many clearing runs and lines the database holds."""

        def count(uow: UnitOfWork) -> tuple[int, int]:
            return tuple(  # type: ignore[return-value]
                int(uow.connection.execute(select(func.count()).select_from(t)).scalar_one())
                for t in (clearing_runs, clearing_lines)
            )

        return run(self.ctx, count)


def _open_guangzhou(ctx: Context) -> None:
    desk = Institution(
        GUANGZHOU_PHARMACY,
        "广州测试药房",
        "440100",
        InstitutionKind.PHARMACY,
        InstitutionLevel.NONE,
        True,
        InstitutionStatus.ACTIVE,
    )
    run(ctx, lambda uow: institutions.register_institution(ctx, uow, SYSTEM, desk))


# Lanzhou's patients spend shared money before their own (a bureau's payment_order): the son's
# purchase is then paid by his brother's grant although his own account holds money
# (acct_used_flag 0 would refuse shared money too, docs/rules.md §8).
GRANTS_FIRST_IN_LANZHOU = """\
[[region]]
code = "620100"
effective_from = 2020-01-01
payment_order = ["grants", "own_account", "authorizations", "cash"]
"""


@pytest.fixture
def family(engine: Engine, tmp_path: Path) -> Iterator[Family]:
    clock = ManualClock(at("2026-02-27 10:00:00"))
    policy = tmp_path / "policy.toml"
    policy.write_text(GRANTS_FIRST_IN_LANZHOU, "utf-8")
    ctx = dataclasses.replace(build_context(engine, clock), policies=load_policy_book(str(policy)))
    open_desks(ctx)  # a hospital in Lanzhou, a pharmacy in Jinan
    _open_guangzhou(ctx)
    insured(ctx, SON, current=180_000, earlier=620_000, name="张建国")
    insured(ctx, WIFE, current=0, name="李秀英")
    insured(ctx, MOTHER, region="370100", insutype="390", name="王桂兰", born=ELDER)
    insured(ctx, BROTHER, region="370100", current=50_000, earlier=50_000, name="张建军")
    insured(ctx, SISTER, region="371400", earlier=100_000, name="张建红")
    insured(ctx, NIECE, region="370100", insutype="390", name="刘小雨", born=YOUNGER)
    relate(ctx, SON, MOTHER, "parent")
    relate(ctx, SON, WIFE, "spouse")
    relate(ctx, BROTHER, SON, "sibling")
    relate(ctx, SISTER, NIECE, "child")
    yield Family(ctx, clock)


def _february_to_april(f: Family) -> dict[str, SettlementRow]:
    """The family's shared spending; amounts are worked out in the comments, in fen."""
    f.give(SON, MOTHER, 50_000)  # Lanzhou → the mother in Jinan
    f.give(BROTHER, SON, 10_000)  # Jinan → the son in Lanzhou
    f.give(SISTER, NIECE, 5_000)  # Dezhou → the niece in Jinan (Dezhou: earlier years' money)
    f.give(SON, WIFE, 2_000)  # Lanzhou → Lanzhou: nothing to clear
    rows = {}
    # 390 × 41: the fund pays half of class A, the rest comes from the son's grant.
    rows["feb"] = f.buy("2026-02-28 23:50:00", MOTHER, "feb", ("TA", "1", 1_000))  # 5.00
    rows["jinan"] = f.buy("2026-03-02 10:00:00", MOTHER, "m1", ("TA", "2", 6_000))  # 60.00
    rows["guangzhou"] = f.buy(
        "2026-03-03 10:00:00", MOTHER, "m2", ("TA", "1", 4_000), institution=GUANGZHOU_PHARMACY
    )  # 20.00
    rows["undone"] = f.buy("2026-03-04 10:00:00", MOTHER, "m3", ("TA", "1", 4_000))  # 20.00
    f.undo("2026-03-05 10:00:00", rows["undone"])  # reversed in March: nets out
    # Class B with 100 % first self-pay: the fund pays nothing; grants pay first in Lanzhou.
    hospital = {"med_type": "11", "institution": HOSPITAL}
    rows["lanzhou"] = f.buy("2026-03-06 10:00:00", SON, "s1", ("TB", "1", 3_000), **hospital)
    rows["wife"] = f.buy("2026-03-07 10:00:00", WIFE, "w1", ("TB", "1", 1_000), **hospital)
    rows["niece"] = f.buy("2026-03-08 10:00:00", NIECE, "n1", ("TA", "1", 5_000))  # 25.00
    rows["last"] = f.buy("2026-03-31 23:50:00", MOTHER, "m4", ("TA", "1", 3_000))  # 15.00
    rows["april"] = f.buy("2026-04-01 00:10:00", MOTHER, "m5", ("TA", "1", 2_000))  # 10.00
    for name in ("feb", "jinan", "guangzhou", "undone", "lanzhou", "wife", "niece", "last"):
        assert rows[name].acct_mulaid_pay > 0, name
    return rows


MARCH_CITY_LINES = (
    PairLine("370100", "620100", 3_000, 1),  # the brother's grant, spent in Lanzhou
    PairLine("371400", "370100", 2_500, 1),  # Dezhou → Jinan, inside Shandong
    PairLine("620100", "370100", 6_000 + 2_000 - 2_000 + 1_500, 4),
    PairLine("620100", "440100", 2_000, 1),
)


def test_a_month_is_cleared_per_city_pair_province_pair_and_province(family: Family) -> None:
    _february_to_april(family)
    cleared = family.clear("2026-04-05 09:00:00", "2026-03")
    march = cleared.clearing
    assert not cleared.stored_earlier
    assert march.lines == MARCH_CITY_LINES
    assert march.province_lines() == (
        PairLine("370000", "620000", 3_000, 1),
        PairLine("620000", "370000", 7_500, 4),
        PairLine("620000", "440000", 2_000, 1),
    )
    assert march.net_positions() == (
        NetPosition("370000", received_fen=7_500, paid_fen=3_000),
        NetPosition("440000", received_fen=2_000, paid_fen=0),
        NetPosition("620000", received_fen=3_000, paid_fen=9_500),
    )
    assert [p.net_fen for p in march.net_positions()] == [4_500, 2_000, -6_500]
    assert (march.total_fen, march.draws) == (15_000, 7)


def test_premiums_paid_with_a_relatives_money_are_cleared_where_they_were_paid(
    family: Family,
) -> None:
    f = family
    f.clock.set(at("2026-03-10 10:00:00"))
    # The son's own account (Lanzhou) pays his mother's resident premium in Jinan: 400.00.
    pay_premium(f.ctx, SON, MOTHER, PremiumSource.OWN_ACCOUNT)
    # The niece pays her own from her aunt's grant: Dezhou's money spent in Jinan.
    f.give(SISTER, NIECE, 50_000)
    pay_premium(f.ctx, NIECE, NIECE, PremiumSource.GRANTS)
    # Inside Lanzhou: nothing to clear. In April: another month.
    f.give(SON, WIFE, 10_000)
    pay_premium(f.ctx, WIFE, SON, PremiumSource.GRANTS, PremiumKind.LONG_TERM_CARE)
    f.clock.set(at("2026-04-01 00:10:00"))
    pay_premium(f.ctx, SON, MOTHER, PremiumSource.OWN_ACCOUNT, PremiumKind.LONG_TERM_CARE)

    march = f.clear("2026-04-05 09:00:00", "2026-03").clearing
    assert march.lines == (
        PairLine("371400", "370100", 40_000, 1),
        PairLine("620100", "370100", 40_000, 1),
    )
    assert march.province_lines() == (PairLine("620000", "370000", 40_000, 1),)
    april = f.clear("2026-05-05 09:00:00", "2026-04").clearing
    assert april.lines == (PairLine("620100", "370100", 9_000, 1),)


def pay_premium(
    ctx: Context,
    payer: str,
    psn_no: str,
    source: PremiumSource,
    kind: PremiumKind = PremiumKind.RESIDENT,
) -> None:
    order = PremiumOrder(psn_no, 2026, kind, source)
    run(ctx, lambda uow: pay(ctx, uow, person_actor(payer), order))


def test_a_second_run_changes_nothing(family: Family) -> None:
    _february_to_april(family)
    first = family.clear("2026-04-05 09:00:00", "2026-03")
    rows_after_first = family.stored_rows()
    assert rows_after_first == (1, 4)
    again = family.clear("2026-05-20 09:00:00", "2026-03")
    assert again.stored_earlier
    assert again.clearing == first.clearing
    assert again.computed_at_us == first.computed_at_us
    assert family.stored_rows() == rows_after_first
    read = run(family.ctx, lambda uow: clearing_of(uow, "2026-03"))
    assert read.clearing.digest == first.clearing.digest


def test_a_late_reversal_corrects_the_month_it_is_made_in(family: Family) -> None:
    rows = _february_to_april(family)
    march = family.clear("2026-04-01 12:00:00", "2026-03").clearing
    family.undo("2026-04-02 10:00:00", rows["last"])  # a March settlement of 15.00
    recomputed = run(family.ctx, lambda uow: compute_clearing(uow, parse_month("2026-03")))
    assert recomputed == march
    april = family.clear("2026-05-01 00:00:00", "2026-04").clearing
    # April: 10.00 newly spent in Jinan less 15.00 given back: Jinan owes Lanzhou 5.00.
    assert april.lines == (PairLine("370100", "620100", 500, 2),)
    assert april.province_lines() == (PairLine("370000", "620000", 500, 2),)
    assert [(p.region, p.net_fen) for p in april.net_positions()] == [
        ("370000", -500),
        ("620000", 500),
    ]


def test_other_months_are_left_out_by_business_date(family: Family) -> None:
    _february_to_april(family)
    february = family.clear("2026-03-01 00:00:00", "2026-02").clearing
    # 23:50 on 28 February in Shanghai is 15:50 UTC: February's, and only it.
    assert february.lines == (PairLine("620100", "370100", 500, 1),)
    # 00:10 on 1 April in Shanghai is still 31 March in UTC: April's, not March's.
    april = family.clear("2026-05-01 00:00:00", "2026-04").clearing
    assert april.lines == (PairLine("620100", "370100", 1_000, 1),)
    january = family.clear("2026-05-01 00:00:00", "2026-01").clearing
    assert (january.lines, january.draws, january.total_fen) == ((), 0, 0)


def test_an_open_or_malformed_month_is_refused_and_stores_nothing(family: Family) -> None:
    _february_to_april(family)
    with pytest.raises(GongjiError) as caught:
        family.clear("2026-03-31 23:59:59", "2026-03")
    assert caught.value.code == "clearing_month_open"
    with pytest.raises(GongjiError) as caught:
        family.clear("2026-04-05 09:00:00", "2026-3")
    assert caught.value.code == "clearing_month_invalid"
    with pytest.raises(GongjiError) as caught:
        run(family.ctx, lambda uow: clearing_of(uow, "2026-03"))
    assert caught.value.code == "not_found"
    assert family.stored_rows() == (0, 0)


def test_concurrent_runs_of_one_month_store_it_once(family: Family) -> None:
    _february_to_april(family)
    family.clock.set(at("2026-04-05 09:00:00"))
    results: list[ClearingRun] = []
    errors: list[BaseException] = []

    def one() -> None:
        try:
            results.append(run(family.ctx, lambda uow: run_clearing(family.ctx, uow, "2026-03")))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len(results) == 4
    assert [r.stored_earlier for r in results].count(False) == 1
    assert {r.clearing.digest for r in results} == {results[0].clearing.digest}
    assert results[0].clearing.lines == MARCH_CITY_LINES
    assert family.stored_rows() == (1, 4)


def test_the_monthly_job_clears_last_month_after_an_hour_of_grace(family: Family) -> None:
    _february_to_april(family)
    family.clock.set(at("2026-04-01 00:59:59"))  # settlements begun before midnight may commit
    early = run_monthly_clearing(family.ctx)
    assert early.clearing.month == "2026-02"
    assert early.clearing.lines == (PairLine("620100", "370100", 500, 1),)
    family.clock.set(at("2026-04-01 01:00:00"))
    march = run_monthly_clearing(family.ctx)
    assert (march.clearing.month, march.stored_earlier) == ("2026-03", False)
    assert march.clearing.lines == MARCH_CITY_LINES
    family.clock.set(at("2026-04-30 23:59:00"))
    again = run_monthly_clearing(family.ctx)
    assert again.stored_earlier and again.clearing == march.clearing
    assert family.stored_rows() == (2, 5)
    assert month_before(date(2026, 1, 1)) == "2025-12"
