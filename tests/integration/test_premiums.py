"""Premiums paid for relatives (代缴, docs/rules.md §9) through the service, on both databases.

The son (employee, Lanzhou, 1 800.00 this year + 6 200.00 earlier) pays his mother's resident
premium (resident, Jinan: 400.00 for 2026 by the national default policy) from his own account;
the mother pays from grants her son made her; paying twice, for a stranger, or with too little
money is refused and changes nothing. The conftest checks the whole ledger after each test.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, func, select

from gongji.core.clock import ManualClock
from gongji.core.errors import GongjiError
from gongji.kernel.context import Context
from gongji.mutual_aid.domain.premiums import PremiumKind, PremiumSource
from gongji.mutual_aid.service.accounts import parts_available
from gongji.mutual_aid.service.premiums import PremiumOrder, PremiumPaid, pay, premiums_of, receipt
from gongji.mutual_aid.service.wallet_view import wallet_view
from gongji.store.migrate import SCRIPT_LOCATION, head_revision, upgrade
from gongji.store.tables import ledger_transfers
from gongji.store.tables_clearing import premium_draws, premium_payments
from support.world import ELDER, at, build_context, give, insured, person_actor, relate, run

SON, MOTHER, WIFE, STRANGER = "P620100000001", "P370100000001", "P620100000002", "P370100000009"
RESIDENT, CARE = PremiumKind.RESIDENT, PremiumKind.LONG_TERM_CARE
OWN, GRANTS = PremiumSource.OWN_ACCOUNT, PremiumSource.GRANTS


@dataclass
class Family:
    ctx: Context
    clock: ManualClock

    def pay(self, payer: str, psn_no: str, kind: PremiumKind, source: PremiumSource,
            year: int = 2026) -> PremiumPaid:  # fmt: skip
        order = PremiumOrder(psn_no, year, kind, source)
        return run(self.ctx, lambda uow: pay(self.ctx, uow, person_actor(payer), order))

    def refusal(self, payer: str, psn_no: str, kind: PremiumKind, source: PremiumSource,
                year: int = 2026) -> str:  # fmt: skip
        with pytest.raises(GongjiError) as caught:
            self.pay(payer, psn_no, kind, source, year)
        return caught.value.code

    def give(self, by: str, to: str, amount_fen: int) -> str:
        return give(self.ctx, by, to, amount_fen)

    def parts(self, psn_no: str) -> tuple[int, int]:
        found = run(self.ctx, lambda uow: parts_available(self.ctx, uow, "620100", psn_no))
        return found.current_fen, found.earlier_fen

    def received(self, psn_no: str) -> int:
        return run(self.ctx, lambda uow: wallet_view(self.ctx, uow, psn_no)).received_total_fen

    def income(self, account_id: str) -> int:
        found = run(self.ctx, lambda uow: self.ctx.ledger.accounts_in(uow, [account_id]))
        return found[account_id].credit_balance if account_id in found else 0

    def written(self) -> tuple[int, int]:
        with self.ctx.engine.connect() as connection:
            return tuple(  # type: ignore[return-value]
                connection.execute(select(func.count()).select_from(table)).scalar_one()
                for table in (premium_payments, ledger_transfers)
            )


@pytest.fixture
def family(engine: Engine) -> Iterator[Family]:
    clock = ManualClock(at("2026-03-02 10:00:00"))
    ctx = build_context(engine, clock)
    insured(ctx, SON, current=180_000, earlier=620_000, name="张建国")
    insured(ctx, MOTHER, region="370100", insutype="390", name="王桂兰", born=ELDER)
    insured(ctx, WIFE, current=5_000, name="李秀英")
    insured(ctx, STRANGER, region="370100", insutype="390", name="赵四")
    relate(ctx, SON, MOTHER, "parent")
    relate(ctx, SON, WIFE, "spouse")
    yield Family(ctx, clock)


def test_the_son_pays_his_mothers_resident_premium_from_his_account(family: Family) -> None:
    paid = family.pay(SON, MOTHER, RESIDENT, OWN)
    assert (paid.row.psn_no, paid.row.payer, paid.row.source, paid.row.region) == (
        MOTHER,
        SON,
        "own_account",
        "370100",
    )
    assert paid.row.amount_fen == 40_000  # 400.00, the 2026 national default
    # Earlier years' money only, as a grant takes it: Lanzhou is in Gansu (docs/rules.md §3).
    assert [(d.kind, d.amount_fen) for d in paid.draws] == [("own", 40_000)]
    assert family.parts(SON) == (180_000, 580_000)
    assert family.income("prem:370100:ri") == 40_000
    mine = run(family.ctx, lambda uow: premiums_of(uow, MOTHER))
    theirs = run(family.ctx, lambda uow: premiums_of(uow, SON))
    assert mine == theirs == [paid.row]
    # Long-term care is another kind: the same year may be paid too (90.00 by default).
    care = family.pay(SON, MOTHER, CARE, OWN)
    assert care.row.amount_fen == 9_000
    assert family.income("prem:370100:ltc") == 9_000
    assert family.parts(SON) == (180_000, 571_000)


def test_the_mother_pays_from_the_grants_she_received(family: Family) -> None:
    older = family.give(SON, MOTHER, 30_000)
    family.clock.set(at("2026-03-02 11:00:00"))
    newer = family.give(SON, MOTHER, 20_000)
    paid = family.pay(MOTHER, MOTHER, RESIDENT, GRANTS)
    # Oldest grant first: 300.00 from the older, 100.00 from the newer.
    assert [(d.kind, d.source_id, d.amount_fen) for d in paid.draws] == [
        ("grant", older, 30_000),
        ("grant", newer, 10_000),
    ]
    assert family.received(MOTHER) == 10_000
    assert family.parts(SON) == (180_000, 570_000)  # the grants had already moved the money
    assert family.income("prem:370100:ri") == 40_000
    # From grants she may also pay a verified relative's premium: her son's long-term care.
    care = family.pay(MOTHER, SON, CARE, GRANTS)
    assert (care.row.region, care.row.amount_fen) == ("620100", 9_000)
    assert family.received(MOTHER) == 1_000
    assert family.income("prem:620100:ltc") == 9_000


def test_paying_twice_for_the_same_person_year_and_kind_is_refused(family: Family) -> None:
    family.give(SON, MOTHER, 50_000)
    family.pay(SON, MOTHER, RESIDENT, OWN)
    before = (family.written(), family.parts(SON), family.received(MOTHER))
    assert family.refusal(SON, MOTHER, RESIDENT, OWN) == "premium_already_paid"
    assert family.refusal(MOTHER, MOTHER, RESIDENT, GRANTS) == "premium_already_paid"
    assert (family.written(), family.parts(SON), family.received(MOTHER)) == before
    # Next year is another year.
    assert family.pay(MOTHER, MOTHER, RESIDENT, GRANTS, year=2027).row.amount_fen == 40_000


def test_a_receipt_opens_for_the_payer_and_the_insured_only(family: Family) -> None:
    paid = family.pay(SON, MOTHER, RESIDENT, OWN).row

    def opened(reader: str, kind: PremiumKind = RESIDENT) -> object:
        return run(family.ctx, lambda uow: receipt(uow, reader, MOTHER, 2026, kind))

    assert opened(SON) == paid == opened(MOTHER)
    for reader, kind in ((STRANGER, RESIDENT), (WIFE, RESIDENT), (SON, CARE)):
        with pytest.raises(GongjiError) as caught:
            opened(reader, kind)
        assert caught.value.code == "not_found"  # someone else's, or none: not disclosed


def test_a_stranger_and_oneself_from_the_own_account_are_refused(family: Family) -> None:
    before = (family.written(), family.parts(SON))
    assert family.refusal(SON, STRANGER, RESIDENT, OWN) == "relationship_not_active"
    assert family.refusal(SON, SON, CARE, OWN) == "premium_own_account_for_self"
    family.give(SON, MOTHER, 50_000)
    assert family.refusal(MOTHER, STRANGER, RESIDENT, GRANTS) == "relationship_not_active"
    assert family.refusal(SON, "P000000000000", RESIDENT, OWN) == "not_found"
    assert family.written()[0] == before[0][0] == 0
    assert family.parts(SON) == (180_000, 570_000)


def test_a_short_balance_is_refused(family: Family) -> None:
    # The wife has 50.00 of her own: her husband's 90.00 long-term care is too much.
    assert family.refusal(WIFE, SON, CARE, OWN) == "insufficient_balance"
    family.give(SON, MOTHER, 10_000)
    assert family.refusal(MOTHER, MOTHER, RESIDENT, GRANTS) == "premium_quota_insufficient"
    # A resident with no grants at all, and a resident "paying" from an account she lacks.
    assert family.refusal(STRANGER, STRANGER, RESIDENT, GRANTS) == "premium_quota_insufficient"
    assert family.refusal(MOTHER, SON, CARE, OWN) == "contributor_has_no_personal_account"
    assert family.written()[0] == 0
    assert family.received(MOTHER) == 10_000
    assert family.parts(WIFE) == (5_000, 0)


def test_wrong_kind_or_year_is_refused(family: Family) -> None:
    assert family.refusal(WIFE, SON, RESIDENT, OWN) == "premium_not_applicable"
    assert family.refusal(SON, MOTHER, RESIDENT, OWN, year=2025) == "premium_year_invalid"
    assert family.refusal(SON, MOTHER, RESIDENT, OWN, year=2028) == "premium_year_invalid"
    assert family.written()[0] == 0


def test_two_payers_racing_for_one_premium_pay_it_once(family: Family) -> None:
    family.give(SON, MOTHER, 50_000)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def attempt(payer: str, source: PremiumSource) -> None:
        barrier.wait()
        try:
            family.pay(payer, MOTHER, RESIDENT, source)
            outcomes.append("paid")
        except GongjiError as error:
            outcomes.append(error.code)

    threads = [
        threading.Thread(target=attempt, args=(SON, OWN)),
        threading.Thread(target=attempt, args=(MOTHER, GRANTS)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["paid", "premium_already_paid"]
    assert family.written()[0] == 1
    assert family.income("prem:370100:ri") == 40_000
    son_paid = family.parts(SON) == (180_000, 530_000)
    mother_paid = family.received(MOTHER) == 10_000
    assert son_paid != mother_paid  # exactly one of them paid


def test_earlier_years_only_regions_pay_from_earlier_years(family: Family) -> None:
    # Dezhou (371400) shares only earlier years' money: a daughter there with 1 000.00 this
    # year and 300.00 from earlier years cannot pay 400.00, with 500.00 she pays it from those.
    daughter, other = "P371400000001", "P371400000002"
    insured(family.ctx, daughter, region="371400", current=100_000, earlier=30_000, name="张丽")
    relate(family.ctx, daughter, MOTHER, "parent")
    assert family.refusal(daughter, MOTHER, RESIDENT, OWN) == "insufficient_balance"
    insured(family.ctx, other, region="371400", current=100_000, earlier=50_000, name="张敏")
    relate(family.ctx, other, MOTHER, "parent")
    paid = family.pay(other, MOTHER, RESIDENT, OWN)
    assert [(d.account_id, d.amount_fen) for d in paid.draws] == [
        (f"pa:371400:{other}:old", 40_000)
    ]


def test_premiums_paid_before_their_draws_were_kept_are_described_from_the_ledger(
    family: Family,
) -> None:
    """Migration 0007 fills ``premium_draws`` for earlier premiums from their ledger transfers:
    undone and redone, it must give back exactly the rows that paying wrote."""
    family.pay(SON, MOTHER, RESIDENT, OWN)
    family.give(SON, MOTHER, 30_000)
    family.clock.set(at("2026-03-03 07:30:00"))  # Beijing time; still 2 March in UTC
    family.pay(MOTHER, SON, CARE, GRANTS)
    written = _premium_draws(family.ctx.engine)
    assert [(r.source, r.contributor_region, r.region, r.amount_fen, r.business_date)
            for r in written] == [
        ("own", "620100", "370100", 40_000, "2026-03-02"),  # for the mother
        ("grant", "620100", "620100", 9_000, "2026-03-03"),  # for the son
    ]  # fmt: skip
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    with family.ctx.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0006_ledger_integer_keys")
    assert upgrade(family.ctx.engine) == head_revision()  # 0007 and every later revision
    assert _premium_draws(family.ctx.engine) == written


def _premium_draws(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        statement = select(premium_draws).order_by(
            premium_draws.c.psn_no, premium_draws.c.kind, premium_draws.c.seq
        )
        return list(connection.execute(statement))
