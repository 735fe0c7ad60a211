"""The payment password through the services on both databases (docs/rules.md §16): set, asked
before money leaves, locked after wrong attempts (longer each time), reset by an SMS code and
the ID number; and never stored or sent in clear."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from gongji.core.clock import ManualClock
from gongji.core.errors import GongjiError
from gongji.core.policy import parse_policy_toml
from gongji.identity.service import payment_password
from gongji.kernel.context import Context
from gongji.kernel.ratelimit import RateLimiter
from gongji.kernel.sms import LogSmsGateway
from gongji.store.tables_access import payment_passwords
from gongji.store.tables_people import person_events
from support.world import (
    IDS,
    PAYMENT_PIN,
    at,
    build_context,
    insured,
    person_actor,
    run,
    set_payment_password,
)

SON, GANSU_SON = "P370100000001", "P620100000001"


@dataclass
class World:
    ctx: Context
    clock: ManualClock

    def refused(self, code: str, action: object) -> GongjiError:
        with pytest.raises(GongjiError) as caught:
            action()  # type: ignore[operator]
        assert caught.value.code == code, caught.value
        return caught.value

    def confirm(self, pin: str | None, psn_no: str = SON) -> None:
        payment_password.confirm_payment(self.ctx, person_actor(psn_no), pin)

    def status(self, psn_no: str = SON) -> payment_password.PinStatus:
        return run(self.ctx, lambda uow: payment_password.status(self.ctx, uow, psn_no))


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    clock = ManualClock(at("2026-03-02 10:00:00"))
    ctx = build_context(engine, clock)
    insured(ctx, SON, region="370100", current=100_000, name="张建国")
    yield World(ctx, clock)


def test_a_person_without_a_password_is_asked_to_set_one_first(world: World) -> None:
    assert world.status() == payment_password.PinStatus(False, True, None, None)
    world.refused("payment_password_not_set", lambda: world.confirm(None))
    world.refused("payment_password_not_set", lambda: world.confirm(PAYMENT_PIN))


def test_set_then_asked_before_every_payment(world: World) -> None:
    set_payment_password(world.ctx, SON)
    assert world.status().is_set
    world.confirm(PAYMENT_PIN)
    world.refused("payment_password_required", lambda: world.confirm(None))
    world.refused("payment_password_required", lambda: world.confirm("  "))
    world.refused("payment_password_malformed", lambda: world.confirm("12345"))
    wrong = world.refused("payment_password_wrong", lambda: world.confirm("258014"))
    assert wrong.detail == {"attempts_left": 4}


def test_the_password_is_stored_only_as_an_argon2_hash(world: World) -> None:
    set_payment_password(world.ctx, SON)
    with world.ctx.engine.connect() as connection:
        stored = connection.execute(select(payment_passwords)).mappings().one()
        events = connection.execute(select(person_events.c.detail)).scalars().all()
    assert stored["pin_hash"].startswith("$argon2")
    assert PAYMENT_PIN not in str(dict(stored)) and not any(PAYMENT_PIN in e for e in events)


def test_weak_passwords_are_refused_using_the_birth_date_from_the_encrypted_id(
    world: World,
) -> None:
    me = person_actor(SON)
    id_number = IDS[SON][0]
    birthday = id_number[8:14]  # YYMMDD of the default birth date, 1970-01-01: "700101"
    tail = id_number[-6:]  # refused as malformed when it ends in X, as weak otherwise
    for pin in ("000000", "123456", birthday, *([tail] if tail.isdigit() else [])):
        world.refused(
            "payment_password_weak", lambda p=pin: payment_password.set_pin(world.ctx, me, p, p)
        )
    world.refused(
        "payment_password_mismatch",
        lambda: payment_password.set_pin(world.ctx, me, PAYMENT_PIN, "258031"),
    )
    assert not world.status().is_set


def test_changing_asks_for_the_current_password(world: World) -> None:
    me = person_actor(SON)
    set_payment_password(world.ctx, SON)
    world.refused(
        "payment_password_current_required",
        lambda: payment_password.set_pin(world.ctx, me, "470193", "470193"),
    )
    world.refused(
        "payment_password_wrong",
        lambda: payment_password.set_pin(world.ctx, me, "470193", "470193", "111112"),
    )
    payment_password.set_pin(world.ctx, me, "470193", "470193", PAYMENT_PIN)
    world.confirm("470193")
    world.refused("payment_password_wrong", lambda: world.confirm(PAYMENT_PIN))


def test_five_wrong_in_a_row_lock_payments_longer_each_time(world: World) -> None:
    set_payment_password(world.ctx, SON)
    for left in (4, 3, 2, 1):
        error = world.refused("payment_password_wrong", lambda: world.confirm("470193"))
        assert error.detail["attempts_left"] == left
    locked = world.refused("payment_password_locked", lambda: world.confirm("470193"))
    assert locked.detail == {"retry_after_s": 300}
    # locked: even the right password is refused, before any argon2 work
    world.refused("payment_password_locked", lambda: world.confirm(PAYMENT_PIN))
    assert world.status().locked_until_us == world.ctx.now_us() + 300 * 1_000_000
    world.clock.advance(timedelta(seconds=301))
    again = world.refused("payment_password_locked", lambda: world.confirm("470193"))
    assert again.detail == {"retry_after_s": 600}
    world.clock.advance(timedelta(seconds=601))
    world.confirm(PAYMENT_PIN)  # the right one clears the count
    assert world.refused("payment_password_wrong", lambda: world.confirm("470193")).detail == {
        "attempts_left": 4
    }


def test_a_reset_needs_the_sms_code_and_the_whole_id_number(world: World) -> None:
    me = person_actor(SON)
    set_payment_password(world.ctx, SON)
    for _ in range(5):
        with pytest.raises(GongjiError):
            world.confirm("470193")
    assert world.status().locked_until_us is not None
    sent = run(world.ctx, lambda uow: payment_password.request_reset(world.ctx, uow, me))
    assert sent.mobile_masked.startswith("138") and "*" in sent.mobile_masked
    sms = world.ctx.sms
    assert isinstance(sms, LogSmsGateway)
    mobile = f"138{abs(hash(SON)) % 10**8:08d}"
    code = sms.last_code(mobile)
    assert code is not None
    id_number = IDS[SON][0]
    world.refused(
        "payment_reset_refused",
        lambda: payment_password.reset_pin(
            world.ctx, me, code, "370102197001011234", "470193", "470193"
        ),
    )
    wrong_code = "000000" if code != "000000" else "000001"
    world.refused(
        "payment_reset_refused",
        lambda: payment_password.reset_pin(
            world.ctx, me, wrong_code, id_number, "470193", "470193"
        ),
    )
    payment_password.reset_pin(world.ctx, me, code, id_number.lower(), "470193", "470193")
    assert world.status().locked_until_us is None
    world.confirm("470193")
    # the code is spent
    world.refused(
        "payment_reset_expired",
        lambda: payment_password.reset_pin(world.ctx, me, code, id_number, "581302", "581302"),
    )


def test_reset_codes_expire_and_allow_five_tries(world: World) -> None:
    me = person_actor(SON)
    set_payment_password(world.ctx, SON)
    id_number = IDS[SON][0]
    run(world.ctx, lambda uow: payment_password.request_reset(world.ctx, uow, me))
    for _ in range(5):
        world.refused(
            "payment_reset_refused",
            lambda: payment_password.reset_pin(world.ctx, me, "x", id_number, "470193", "470193"),
        )
    world.refused(
        "payment_reset_expired",
        lambda: payment_password.reset_pin(world.ctx, me, "x", id_number, "470193", "470193"),
    )
    run(world.ctx, lambda uow: payment_password.request_reset(world.ctx, uow, me))
    world.clock.advance(timedelta(minutes=6))
    mobile = f"138{abs(hash(SON)) % 10**8:08d}"
    code = world.ctx.sms.last_code(mobile)  # type: ignore[attr-defined]
    world.refused(
        "payment_reset_expired",
        lambda: payment_password.reset_pin(world.ctx, me, code, id_number, "470193", "470193"),
    )


def test_where_the_policy_does_not_require_it_only_those_who_set_one_are_asked(
    world: World,
) -> None:
    relaxed_book = world.ctx.policies.merged_with(
        parse_policy_toml(RELAXED_SHANDONG, "test: Shandong without payment passwords")
    )
    ctx = replace(world.ctx, policies=relaxed_book)
    insured(ctx, GANSU_SON, current=100_000, name="张建军")
    me, gansu = person_actor(SON), person_actor(GANSU_SON)
    assert not run(ctx, lambda uow: payment_password.status(ctx, uow, SON)).required
    payment_password.confirm_payment(ctx, me, None)  # not set, not required: no question
    with pytest.raises(GongjiError) as caught:
        payment_password.confirm_payment(ctx, gansu, None)  # Gansu keeps the default
    assert caught.value.code == "payment_password_not_set"
    set_payment_password(ctx, SON)
    with pytest.raises(GongjiError) as caught:
        payment_password.confirm_payment(ctx, me, None)  # once set, always asked
    assert caught.value.code == "payment_password_required"


RELAXED_SHANDONG = """
[[region]]
code = "370000"
effective_from = 2020-01-01
payment_password_required = false
"""


def test_payments_have_an_argon2_budget_of_their_own(world: World) -> None:
    object.__setattr__(world.ctx, "limiter", RateLimiter(now=lambda: 100.0))  # one frozen second
    set_payment_password(world.ctx, SON)
    limits = replace(
        world.ctx.limits, password_checks_per_second=1, payment_password_checks_per_second=3
    )
    object.__setattr__(world.ctx, "limits", limits)
    world.ctx.limiter.admit("argon2", 1, window_s=1.0)  # operators' sign-ins spent theirs
    world.confirm(PAYMENT_PIN)  # a payment still checks
    world.confirm(PAYMENT_PIN)
    world.refused("rate_limited", lambda: world.confirm(PAYMENT_PIN))  # set + two checks: spent
