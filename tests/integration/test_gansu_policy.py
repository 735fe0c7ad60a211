"""Gansu's policy as shipped (docs/rules.md §3, §6.2: 620000 from 2025) and the lifecycle edges of
§5, §6 and §10, through the services on both databases.

Lanzhou (620100) is in Gansu: its authorizations reach relatives insured in any province, and only
earlier years' money (历年) is ever shared; Jinan (370100) keeps the national province scope.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date

import pytest
from sqlalchemy import Engine

from gongji.core.clock import ManualClock
from gongji.core.errors import GongjiError
from gongji.kernel.context import Context, Role
from gongji.mutual_aid.service import (
    authorizations,
    grants,
    kinship_withdrawal,
    lifecycle,
    relationships,
    wallets,
)
from gongji.mutual_aid.service.accounts import parts_available
from gongji.mutual_aid.store import mutual_aid_repo as aid_repo
from gongji.notify.service import preferences
from gongji.settlement.service.settlement import settle
from gongji.settlement.service.settlement_quote import quote
from support.desk import HOSPITAL, PHARMACY, bill, open_desks
from support.world import (
    ELDER,
    IDS,
    at,
    build_context,
    choose_mutual_aid,
    give,
    insured,
    operator,
    person_actor,
    relate,
    run,
)

SON, MOTHER, WIFE = "P620100000001", "P370100000001", "P620100000002"
JINAN_EMPLOYEE, CANTON_SISTER = "P370100000002", "P440100000005"


@dataclass
class World:
    ctx: Context
    clock: ManualClock

    def refused(self, code: str, action: object) -> None:
        with pytest.raises(GongjiError) as caught:
            run(self.ctx, action)  # type: ignore[arg-type]
        assert caught.value.code == code

    def parts(self, psn_no: str = SON, region: str = "620100") -> tuple[int, int]:
        found = run(self.ctx, lambda uow: parts_available(self.ctx, uow, region, psn_no))
        return found.current_fen, found.earlier_fen

    def bind(self, contributor: str, recipient: str, quota_fen: int | None = None) -> str:
        return run(
            self.ctx,
            lambda uow: authorizations.bind(
                self.ctx, uow, person_actor(contributor), recipient, quota_fen
            ),
        ).id


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    clock = ManualClock(at("2026-03-02 10:00:00"))
    ctx = build_context(engine, clock)
    open_desks(ctx)
    insured(ctx, SON, current=180_000, earlier=620_000, name="张建国")
    insured(ctx, MOTHER, region="370100", insutype="390", name="王桂兰", born=ELDER)
    insured(ctx, WIFE, current=5_000, name="李秀英")
    yield World(ctx, clock)


def test_a_lanzhou_authorization_pays_for_a_mother_at_a_pharmacy_in_jinan(world: World) -> None:
    relate(world.ctx, SON, MOTHER, "parent")
    world.bind(SON, MOTHER, 30_000)
    choose_mutual_aid(world.ctx, MOTHER)
    request = bill(MOTHER, "jinan-1", ("TB", "1", 20_000), institution=PHARMACY)
    row = run(world.ctx, lambda uow: settle(world.ctx, uow, request))
    assert (row.acct_pay, row.acct_mulaid_pay, row.psn_cash_pay) == (20_000, 20_000, 0)
    # Earlier years' money only: this year's 1 800.00 is untouched.
    assert world.parts() == (180_000, 600_000)


def test_a_grant_in_gansu_never_takes_this_years_money(world: World) -> None:
    relate(world.ctx, SON, MOTHER, "parent")
    grant_id = give(world.ctx, SON, MOTHER, 200_000)
    found = run(world.ctx, lambda uow: grants.grant_visible_to(uow, person_actor(SON), grant_id))
    assert (found.from_current_fen, found.from_earlier_fen) == (0, 200_000)
    assert world.parts() == (180_000, 420_000)


def test_a_grant_beyond_the_earlier_years_money_is_refused_in_gansu(world: World) -> None:
    relate(world.ctx, SON, WIFE, "spouse")  # the wife has 50.00 this year, none from earlier
    world.refused(
        "insufficient_balance",
        lambda uow: grants.offer(world.ctx, uow, person_actor(WIFE), SON, 1_000),
    )


def test_an_authorization_draws_no_current_money_when_earlier_money_runs_out(world: World) -> None:
    relate(world.ctx, SON, WIFE, "spouse")
    world.bind(WIFE, SON)  # the wife has 50.00 this year and nothing from earlier years
    request = bill(SON, "h-1", ("TB", "1", 900_000), med_type="11", institution=HOSPITAL)
    found = run(world.ctx, lambda uow: quote(world.ctx, uow, request))
    assert all(d.kind != "authorization" for d in found.draws)
    assert world.parts(WIFE) == (5_000, 0)


def test_outside_gansu_an_authorization_stays_within_the_province(world: World) -> None:
    insured(world.ctx, JINAN_EMPLOYEE, region="370100", current=50_000, name="王建军")
    insured(world.ctx, CANTON_SISTER, region="440100", insutype="390", name="王小红")
    relate(world.ctx, JINAN_EMPLOYEE, CANTON_SISTER, "sibling")
    world.refused(
        "authorization_out_of_scope",
        lambda uow: authorizations.bind(
            world.ctx, uow, person_actor(JINAN_EMPLOYEE), CANTON_SISTER, None
        ),
    )


def test_an_authorization_needs_the_recipients_wallet_open(world: World) -> None:
    insured(world.ctx, "P620100000009", insutype="390", name="张小红", wallet=False)
    relate(world.ctx, SON, "P620100000009", "sibling")
    world.refused(
        "recipient_wallet_not_open",
        lambda uow: authorizations.bind(world.ctx, uow, person_actor(SON), "P620100000009", None),
    )


def test_a_suspended_contributors_grants_pay_nothing_until_resumed(world: World) -> None:
    relate(world.ctx, SON, MOTHER, "parent")
    give(world.ctx, SON, MOTHER, 10_000)
    clerk = operator(Role.CLERK)
    run(world.ctx, lambda uow: lifecycle.suspend(world.ctx, uow, clerk, SON, "稽核"))
    request = bill(MOTHER, "s-1", ("TB", "1", 5_000))
    while_suspended = run(world.ctx, lambda uow: quote(world.ctx, uow, request))
    assert while_suspended.plan.psn_cash_pay == 5_000
    run(world.ctx, lambda uow: lifecycle.resume(world.ctx, uow, clerk, SON, "稽核结束"))
    resumed = run(world.ctx, lambda uow: quote(world.ctx, uow, request))
    assert resumed.plan.psn_cash_pay == 0


def test_a_frozen_contributor_wallet_stops_authorization_draws(world: World) -> None:
    relate(world.ctx, SON, MOTHER, "parent")
    world.bind(SON, MOTHER)
    choose_mutual_aid(world.ctx, MOTHER)
    risk = operator(Role.RISK_OFFICER)
    run(world.ctx, lambda uow: wallets.set_frozen(world.ctx, uow, risk, SON, True, "风险核查"))
    request = bill(MOTHER, "f-1", ("TB", "1", 5_000))
    assert run(world.ctx, lambda uow: quote(world.ctx, uow, request)).plan.psn_cash_pay == 5_000
    run(world.ctx, lambda uow: wallets.set_frozen(world.ctx, uow, risk, SON, False, "核查无误"))
    assert run(world.ctx, lambda uow: quote(world.ctx, uow, request)).plan.psn_cash_pay == 0


def test_termination_closes_the_wallet_and_answers_the_terminated_enrolment(world: World) -> None:
    clerk = operator(Role.CLERK)
    answer = run(
        world.ctx,
        lambda uow: lifecycle.terminate(world.ctx, uow, clerk, WIFE, date(2026, 3, 2), "离职"),
    )
    assert (answer.status, answer.end_date) == ("3", "2026-03-02")
    wallet = run(world.ctx, lambda uow: aid_repo.wallet(uow.connection, WIFE))
    assert wallet is not None and (wallet.status, wallet.status_reason) == ("closed", "terminated")


def test_withdrawing_a_kinship_ends_the_relationship_and_returns_the_quota(world: World) -> None:
    relationship_id = relate(world.ctx, SON, WIFE, "spouse")
    give(world.ctx, SON, WIFE, 50_000)
    world.bind(SON, WIFE)
    before = world.parts()
    world.refused(
        "forbidden",
        lambda uow: kinship_withdrawal.withdraw(
            world.ctx, uow, operator(Role.CLERK), relationship_id, "离婚"
        ),
    )
    world.refused(
        "reason_required",
        lambda uow: kinship_withdrawal.withdraw(
            world.ctx, uow, operator(Role.REVIEWER), relationship_id, "  "
        ),
    )
    ended = run(
        world.ctx,
        lambda uow: kinship_withdrawal.withdraw(
            world.ctx, uow, operator(Role.REVIEWER), relationship_id, "离婚登记 2026-03-01"
        ),
    )
    assert (ended.status, ended.end_reason) == ("ended", "kinship_withdrawn")
    assert world.parts() == (before[0], before[1] + 50_000)
    bound = run(world.ctx, lambda uow: authorizations.list_for(uow, SON))
    assert [a.status for a in bound] == ["ended"]
    # The registry's record no longer verifies the pair: a new proposal waits for review.
    id_number, name = IDS[WIFE]
    again = run(
        world.ctx,
        lambda uow: relationships.propose(
            world.ctx, uow, person_actor(SON), id_number, name, "spouse"
        ),
    )
    assert again.verification == "none"
    world.refused(
        "relationship_state_invalid",
        lambda uow: kinship_withdrawal.withdraw(
            world.ctx, uow, operator(Role.ADMIN), relationship_id, "重复"
        ),
    )


def test_a_parent_younger_than_the_child_is_refused(world: World) -> None:
    insured(world.ctx, "P620100000010", name="张小军", born=date(1994, 6, 1))
    id_number, name = IDS["P620100000010"]
    world.refused(
        "kinship_birth_dates_implausible",
        lambda uow: relationships.propose(
            world.ctx, uow, person_actor(SON), id_number, name, "parent"
        ),
    )
    proposed = run(
        world.ctx,
        lambda uow: relationships.propose(
            world.ctx, uow, person_actor(SON), id_number, name, "child"
        ),
    )
    assert proposed.status == "proposed"


def test_shared_money_pays_only_when_the_patient_chooses_it(world: World) -> None:
    relate(world.ctx, SON, MOTHER, "parent")
    give(world.ctx, SON, MOTHER, 10_000, choosing=False)

    def cash(choice: bool | None, request_id: str) -> int:
        request = replace(bill(MOTHER, request_id, ("TB", "1", 5_000)), use_mutual_aid=choice)
        return run(world.ctx, lambda uow: quote(world.ctx, uow, request)).plan.psn_cash_pay

    assert cash(None, "c-1") == 5_000  # she has not chosen it: off, as the shipped policy says
    assert cash(True, "c-2") == 0  # chosen at the counter for this bill
    run(
        world.ctx,
        lambda uow: preferences.set_use_mutual_aid(world.ctx, uow, person_actor(MOTHER), True),
    )
    assert cash(None, "c-3") == 0
    assert cash(False, "c-4") == 5_000  # declined at the counter for this bill
