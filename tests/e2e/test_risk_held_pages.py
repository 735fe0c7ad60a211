"""The risk officer's held-grants pages (docs/backoffice.md, docs/rules.md §6.1.1) over HTTP on
SQLite and PostgreSQL: the list linked from the alert queue shows who gives to whom (masked
names and psn_no), how much, since when and the alert that held it; releasing makes the grant an
offer the recipient accepts; rejecting (a reason required, refused in Chinese without one) sends
the money back to the contributor; both are in the audit trail as the REST routes record them;
a read-only analyst is refused; a form without its CSRF token changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import Engine

from gongji.audit.domain.chain import AuditEntry
from gongji.audit.service import log
from gongji.audit.store.audit_repo import AuditQuery
from gongji.core.clock import ManualClock
from gongji.identity.service import identity
from gongji.kernel.context import Context
from gongji.mutual_aid.service import grants
from gongji.mutual_aid.service.accounts import parts_available
from gongji.risk.domain.alerts import RuleCode
from gongji.risk.domain.common import policy_lookup
from gongji.risk.domain.params import NATIONAL, RiskPolicy, RiskPolicyBook
from gongji.risk.service.screening import make_screen
from gongji.store.records import GrantRecord
from gongji.web.session import OPERATOR_COOKIE, csrf_token
from support.api import make_client
from support.world import at, build_context, give, insured, person_actor, relate, run

TAKER = "P620100000900"
GIVERS = [f"P62010000091{k}" for k in range(5)]
HELD_LIST = "/admin/risk/held-grants"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class World:
    ctx: Context
    client: TestClient
    held: GrantRecord

    def sign_in(self, name: str, role: str) -> str:
        """Signs ``name`` in as ``role``; returns the session's CSRF token."""
        ctx = self.ctx
        run(ctx, lambda uow: identity.create_operator(ctx, uow, name, [role], None, None))
        token = run(ctx, lambda uow: identity.issue_operator_token(ctx, uow, name)).token
        self.client.cookies.set(OPERATOR_COOKIE, token, path="/admin")
        return csrf_token(ctx, token)

    def csrf(self) -> str:
        found = _CSRF.search(self.client.get(HELD_LIST).text)
        assert found is not None
        return found.group(1)

    def decide(self, verb: str, **fields: str) -> Response:
        data = {"csrf_token": self.csrf(), **fields}
        return self.client.post(
            f"{HELD_LIST}/{self.held.id}/{verb}", data=data, follow_redirects=False
        )

    def state(self) -> str:
        ctx = self.ctx
        return run(ctx, lambda uow: grants.grant_visible_to(uow, person_actor(TAKER),
                                                            self.held.id)).state  # fmt: skip

    def available(self, psn_no: str) -> int:
        ctx = self.ctx
        parts = run(ctx, lambda uow: parts_available(ctx, uow, "620100", psn_no))
        return parts.current_fen + parts.earlier_fen

    def commands(self, action: str) -> list[AuditEntry]:
        """The operator commands ``action`` recorded, as the REST routes record theirs."""
        found = run(self.ctx, lambda uow: log.search(uow, AuditQuery(action=action)))
        return [r.entry for r in found]

    def actions(self, subject: str) -> list[str]:
        trail = run(self.ctx, lambda uow: log.search(uow, AuditQuery(subject=subject)))
        return [r.entry.action for r in reversed(trail)]


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> Iterator[World]:
    """Four siblings give 王桂兰 200.00 each; the fifth's offer trips fan-in, made to hold."""
    clock = ManualClock(at("2026-03-02 10:00:00"))
    national = dict(NATIONAL.rules)
    national[RuleCode.FAN_IN] = replace(national[RuleCode.FAN_IN], hold=True)
    screen = make_screen(policy_lookup(RiskPolicyBook(RiskPolicy(national))))
    ctx = replace(build_context(engine, clock), screens=(screen,))
    insured(ctx, TAKER, insutype="390", name="王桂兰")
    for giver in GIVERS:
        insured(ctx, giver, earlier=300_000, name="张三")
        relate(ctx, giver, TAKER, "sibling")
    for giver in GIVERS[:4]:
        give(ctx, giver, TAKER, 20_000)
    held = run(ctx, lambda uow: grants.offer(ctx, uow, person_actor(GIVERS[4]), TAKER, 20_000))
    assert held.state == "held"
    with make_client(ctx, clock, tmp_path) as client:
        yield World(ctx, client, held)


def test_the_list_shows_the_held_grant_and_the_alert_that_held_it(world: World) -> None:
    world.sign_in("li.risk", "risk_officer")
    queue = world.client.get("/admin/risk")
    assert f'href="{HELD_LIST}"' in queue.text and "待审核的共济（1）" in queue.text
    page = world.client.get(HELD_LIST)
    assert page.status_code == 200
    section = page.text[page.text.index(f'id="held-{world.held.id}"') :]
    assert "200.00 元" in section
    assert re.search(rf'class="contributor">张\*（<a[^>]*>{GIVERS[4]}</a>）', section)
    assert re.search(rf'class="recipient">王\*\*（<a[^>]*>{TAKER}</a>）', section)
    assert "2026-03-02 10:00" in section
    alert_ids = re.findall(r'href="/admin/risk/alerts/(\d+)" class="alert-link">#\d+ ([^<]+)<',
                           section)  # fmt: skip
    assert [rule for _, rule in alert_ids] == [RuleCode.FAN_IN.label_zh]
    evidence = world.client.get(f"/admin/risk/alerts/{alert_ids[0][0]}")
    assert evidence.status_code == 200 and world.held.id in evidence.text
    assert "王桂兰" not in page.text and "张三" not in page.text  # masked, never in clear


def test_released_it_becomes_an_offer_the_recipient_accepts(world: World) -> None:
    world.sign_in("li.risk", "risk_officer")
    released = world.decide("release")
    assert released.status_code == 303
    assert released.headers["location"].endswith("?done=grant_released")
    assert world.state() == "offered"
    after = world.client.get(f"{HELD_LIST}?done=grant_released").text
    assert "已放行" in after and "没有待审核的共济" in after
    assert world.actions(TAKER)[-1] == "risk_grant_released"
    (command,) = world.commands("risk.grant.release")
    assert (command.actor, command.detail["grant_id"]) == ("operator:li.risk", world.held.id)
    again = world.decide("release")  # a second submit: refused in Chinese, nothing changes
    assert again.status_code == 400
    assert 'role="alert"' in again.text and world.held.id in again.text
    ctx = world.ctx
    accepted = run(ctx, lambda uow: grants.accept(ctx, uow, person_actor(TAKER), world.held.id))
    assert accepted.state == "active"


def test_rejected_with_a_reason_the_money_goes_back_to_the_contributor(world: World) -> None:
    world.sign_in("li.risk", "risk_officer")
    assert world.available(GIVERS[4]) == 280_000
    no_reason = world.decide("reject", reason="  ")
    assert no_reason.status_code == 400
    assert "请填写不予放行的理由" in no_reason.text
    assert world.state() == "held" and world.available(GIVERS[4]) == 280_000
    rejected = world.decide("reject", reason="疑似虚构亲属")
    assert rejected.status_code == 303
    assert world.state() == "rejected"
    assert world.available(GIVERS[4]) == 300_000
    trail = run(world.ctx, lambda uow: log.search(uow, AuditQuery(subject=TAKER)))
    (decision,) = [r.entry for r in trail if r.entry.action == "risk_grant_rejected"]
    assert (decision.reason, decision.actor) == ("疑似虚构亲属", "operator:li.risk")
    (command,) = world.commands("risk.grant.reject")
    assert (command.reason, command.detail["grant_id"]) == ("疑似虚构亲属", world.held.id)


def test_a_read_only_analyst_is_refused_and_a_forged_form_changes_nothing(world: World) -> None:
    analyst = world.sign_in("ana", "analyst")
    assert world.client.get(HELD_LIST).status_code == 403
    for verb, fields in (("release", {}), ("reject", {"reason": "越权"})):
        refused = world.client.post(
            f"{HELD_LIST}/{world.held.id}/{verb}", data={"csrf_token": analyst, **fields},
            follow_redirects=False,
        )  # fmt: skip
        assert refused.status_code == 403
    world.sign_in("li.risk", "risk_officer")
    no_token = world.client.post(
        f"{HELD_LIST}/{world.held.id}/reject", data={"reason": "无令牌"}, follow_redirects=False
    )
    assert no_token.status_code == 403
    assert world.state() == "held" and world.available(GIVERS[4]) == 280_000
