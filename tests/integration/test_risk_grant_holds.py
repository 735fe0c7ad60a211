"""Which alerts held which grant (docs/rules.md §12.4, ``risk_grant_holds``) on SQLite and
PostgreSQL: the write-time check links a held offer to the alerts that held it, in the offer's
own transaction, and the held-grants page, the REST list and the alert (page and REST) show that
link. The two kinship alerts that name only relationships (an impossible age, too many of a
kind) are linked as exactly as those naming the grant, and an alert raised by another write a
moment later is not linked to a grant it did not hold.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from gongji.core.clock import ManualClock
from gongji.identity.service import identity
from gongji.kernel.context import Context
from gongji.mutual_aid.service import grants
from gongji.risk.domain.alerts import RuleCode
from gongji.risk.domain.common import policy_lookup
from gongji.risk.domain.params import NATIONAL, RiskPolicy, RiskPolicyBook
from gongji.risk.service import held_grants
from gongji.risk.service.screening import make_screen
from gongji.risk.store import alerts_repo
from gongji.store.records import GrantRecord
from gongji.store.tables_risk import risk_alerts, risk_grant_holds
from gongji.web.session import OPERATOR_COOKIE
from support.api import make_client, operator_headers
from support.world import at, build_context, give, insured, person_actor, relate, run

HOLDER = "P620100000801"
SISTER = "P620100000802"
WIFE = "P620100000803"
PARENTS = [f"P62010000081{k}" for k in range(3)]
GIVERS = [f"P62010000091{k}" for k in range(4)]


@dataclass
class World:
    ctx: Context
    clock: ManualClock
    tmp_path: Path

    def offer(self, contributor: str, recipient: str, amount_fen: int = 20_000) -> GrantRecord:
        ctx, actor = self.ctx, person_actor(contributor)
        return run(ctx, lambda uow: grants.offer(ctx, uow, actor, recipient, amount_fen))

    def held_by(self) -> dict[str, list[tuple[str, str]]]:
        """Each waiting grant with the (rule, clause) of the alerts linked to it."""
        waiting = run(self.ctx, held_grants.held_with_alerts)
        return {h.grant.id: [(a.rule, a.reason) for a in h.alerts] for h in waiting}


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> Iterator[World]:
    """Fan-in and kinship made to hold (nationally only lifecycle holds)."""
    clock = ManualClock(at("2026-03-02 10:00:00"))
    national = dict(NATIONAL.rules)
    for rule in (RuleCode.FAN_IN, RuleCode.KINSHIP):
        national[rule] = replace(national[rule], hold=True)
    screen = make_screen(policy_lookup(RiskPolicyBook(RiskPolicy(national))))
    ctx = replace(build_context(engine, clock), screens=(screen,))
    insured(ctx, HOLDER, earlier=500_000, name="张三")
    yield World(ctx, clock, tmp_path)


def test_an_impossible_age_holds_the_offer_and_is_linked_to_it(world: World) -> None:
    insured(world.ctx, WIFE, insutype="390", name="李四", born=date(2010, 5, 1))
    relate(world.ctx, HOLDER, WIFE, "spouse")  # 15 years old: no spouse can be
    held = world.offer(HOLDER, WIFE)
    assert held.state == "held"
    assert world.held_by() == {held.id: [("kinship", "impossible_age")]}


def test_too_many_parents_holds_the_offer_and_is_linked_to_it(world: World) -> None:
    for parent in PARENTS:
        insured(world.ctx, parent, insutype="390", name="王五", born=date(1940, 1, 1))
        relate(world.ctx, HOLDER, parent, "parent")
    held = world.offer(HOLDER, PARENTS[2])
    assert held.state == "held"
    assert world.held_by() == {held.id: [("kinship", "too_many_parent")]}


def test_an_alert_another_offer_raised_a_moment_later_is_not_linked(world: World) -> None:
    """The link is what held the grant, not what was raised about a party near its time: the
    sister's fan-in holds the first offer; half a second later the holder names a wife of 15
    and offers to her, and that kinship alert (about the first offer's contributor, naming only
    a relationship) is linked to the second offer alone."""
    ctx = world.ctx
    insured(ctx, SISTER, insutype="390", name="张梅")
    relate(ctx, HOLDER, SISTER, "sibling")
    for giver in GIVERS:
        insured(ctx, giver, earlier=300_000, name="张三")
        relate(ctx, giver, SISTER, "sibling")
        give(ctx, giver, SISTER, 20_000)
    first = world.offer(HOLDER, SISTER)
    world.clock.advance(timedelta(milliseconds=200))
    insured(ctx, WIFE, insutype="390", name="李四", born=date(2010, 5, 1))
    relate(ctx, HOLDER, WIFE, "spouse")
    world.clock.advance(timedelta(milliseconds=300))
    second = world.offer(HOLDER, WIFE)
    assert (first.state, second.state) == ("held", "held")
    assert world.held_by() == {
        first.id: [("fan_in", "many_contributors")],
        second.id: [("kinship", "impossible_age")],
    }


def test_recording_a_hold_again_changes_nothing(world: World) -> None:
    insured(world.ctx, WIFE, insutype="390", name="李四", born=date(2010, 5, 1))
    relate(world.ctx, HOLDER, WIFE, "spouse")
    held = world.offer(HOLDER, WIFE)

    def again(uow: object) -> int:
        connection = uow.connection  # type: ignore[attr-defined]
        (alert,) = alerts_repo.holding(connection, [held.id])[held.id]
        alerts_repo.record_hold(connection, held.id, [_fingerprint(connection, alert.id)])
        return int(connection.execute(select(func.count()).select_from(risk_grant_holds)).scalar())

    assert run(world.ctx, again) == 1


def _fingerprint(connection: object, alert_id: int) -> str:
    statement = select(risk_alerts.c.fingerprint).where(risk_alerts.c.id == alert_id)
    return str(connection.execute(statement).scalar_one())  # type: ignore[attr-defined]


def _sign_in(ctx: Context, client: TestClient, name: str) -> None:
    run(ctx, lambda uow: identity.create_operator(ctx, uow, name, ["risk_officer"], None, None))
    token = run(ctx, lambda uow: identity.issue_operator_token(ctx, uow, name)).token
    client.cookies.set(OPERATOR_COOKIE, token, path="/admin")


def test_the_pages_and_the_api_show_the_link_both_ways(world: World) -> None:
    ctx = world.ctx
    for parent in PARENTS:
        insured(ctx, parent, insutype="390", name="王五", born=date(1940, 1, 1))
        relate(ctx, HOLDER, parent, "parent")
    held = world.offer(HOLDER, PARENTS[2])
    with make_client(ctx, world.clock, world.tmp_path) as client:
        officer = operator_headers(ctx, "li.risk", "risk_officer")
        (listed,) = client.get("/api/v1/admin/risk/held-grants", headers=officer).json()
        (holding,) = listed["held_by"]
        assert (listed["grant_id"], holding["rule"], holding["reason"], holding["subject"]) == (
            held.id, "kinship", "too_many_parent", HOLDER,
        )  # fmt: skip
        alert_id = holding["alert_id"]
        detail = client.get(f"/api/v1/admin/risk/alerts/{alert_id}", headers=officer).json()
        assert detail["held_grants"] == [held.id]
        assert detail["evidence"]["grants"] == []  # it names no grant: only the link tells
        _sign_in(ctx, client, "wang.risk")
        page = client.get("/admin/risk/held-grants").text
        section = page[page.index(f'id="held-{held.id}"') :]
        linked = re.findall(r'href="/admin/risk/alerts/(\d+)" class="alert-link"', section)
        assert linked == [str(alert_id)]
        alert_page = client.get(f"/admin/risk/alerts/{alert_id}").text
        assert f'href="/admin/risk/held-grants#held-{held.id}"' in alert_page
