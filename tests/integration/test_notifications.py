"""Notifications (docs/rules.md §15) on both databases: told once per business event, an SMS sent
exactly once under retries, crashes and racing deliverers, preferences and quiet hours obeyed,
and no secret in the text.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy import Engine

from gongji.core.clock import ManualClock
from gongji.core.errors import GongjiError
from gongji.jobs.notifications import run_notifications
from gongji.kernel.context import Context
from gongji.mutual_aid.service import grants, mutual_aid_choice, relationships
from gongji.notify.domain.messages import NoticeKind
from gongji.notify.service import inbox, outbox, preferences
from gongji.notify.service.delivery import CLAIM_LEASE_S, deliver_due
from gongji.notify.store import notify_repo
from gongji.people.service.persons import mobile_number, require_person
from gongji.settlement.service.settlement import settle
from support.desk import bill, open_desks
from support.world import ELDER, IDS, at, build_context, insured, person_actor, relate, run

SON, MOTHER = "P620100000001", "P370100000001"


class Crash(BaseException):
    """A deliverer killed between the gateway's send and the record of it."""


@dataclass
class Texts:
    """An SMS gateway that can send texts, refuse a few times, or die after sending."""

    sent: list[tuple[str, str]] = field(default_factory=list)
    refuse: int = 0
    crash_after_send: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send_code(self, mobile: str, code: str) -> None:
        self.sent.append((mobile, f"code {code}"))

    def send_text(self, mobile: str, text: str) -> None:
        with self.lock:
            if self.refuse:
                self.refuse -= 1
                raise ConnectionError("gateway down")
            self.sent.append((mobile, text))
        if self.crash_after_send:
            raise Crash()


@dataclass
class World:
    ctx: Context
    clock: ManualClock
    texts: Texts

    def mobile(self, psn_no: str) -> str:
        found = run(self.ctx, lambda uow: mobile_number(self.ctx, uow, psn_no))
        assert found is not None
        return found

    def texts_to(self, psn_no: str) -> list[str]:
        mobile = self.mobile(psn_no)
        return [text for number, text in self.texts.sent if number == mobile]

    def inbox(self, psn_no: str) -> list[inbox.Message]:
        return run(self.ctx, lambda uow: inbox.messages(uow, psn_no))

    def offer(self, amount_fen: int = 50_000) -> str:
        grant = run(
            self.ctx,
            lambda uow: grants.offer(self.ctx, uow, person_actor(SON), MOTHER, amount_fen),
        )
        return grant.id

    def offer_row(self) -> notify_repo.NotificationRow:
        rows = run(self.ctx, lambda uow: notify_repo.inbox(uow.connection, MOTHER, 50))
        [row] = [r for r in rows if r.kind == NoticeKind.OFFER_RECEIVED]
        return row


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    clock = ManualClock(at("2026-03-02 10:00:00"))
    texts = Texts()
    base = build_context(engine, clock)
    ctx = Context(base.engine, clock, base.ledger, base.vault, base.policies, base.regions, texts)
    insured(ctx, SON, earlier=620_000, name="张建国")
    insured(ctx, MOTHER, region="370100", insutype="390", name="王桂兰", born=ELDER)
    relate(ctx, SON, MOTHER, "parent")
    yield World(ctx, clock, texts)


def test_an_offer_reaches_the_inbox_and_one_sms_without_secrets(world: World) -> None:
    world.offer()
    [message] = [m for m in world.inbox(MOTHER) if m.kind is NoticeKind.OFFER_RECEIVED]
    assert "500.00" in message.text.body and "03月03日 06:00" in message.text.body
    assert run(world.ctx, lambda uow: inbox.unread(uow, MOTHER)) == 2  # and the proposal
    run_notifications(world.ctx)
    run_notifications(world.ctx)
    offers = [t for t in world.texts_to(MOTHER) if "共济 500.00 元" in t]
    assert len(offers) == 1
    son = run(world.ctx, lambda uow: require_person(uow, SON))
    id_number, name = IDS[SON]
    for text in world.texts_to(MOTHER):
        assert text.startswith("【医保钱包】")
        for secret in (id_number, name, IDS[MOTHER][0], IDS[MOTHER][1], SON, world.mobile(SON)):
            assert secret not in text
        assert "code" not in text
    assert son.name_masked in offers[0]
    run(world.ctx, lambda uow: inbox.mark_all_read(world.ctx, uow, MOTHER))
    assert run(world.ctx, lambda uow: inbox.unread(uow, MOTHER)) == 0


def test_the_same_event_enqueued_twice_is_one_message(world: World) -> None:
    def tell(uow: object) -> bool:
        return outbox.enqueue(
            world.ctx,
            uow,
            MOTHER,
            NoticeKind.WALLET_FROZEN,
            "x1",
            {},  # type: ignore[arg-type]
        )

    assert run(world.ctx, tell) is True
    assert run(world.ctx, tell) is False
    assert [m.kind for m in world.inbox(MOTHER)].count(NoticeKind.WALLET_FROZEN) == 1


def test_a_refused_command_tells_no_one(world: World) -> None:
    world.clock.set(at("2026-03-02 23:00:00"))  # quiet hours: the offer is refused
    before = len(world.inbox(MOTHER))
    with pytest.raises(GongjiError):
        world.offer()
    assert len(world.inbox(MOTHER)) == before


def test_a_refusing_gateway_is_retried_until_the_one_sms_goes(world: World) -> None:
    run_notifications(world.ctx)  # the relationship's messages
    world.texts.sent.clear()
    world.texts.refuse = 2
    world.offer()
    assert deliver_due(world.ctx).retrying == 1
    assert deliver_due(world.ctx).sent == 0  # not due again yet
    world.clock.set(at("2026-03-02 10:01:00"))
    assert deliver_due(world.ctx).retrying == 1
    world.clock.set(at("2026-03-02 10:07:00"))
    assert deliver_due(world.ctx).sent == 1
    world.clock.set(at("2026-03-02 12:00:00"))
    assert deliver_due(world.ctx).sent == 0
    assert len(world.texts_to(MOTHER)) == 1
    row = world.offer_row()
    assert (row.sms_state, row.sms_attempts) == ("sent", 3)


def test_a_deliverer_killed_after_sending_never_sends_again(world: World) -> None:
    run_notifications(world.ctx)
    world.texts.sent.clear()
    world.offer()
    world.texts.crash_after_send = True
    with pytest.raises(Crash):
        deliver_due(world.ctx)
    world.texts.crash_after_send = False
    assert deliver_due(world.ctx).sent == 0
    world.clock.set(at("2026-03-02 10:00:00").replace(second=0) + _seconds(CLAIM_LEASE_S + 1))
    assert deliver_due(world.ctx).uncertain == 1
    assert deliver_due(world.ctx).sent == 0
    assert len(world.texts_to(MOTHER)) == 1
    assert world.offer_row().sms_state == "uncertain"


def test_racing_deliverers_send_each_message_once(world: World) -> None:
    world.offer()
    barrier = threading.Barrier(4)

    def deliver() -> None:
        barrier.wait()
        deliver_due(world.ctx)

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    texts = world.texts_to(MOTHER)
    assert len(texts) == len(set(texts)) == 2  # the proposal and the offer


def test_quiet_hours_defer_the_sms_but_not_the_inbox(world: World) -> None:
    run_notifications(world.ctx)
    world.texts.sent.clear()
    world.offer()
    world.clock.set(at("2026-03-02 22:30:00"))
    assert deliver_due(world.ctx).deferred == 1
    world.clock.set(at("2026-03-03 07:59:59"))
    assert deliver_due(world.ctx).sent == 0
    world.clock.set(at("2026-03-03 08:00:00"))
    assert deliver_due(world.ctx).sent == 1
    assert len(world.texts_to(MOTHER)) == 1


def test_a_person_may_turn_sms_off_or_mute_one_kind(world: World) -> None:
    def save(enabled: bool, muted: list[str], start: str = "22:00", end: str = "08:00") -> object:
        return run(
            world.ctx,
            lambda uow: preferences.save_notifications(
                world.ctx, uow, person_actor(MOTHER), sms_enabled=enabled, muted=muted,
                quiet_start=start, quiet_end=end,
            ),
        )  # fmt: skip

    with pytest.raises(GongjiError) as caught:
        save(True, [], "25:00")
    assert caught.value.code == "quiet_hours_invalid"
    save(True, ["offer_received"])
    run_notifications(world.ctx)
    world.texts.sent.clear()
    world.offer()
    run_notifications(world.ctx)
    assert world.texts_to(MOTHER) == []
    assert world.offer_row().sms_state == "skipped"  # yet it is in the inbox


def test_relationship_and_spending_messages_name_the_other_side(world: World) -> None:
    kinds = [m.kind for m in world.inbox(SON)]
    assert NoticeKind.RELATIONSHIP_CONFIRMED in kinds
    assert NoticeKind.RELATIONSHIP_PROPOSED in [m.kind for m in world.inbox(MOTHER)]
    open_desks(world.ctx)
    grant_id = world.offer(10_000)
    mother = person_actor(MOTHER)  # she accepts it to pay at the counter (docs/rules.md §6.2)
    run(world.ctx, lambda uow: mutual_aid_choice.accept(world.ctx, uow, mother, grant_id, True))
    request = bill(MOTHER, "n-1", ("TB", "1", 6_000))
    run(world.ctx, lambda uow: settle(world.ctx, uow, request))
    run(world.ctx, lambda uow: settle(world.ctx, uow, request))  # the same request again
    spent = [m for m in world.inbox(SON) if m.kind is NoticeKind.QUOTA_SPENT]
    assert len(spent) == 1
    assert "济南测试药房" in spent[0].text.body and "60.00" in spent[0].text.body


def test_the_evening_reminder_of_an_offer_goes_once(world: World) -> None:
    world.offer()
    world.clock.set(at("2026-03-02 19:59:00"))
    assert run_notifications(world.ctx).reminded == 0
    world.clock.set(at("2026-03-02 20:00:00"))
    assert run_notifications(world.ctx).reminded == 1
    assert run_notifications(world.ctx).reminded == 0
    [reminder] = [m for m in world.inbox(MOTHER) if m.kind is NoticeKind.OFFER_EXPIRING]
    assert "03月03日 06:00" in reminder.text.body


def test_dissolving_tells_the_other_side_only(world: World) -> None:
    [relationship] = run(world.ctx, lambda uow: relationships.list_for(uow, SON))
    run(
        world.ctx,
        lambda uow: relationships.dissolve(world.ctx, uow, person_actor(SON), relationship.id),
    )
    assert NoticeKind.RELATIONSHIP_ENDED in [m.kind for m in world.inbox(MOTHER)]
    assert NoticeKind.RELATIONSHIP_ENDED not in [m.kind for m in world.inbox(SON)]


def _seconds(n: int) -> object:
    from datetime import timedelta

    return timedelta(seconds=n)


class CodesOnly:
    """A production gateway that sends one-time codes and nothing else."""

    def send_code(self, mobile: str, code: str) -> None:
        raise AssertionError("no code is sent by notifications")


def test_a_gateway_that_cannot_send_texts_leaves_the_message_in_the_inbox(world: World) -> None:
    base = world.ctx
    ctx = Context(base.engine, base.clock, base.ledger, base.vault, base.policies, base.regions,
                  CodesOnly())  # fmt: skip
    world.offer()
    assert deliver_due(ctx).skipped >= 1
    assert world.offer_row().sms_state == "no_gateway"
    assert world.texts.sent == []
