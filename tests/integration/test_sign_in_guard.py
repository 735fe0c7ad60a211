"""The sign-in guard on both databases: rate limits counted before any argon2 work, the
operator lockout and its back-off, single-use TOTP codes, and one-time codes per client.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from sqlalchemy import func, select

from gongji.core.clock import ManualClock
from gongji.identity.service import identity, identity_operators
from gongji.kernel.context import Context
from gongji.kernel.ratelimit import RateLimited, RateLimiter
from gongji.store.tables_access import one_time_codes, unknown_sign_ins
from support.world import TEST_LIMITS, run

PASSWORD = "correct horse battery"


class CountingHasher:
    """The real hasher, counting the expensive calls."""

    def __init__(self) -> None:
        self.real = identity_operators._HASHER
        self.verified = 0

    def verify(self, stored: str, password: str) -> Any:
        self.verified += 1
        return self.real.verify(stored, password)

    def hash(self, password: str) -> str:
        return self.real.hash(password)


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher()
    monkeypatch.setattr(identity_operators, "_HASHER", counting)
    return counting


def with_limits(ctx: Context, **limits: int) -> Context:
    object.__setattr__(ctx, "limits", replace(TEST_LIMITS, **limits))
    return ctx


def create(ctx: Context, name: str = "alice") -> pyotp.TOTP:
    created = run(ctx, lambda uow: identity.create_operator(ctx, uow, name, ["clerk"], PASSWORD))
    return pyotp.TOTP(pyotp.parse_uri(created.provisioning_uri).secret)


def login(ctx: Context, password: str, code: str, name: str = "alice", client: str = "10.0.0.1"):
    """Sign in as the entrypoints do: a counted refusal is committed before it propagates."""

    def work(uow: Any) -> identity.IssuedToken:
        try:
            return identity.operator_login(ctx, uow, name, password, code, client=client)
        except identity.CountedRefusal:
            uow.commit()
            raise

    return run(ctx, work)


def test_rate_limits_refuse_before_any_argon2_work(ctx: Context, hasher: CountingHasher) -> None:
    with_limits(ctx, logins_per_account_per_minute=3, logins_per_address_per_minute=5)
    totp = create(ctx)
    for _ in range(3):
        with pytest.raises(identity.LoginFailed):
            login(ctx, "wrong password!", totp.now())
    with pytest.raises(RateLimited) as limited:
        login(ctx, PASSWORD, totp.now())
    assert limited.value.code == "rate_limited"
    assert hasher.verified == 3  # the refused fourth never reached argon2
    for name in ("bob", "carol"):  # the address allows five attempts a minute, any names
        with pytest.raises(identity.LoginFailed):
            login(ctx, PASSWORD, "000000", name=name)
    with pytest.raises(RateLimited):
        login(ctx, PASSWORD, "000000", name="dave")
    assert hasher.verified == 5


def test_argon2_work_has_one_budget_for_every_name_and_address(
    ctx: Context, hasher: CountingHasher
) -> None:
    with_limits(ctx, password_checks_per_second=1)
    object.__setattr__(ctx, "limiter", RateLimiter(now=lambda: 0.0))  # one instant: no drift
    create(ctx)
    with pytest.raises(identity.LoginFailed):
        login(ctx, "wrong password!", "000000", name="alice", client="10.0.0.1")
    with pytest.raises(RateLimited):  # another name, another address, the same second
        login(ctx, "wrong password!", "000000", name="nobody", client="10.0.0.2")
    assert hasher.verified == 1


def test_wrong_passwords_lock_the_operator_with_back_off(
    ctx: Context, clock: ManualClock, hasher: CountingHasher
) -> None:
    with_limits(ctx, logins_per_account_per_minute=100)  # the lockout alone, here
    totp = create(ctx)
    for _ in range(5):
        with pytest.raises(identity.LoginFailed):
            login(ctx, "wrong password!", totp.at(ctx.now()))
    verified = hasher.verified
    with pytest.raises(identity.OperatorLocked) as locked:
        login(ctx, PASSWORD, totp.at(ctx.now()))  # the right password, refused while locked
    assert locked.value.code == "operator_locked"
    assert "账户已锁定" in locked.value.message("zh")
    assert hasher.verified == verified  # a locked name costs no argon2 either
    clock.advance(timedelta(seconds=61))
    with pytest.raises(identity.LoginFailed):
        login(ctx, "wrong password!", totp.at(ctx.now()))  # the sixth: locked twice as long
    clock.advance(timedelta(seconds=61))
    with pytest.raises(identity.OperatorLocked):
        login(ctx, PASSWORD, totp.at(ctx.now()))
    clock.advance(timedelta(seconds=60))
    assert login(ctx, PASSWORD, totp.at(ctx.now())).subject == "alice"
    clock.advance(timedelta(seconds=30))
    with pytest.raises(identity.LoginFailed):  # the count started again from zero
        login(ctx, "wrong password!", totp.at(ctx.now()))
    assert login(ctx, PASSWORD, totp.at(ctx.now() + timedelta(seconds=30))).subject == "alice"


def test_a_totp_code_signs_in_once(ctx: Context, clock: ManualClock) -> None:
    totp = create(ctx)
    code = totp.at(ctx.now())
    login(ctx, PASSWORD, code)
    with pytest.raises(identity.LoginFailed):
        login(ctx, PASSWORD, code)
    earlier = totp.at(ctx.now() - timedelta(seconds=30))
    if earlier != code:  # an older step than the one used is refused as well
        with pytest.raises(identity.LoginFailed):
            login(ctx, PASSWORD, earlier)
    clock.advance(timedelta(seconds=30))
    assert login(ctx, PASSWORD, totp.at(ctx.now())).subject == "alice"


def _codes(ctx: Context) -> int:
    with ctx.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(one_time_codes)).scalar())


def test_one_client_cannot_spray_codes_over_many_numbers(ctx: Context) -> None:
    sent = 0
    with pytest.raises(RateLimited):
        for n in range(50):
            mobile = f"1391931{n:04d}"
            run(ctx, lambda uow, m=mobile: identity.request_code(ctx, uow, m, client="10.0.0.9"))
            sent += 1
    assert sent == ctx.limits.otp_sends_per_address_per_minute == 10
    assert _codes(ctx) == 10  # the refused request wrote nothing
    run(ctx, lambda uow: identity.request_code(ctx, uow, "13919310099", client="10.0.0.10"))
    assert _codes(ctx) == 11  # another address has its own allowance


def answers(ctx: Context, clock: ManualClock, name: str, hasher: CountingHasher) -> list[Any]:
    """What eight wrong sign-ins against ``name`` a minute apart answer, and what each cost."""
    seen: list[Any] = []
    for attempt in range(8):
        verified = hasher.verified
        try:
            login(ctx, "wrong password!", "000000", name=name, client=f"10.0.0.{attempt}")
        except identity.CountedRefusal as refused:
            seen.append((refused.code, refused.detail, hasher.verified - verified))
        clock.advance(timedelta(seconds=20))
    return seen


def test_an_unknown_name_is_locked_out_as_a_known_one_is(
    ctx: Context, clock: ManualClock, hasher: CountingHasher
) -> None:
    with_limits(ctx, logins_per_account_per_minute=100)
    create(ctx, "alice")
    known = answers(ctx, clock, "alice", hasher)
    unknown = answers(ctx, clock, "mallory", hasher)
    locked_twice = ["operator_locked"] * 2  # the first lockout is a minute; then a sixth try
    assert [code for code, *_ in known] == ["login_failed"] * 5 + locked_twice + ["login_failed"]
    assert unknown == known  # same codes, same waits, same argon2 work (none while locked)
    assert known[5] == ("operator_locked", {"retry_after_s": 40}, 0)


def test_unknown_names_are_counted_by_a_keyed_hash_not_as_typed(
    ctx: Context, hasher: CountingHasher
) -> None:
    with pytest.raises(identity.LoginFailed):
        login(ctx, "wrong password!", "000000", name="secret-looking-name")
    rows = run(ctx, lambda uow: uow.connection.execute(select(unknown_sign_ins)).all())
    assert len(rows) == 1 and rows[0].failed_logins == 1
    assert "secret-looking-name" not in repr(rows)
