"""就医时使用家庭共济 (docs/rules.md §6.2), on both databases: shared money — a grant's quota or an
authorization — pays a patient's care only once the patient chose it, on the wallet's switch or
in the step that accepts an offer; a bill may override the standing choice either way; a
bureau's policy may stand for the choice of those who never made one. Migration 0160:
test_choice_initials_migration.py."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest
from sqlalchemy import Engine

from gongji.core.errors import GongjiError
from gongji.core.policy import parse_policy_toml
from gongji.kernel.context import Context
from gongji.mutual_aid.service import authorizations, grants, mutual_aid_choice, wallet_view
from gongji.mutual_aid.service.accounts import personal_account_view
from gongji.notify.service import preferences
from gongji.people.service import registry
from gongji.settlement.service.settlement import settle
from gongji.settlement.store.settlements_repo import SettlementRow
from support.desk import bill
from support.till import seed_family
from support.world import (
    choose_mutual_aid,
    give,
    person_actor,
    run,
)

SON, MOTHER = "P620100000001", "P370100000001"


@dataclass
class Family:
    ctx: Context

    def settle(self, request_id: str, *, use_mutual_aid: bool | None = None) -> SettlementRow:
        """The mother buys a 50.00 class B drug, all of it payable from accounts."""
        request = replace(
            bill(MOTHER, request_id, ("TB", "1", 5_000)), use_mutual_aid=use_mutual_aid
        )
        return run(self.ctx, lambda uow: settle(self.ctx, uow, request))

    def son_available(self) -> int:
        found = run(self.ctx, lambda uow: personal_account_view(self.ctx, uow, "620100", SON))
        return found.available_fen

    def quota_left(self) -> int:
        view = run(self.ctx, lambda uow: wallet_view.wallet_view(self.ctx, uow, MOTHER))
        return view.received_total_fen

    def choice(self) -> preferences.MutualAidChoice:
        return run(self.ctx, lambda uow: preferences.mutual_aid_choice(self.ctx, uow, MOTHER))


@pytest.fixture
def family(engine: Engine) -> Iterator[Family]:
    ctx, _clock = seed_family(engine)
    yield Family(ctx)


def _bind(family: Family, quota_fen: int | None = None) -> None:
    son = person_actor(SON)
    run(family.ctx, lambda uow: authorizations.bind(family.ctx, uow, son, MOTHER, quota_fen))


def test_without_her_choice_neither_a_quota_nor_an_authorization_pays(family: Family) -> None:
    give(family.ctx, SON, MOTHER, 3_000, choosing=False)
    _bind(family)
    before = family.son_available()
    assert family.choice() == preferences.MutualAidChoice(on=False, chosen=False)
    row = family.settle("none-1")
    assert (row.acct_pay, row.acct_mulaid_pay, row.psn_cash_pay) == (0, 0, 5_000)
    assert family.quota_left() == 3_000
    assert family.son_available() == before


def test_once_she_chose_it_the_quota_then_the_authorization_pay(family: Family) -> None:
    give(family.ctx, SON, MOTHER, 3_000, choosing=False)
    _bind(family)
    before = family.son_available()
    choose_mutual_aid(family.ctx, MOTHER)
    assert family.choice() == preferences.MutualAidChoice(on=True, chosen=True)
    row = family.settle("chosen-1")
    assert (row.acct_pay, row.acct_mulaid_pay, row.psn_cash_pay) == (5_000, 5_000, 0)
    assert family.quota_left() == 0
    assert family.son_available() == before - 2_000  # the authorization paid what was left


def test_turned_off_again_nothing_pays(family: Family) -> None:
    give(family.ctx, SON, MOTHER, 3_000)  # accepted choosing it
    choose_mutual_aid(family.ctx, MOTHER, on=False)
    row = family.settle("off-1")
    assert (row.acct_mulaid_pay, row.psn_cash_pay) == (0, 5_000)
    kinds = [
        e.kind
        for e in run(family.ctx, lambda uow: registry.events_of(uow.connection, MOTHER, 0, 50))
    ]
    assert kinds.count("mutual_aid_on") == 1 and kinds.count("mutual_aid_off") == 1


def test_one_bill_may_choose_it_without_the_standing_choice(family: Family) -> None:
    give(family.ctx, SON, MOTHER, 3_000, choosing=False)
    row = family.settle("once-1", use_mutual_aid=True)
    assert (row.acct_mulaid_pay, row.psn_cash_pay) == (3_000, 2_000)
    assert family.choice().on is False  # the bill's choice was for that bill only
    assert family.settle("once-2").acct_mulaid_pay == 0


def test_one_bill_may_refuse_it_despite_the_standing_choice(family: Family) -> None:
    give(family.ctx, SON, MOTHER, 3_000)
    _bind(family)
    row = family.settle("refuse-1", use_mutual_aid=False)
    assert (row.acct_mulaid_pay, row.psn_cash_pay) == (0, 5_000)
    assert family.settle("refuse-2").acct_mulaid_pay == 5_000


def test_accepting_may_make_the_choice_in_the_same_step(family: Family) -> None:
    son, mother = person_actor(SON), person_actor(MOTHER)
    first = give(family.ctx, SON, MOTHER, 1_000, choosing=False)
    assert family.choice().chosen is False  # accepting money is not choosing to spend it
    offered = run(family.ctx, lambda uow: grants.offer(family.ctx, uow, son, MOTHER, 2_000))
    accepted = run(
        family.ctx,
        lambda uow: mutual_aid_choice.accept(family.ctx, uow, mother, offered.id, True),
    )
    assert accepted.grant.state == "active" and accepted.grant.id != first
    assert accepted.mutual_aid == preferences.MutualAidChoice(on=True, chosen=True)
    assert family.settle("accepted-1").acct_mulaid_pay == 3_000


def test_a_refused_acceptance_chooses_nothing(family: Family) -> None:
    mother = person_actor(MOTHER)
    with pytest.raises(GongjiError) as caught:
        run(
            family.ctx,
            lambda uow: mutual_aid_choice.accept(family.ctx, uow, mother, "G-none", True),
        )
    assert caught.value.code == "not_found"
    assert family.choice().chosen is False


BUREAU_CHOOSES_FOR_SHANDONG = """
[[region]]
code = "370000"
effective_from = 2020-01-01
mutual_aid_choice_default = true
"""


def test_a_bureau_may_stand_for_the_choice_of_those_who_never_made_it(family: Family) -> None:
    book = family.ctx.policies.merged_with(
        parse_policy_toml(BUREAU_CHOOSES_FOR_SHANDONG, "test: Shandong chooses for them")
    )
    shandong = Family(replace(family.ctx, policies=book))
    give(shandong.ctx, SON, MOTHER, 3_000, choosing=False)
    assert shandong.choice() == preferences.MutualAidChoice(on=True, chosen=False)
    assert shandong.settle("bureau-1").acct_mulaid_pay == 3_000
    choose_mutual_aid(shandong.ctx, MOTHER, on=False)  # her own choice outranks the bureau's
    give(shandong.ctx, SON, MOTHER, 1_000, choosing=False)
    assert shandong.settle("bureau-2").acct_mulaid_pay == 0
