"""Which alerts held which grant (docs/rules.md §12.4, ``risk_grant_holds``) on SQLite and
PostgreSQL: the write-time check links a held offer to the alerts that held it, in the offer's
own transaction, and the held-grants page, the REST list and the alert (page and REST) show that
link. The two kinship alerts that name only relationships (an impossible age, too many of a
kind) are linked as exactly as those naming the grant, and an alert raised by another write a
moment later is not linked to a grant it did not hold. An alert still standing — not in a case
closed as unfounded — holds every further offer about its person and is linked to each, past
the screen's 30 days and when a run stored it first; a fan-in's newest alert speaks for the
earlier ones.
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

from gongji.audit.service import log
from gongji.audit.store.audit_repo import AuditQuery
from gongji.core.clock import ManualClock
from gongji.identity.service import identity
from gongji.kernel.context import Context, Role
from gongji.mutual_aid.service import grants
from gongji.notify.domain.messages import NoticeKind
from gongji.notify.service import inbox
from gongji.risk.domain.alerts import RuleCode
from gongji.risk.domain.common import policy_lookup
from gongji.risk.domain.params import NATIONAL, RiskPolicy, RiskPolicyBook
from gongji.risk.service import cases, held_grants, runs
from gongji.risk.service.screening import make_screen
from gongji.risk.store import alerts_repo
from gongji.risk.store.alerts_repo import AlertRow
from gongji.store.records import GrantRecord
from gongji.store.tables_risk import risk_alerts, risk_grant_holds
from gongji.web.session import OPERATOR_COOKIE
from support.api import make_client, operator_headers
from support.world import at, build_context, give, insured, operator, person_actor, relate, run

HOLDER = "P620100000801"
SISTER = "P620100000802"
WIFE = "P620100000803"
COUSIN = "P620100000804"
PARENTS = [f"P62010000081{k}" for k in range(3)]
GIVERS = [f"P62010000091{k}" for k in range(4)]
OFFICER = operator(Role.RISK_OFFICER)


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


def sister_with_givers(ctx: Context) -> None:
    """The holder's sister, to whom every one of ``GIVERS`` (her "siblings" too) has given."""
    insured(ctx, SISTER, insutype="390", name="张梅")
    relate(ctx, HOLDER, SISTER, "sibling")
    for giver in GIVERS:
        insured(ctx, giver, earlier=300_000, name="张三")
        relate(ctx, giver, SISTER, "sibling")
        give(ctx, giver, SISTER, 20_000)


def test_an_alert_another_offer_raised_a_moment_later_is_not_linked(world: World) -> None:
    """The link is what held the grant, not what was raised about a party near its time: the
    sister's fan-in holds the first offer; half a second later the holder names a wife of 15
    and offers to her, and that kinship alert (about the first offer's contributor, naming only
    a relationship) is linked to the second offer alone."""
    ctx = world.ctx
    sister_with_givers(ctx)
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


def _three_parents(world: World) -> None:
    for parent in PARENTS:
        insured(world.ctx, parent, insutype="390", name="王五", born=date(1940, 1, 1))
        relate(world.ctx, HOLDER, parent, "parent")


def _told_of_an_offer(world: World, psn_no: str) -> int:
    found = run(world.ctx, lambda uow: inbox.messages(uow, psn_no))
    return sum(1 for m in found if m.kind is NoticeKind.OFFER_RECEIVED)


def test_while_the_kinship_alert_stands_every_further_offer_is_held_and_linked(
    world: World,
) -> None:
    """Three "parents": the alert names only the relationships, so each offer's screen finds the
    same alert again; it holds the second and third offers too, each linked to it, and no
    parent is told. Releasing the first grant does not clear the alert."""
    ctx = world.ctx
    _three_parents(world)
    first = world.offer(HOLDER, PARENTS[0])
    run(ctx, lambda uow: held_grants.release(ctx, uow, OFFICER, first.id))
    world.clock.advance(timedelta(minutes=5))
    second = world.offer(HOLDER, PARENTS[1])
    world.clock.advance(timedelta(minutes=5))
    third = world.offer(HOLDER, PARENTS[2])
    assert (second.state, third.state) == ("held", "held")
    by = world.held_by()
    assert by == {g.id: [("kinship", "too_many_parent")] for g in (second, third)}
    alert_ids = {a.id for g in (second, third) for a in _holding(world, g.id)}
    (alert_id,) = alert_ids
    held = run(ctx, lambda uow: alerts_repo.grants_held_by(uow.connection, alert_id))
    assert held == sorted([first.id, second.id, third.id])
    assert (_told_of_an_offer(world, PARENTS[1]), _told_of_an_offer(world, PARENTS[2])) == (0, 0)
    trail = run(ctx, lambda uow: log.search(uow, AuditQuery(subject=HOLDER)))
    holds = [e.entry for e in trail if e.entry.action == "risk_write_held"]
    assert sorted(e.detail["write"] for e in holds) == sorted([first.id, second.id, third.id])
    assert all(e.detail["alerts"] == [alert_id] for e in holds)


def test_once_the_case_closes_unfounded_a_new_offer_is_not_held(world: World) -> None:
    ctx = world.ctx
    _three_parents(world)
    first = world.offer(HOLDER, PARENTS[0])
    (alert,) = _holding(world, first.id)
    case = run(ctx, lambda uow: cases.open_case(ctx, uow, OFFICER, alert.id))
    world.clock.advance(timedelta(minutes=5))
    assert world.offer(HOLDER, PARENTS[1]).state == "held"  # a case open: still standing
    run(ctx, lambda uow: cases.close(ctx, uow, OFFICER, case.id, False, "继父母，属实家庭"))
    world.clock.advance(timedelta(minutes=5))
    after = world.offer(HOLDER, PARENTS[2])
    assert after.state == "offered"
    assert after.id not in world.held_by()
    assert _told_of_an_offer(world, PARENTS[2]) == 1


def test_the_alert_keeps_holding_after_the_screens_thirty_days(world: World) -> None:
    """40 days on no relationship is new, so the screen no longer judges the register at all;
    the alert, still not judged by the officer, holds all the same."""
    _three_parents(world)
    first = world.offer(HOLDER, PARENTS[0])
    world.clock.advance(timedelta(days=40))
    later = world.offer(HOLDER, PARENTS[1], 5_000)
    assert later.state == "held"
    assert [a.id for a in _holding(world, later.id)] == [a.id for a in _holding(world, first.id)]


def test_an_alert_a_run_stored_first_holds_the_first_offer(world: World) -> None:
    _three_parents(world)
    world.clock.advance(timedelta(minutes=10))
    runs.run(world.ctx)
    world.clock.advance(timedelta(minutes=10))
    held = world.offer(HOLDER, PARENTS[0])
    assert held.state == "held"
    (alert,) = _holding(world, held.id)
    assert (alert.rule, alert.reason, alert.source) == ("kinship", "too_many_parent", "run")


def test_a_growing_fan_in_links_only_its_newest_alert(world: World) -> None:
    """Each offer to a fan-in's recipient raises a new alert naming every grant so far; the
    earlier ones stand too, but the newest speaks for its clause."""
    ctx = world.ctx
    sister_with_givers(ctx)
    insured(ctx, COUSIN, earlier=300_000, name="张三")
    relate(ctx, COUSIN, SISTER, "sibling")
    first = world.offer(HOLDER, SISTER)
    world.clock.advance(timedelta(minutes=5))
    again = world.offer(COUSIN, SISTER, 10_000)
    (before,), (now,) = _holding(world, first.id), _holding(world, again.id)
    assert again.state == "held" and now.id > before.id
    assert (now.rule, set(now.evidence.grants) >= {first.id, again.id}) == ("fan_in", True)


def _holding(world: World, grant_id: str) -> list[AlertRow]:
    return run(world.ctx, lambda uow: alerts_repo.holding(uow.connection, [grant_id]))[grant_id]
