"""Signing in, on both databases: one-time codes for persons, password + TOTP for operators,
bearer tokens for both. The clock is the test's; the SMS gateway is the development one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import TypeVar

import pyotp
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from gongji.cli.main import app
from gongji.core.clock import ManualClock
from gongji.core.enrolment import EnrolmentStatus
from gongji.core.ids import make_resident_id
from gongji.identity.service import identity
from gongji.kernel.context import Actor, ActorKind, Context, Role
from gongji.kernel.errors import NotFound
from gongji.kernel.sms import LogSmsGateway
from gongji.people.service.persons import PersonInput, register_person
from gongji.store.tables_access import access_tokens, operators
from gongji.store.uow import UnitOfWork, run_in_transaction

T = TypeVar("T")
MOBILE = "13812345678"
PASSWORD = "correct horse battery"


def run(ctx: Context, work: Callable[[UnitOfWork], T]) -> T:
    """One committed unit of work, as an entrypoint runs it."""

    def committed(uow: UnitOfWork) -> T:
        result = work(uow)
        uow.commit()
        return result

    return run_in_transaction(ctx.engine, committed)


def verify(ctx: Context, code: str, mobile: str = MOBILE, psn_no: str | None = None) -> str:
    """verify_code as the login route runs it: a refused code still counts its attempt."""

    def work(uow: UnitOfWork) -> str:
        try:
            issued = identity.verify_code(ctx, uow, mobile, code, psn_no)
        except identity.OtpRefused:
            uow.commit()
            raise
        uow.commit()
        return issued.token

    return run_in_transaction(ctx.engine, work)


def request(ctx: Context, mobile: str = MOBILE) -> identity.CodeRequested:
    return run(ctx, lambda uow: identity.request_code(ctx, uow, mobile))


def sent_code(ctx: Context, mobile: str = MOBILE) -> str | None:
    gateway = ctx.sms
    assert isinstance(gateway, LogSmsGateway)
    return gateway.last_code(mobile)


def register(ctx: Context, psn_no: str, mobile: str = MOBILE, *, sequence: int = 11) -> None:
    data = PersonInput(
        psn_no=psn_no,
        id_number=make_resident_id("620100", date(1970, 1, 1), sequence),
        name="张三丰",
        mobile=mobile,
        insutype="390",
        region="620100",
        status=EnrolmentStatus.NORMAL,
        employment="employed",
        start_date=date(2020, 1, 1),
    )
    run(ctx, lambda uow: register_person(ctx, uow, data))


def actor_of(ctx: Context, token: str) -> Actor:
    return identity.resolve_token(ctx, ctx.engine, token)


# --- one-time codes -------------------------------------------------------------------------


def test_a_person_signs_in_with_the_code_sent_to_their_mobile(ctx: Context) -> None:
    register(ctx, "P1")
    requested = request(ctx)
    code = sent_code(ctx)
    assert requested.mobile_masked == "138****5678"
    assert code is not None and len(code) == 6 and code.isdigit()
    token = verify(ctx, code)
    assert actor_of(ctx, token) == Actor(ActorKind.PERSON, "P1")


def test_an_unknown_number_gets_the_same_answer_but_no_code(ctx: Context) -> None:
    requested = request(ctx, "13900000000")
    assert requested.mobile_masked == "139****0000"
    assert requested.expires_at_us == ctx.now_us() + identity.CODE_TTL_US
    assert sent_code(ctx, "13900000000") is None
    with pytest.raises(identity.OtpInvalid):
        verify(ctx, "123456", "13900000000")


@pytest.mark.parametrize("mobile", ["12345", "23812345678", "1381234567a", "138123456789", ""])
def test_a_mobile_number_is_eleven_digits_starting_with_1(ctx: Context, mobile: str) -> None:
    with pytest.raises(identity.MobileInvalid) as refused:
        request(ctx, mobile)
    assert refused.value.code == "mobile_invalid"


def test_a_wrong_code_is_refused_and_the_right_one_still_works(ctx: Context) -> None:
    register(ctx, "P1")
    request(ctx)
    code = sent_code(ctx)
    assert code is not None
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(identity.OtpInvalid) as refused:
        verify(ctx, wrong)
    assert refused.value.message() == "验证码不正确"
    assert actor_of(ctx, verify(ctx, code)).id == "P1"


def test_five_wrong_attempts_spend_the_code(ctx: Context) -> None:
    register(ctx, "P1")
    request(ctx)
    code = sent_code(ctx)
    assert code is not None
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(identity.CODE_ATTEMPTS_MAX):
        with pytest.raises(identity.OtpInvalid):
            verify(ctx, wrong)
    with pytest.raises(identity.OtpAttemptsExceeded) as refused:
        verify(ctx, code)
    assert refused.value.code == "otp_attempts_exceeded"
    request(ctx)  # a new code starts a new count
    fresh = sent_code(ctx)
    assert fresh is not None
    assert actor_of(ctx, verify(ctx, fresh)).id == "P1"


def test_a_code_expires_after_five_minutes(ctx: Context, clock: ManualClock) -> None:
    register(ctx, "P1")
    request(ctx)
    code = sent_code(ctx)
    assert code is not None
    clock.advance(timedelta(minutes=5))
    with pytest.raises(identity.OtpExpired) as refused:
        verify(ctx, code)
    assert refused.value.code == "otp_expired"


def test_a_code_just_before_expiry_still_works(ctx: Context, clock: ManualClock) -> None:
    register(ctx, "P1")
    request(ctx)
    code = sent_code(ctx)
    assert code is not None
    clock.advance(timedelta(minutes=5) - timedelta(microseconds=1))
    assert actor_of(ctx, verify(ctx, code)).id == "P1"


def test_a_code_is_single_use(ctx: Context) -> None:
    register(ctx, "P1")
    request(ctx)
    code = sent_code(ctx)
    assert code is not None
    verify(ctx, code)
    with pytest.raises(identity.OtpInvalid):
        verify(ctx, code)


def test_a_new_code_replaces_the_previous_one(ctx: Context) -> None:
    register(ctx, "P1")
    request(ctx)
    first = sent_code(ctx)
    request(ctx)
    second = sent_code(ctx)
    assert first is not None and second is not None
    if first != second:
        with pytest.raises(identity.OtpInvalid):
            verify(ctx, first)
    assert actor_of(ctx, verify(ctx, second)).id == "P1"


def test_five_codes_per_number_per_hour(ctx: Context, clock: ManualClock) -> None:
    for mobile in (MOBILE, "13900000000"):  # known or not, the limit is the same
        if mobile == MOBILE:
            register(ctx, "P1")
        for _ in range(identity.CODES_PER_HOUR_MAX):
            request(ctx, mobile)
        with pytest.raises(identity.OtpRateLimited) as refused:
            request(ctx, mobile)
        assert refused.value.code == "otp_rate_limited"
    clock.advance(timedelta(hours=1))
    request(ctx)
    request(ctx, "13900000000")


def test_a_shared_number_asks_which_person(ctx: Context) -> None:
    register(ctx, "P1", sequence=11)
    register(ctx, "P2", sequence=12)
    request(ctx)
    code = sent_code(ctx)
    assert code is not None
    with pytest.raises(identity.MobileAmbiguous) as refused:
        verify(ctx, code)
    assert refused.value.code == "mobile_ambiguous"
    assert [c["psn_no"] for c in refused.value.detail["candidates"]] == ["P1", "P2"]
    assert refused.value.detail["candidates"][0]["name"] == "张**"
    assert actor_of(ctx, verify(ctx, code, psn_no="P2")).id == "P2"


def test_a_psn_no_not_on_the_number_is_a_wrong_answer(ctx: Context) -> None:
    register(ctx, "P1", sequence=11)
    register(ctx, "P9", "13700000000", sequence=13)
    request(ctx)
    code = sent_code(ctx)
    assert code is not None
    with pytest.raises(identity.OtpInvalid):
        verify(ctx, code, psn_no="P9")


# --- tokens ---------------------------------------------------------------------------------


def test_a_person_token_lasts_seven_days(ctx: Context, clock: ManualClock) -> None:
    register(ctx, "P1")
    issued = run(ctx, lambda uow: identity.issue_person_token(ctx, uow, "P1"))
    assert issued.expires_at_us == ctx.now_us() + 7 * 24 * 3600 * 1_000_000
    assert len(issued.token) >= 43
    clock.advance(timedelta(days=7) - timedelta(seconds=1))
    assert actor_of(ctx, issued.token).id == "P1"
    clock.advance(timedelta(seconds=1))
    with pytest.raises(identity.Unauthorized) as refused:
        actor_of(ctx, issued.token)
    assert refused.value.code == "unauthorized"


def test_a_revoked_token_no_longer_works(ctx: Context) -> None:
    register(ctx, "P1")
    issued = run(ctx, lambda uow: identity.issue_person_token(ctx, uow, "P1"))
    assert run(ctx, lambda uow: identity.revoke_token(ctx, uow, issued.token)) is True
    with pytest.raises(identity.Unauthorized):
        actor_of(ctx, issued.token)
    assert run(ctx, lambda uow: identity.revoke_token(ctx, uow, issued.token)) is False


@pytest.mark.parametrize("token", ["", "nope", "x" * 500, "has space", "é" * 43])
def test_an_unknown_or_malformed_token_is_unauthorized(ctx: Context, token: str) -> None:
    with pytest.raises(identity.Unauthorized):
        actor_of(ctx, token)


def test_tokens_are_stored_hashed(ctx: Context) -> None:
    register(ctx, "P1")
    issued = run(ctx, lambda uow: identity.issue_person_token(ctx, uow, "P1"))
    with ctx.engine.connect() as connection:
        stored = connection.execute(select(access_tokens.c.token_hash)).scalars().all()
    assert issued.token not in stored
    assert len(stored) == 1 and len(stored[0]) == 64


def test_a_token_for_no_such_person_is_not_issued(ctx: Context) -> None:
    with pytest.raises(NotFound):
        run(ctx, lambda uow: identity.issue_person_token(ctx, uow, "P404"))


def test_who_am_i_shows_masked_data_only(ctx: Context) -> None:
    register(ctx, "P1")
    me = run(ctx, lambda uow: identity.who_am_i(ctx, uow, Actor(ActorKind.PERSON, "P1")))
    assert (me.id, me.name_masked, me.mobile_masked) == ("P1", "张**", "138****5678")


# --- operators ------------------------------------------------------------------------------


def create(ctx: Context, name: str = "alice", *roles: str, password: str | None = PASSWORD) -> str:
    """The operator's TOTP secret, read back from the provisioning URI."""
    chosen = roles or ("clerk",)
    created = run(
        ctx, lambda uow: identity.create_operator(ctx, uow, name, chosen, password, "620100")
    )
    assert created.provisioning_uri.startswith("otpauth://totp/")
    secret = pyotp.parse_uri(created.provisioning_uri).secret
    assert isinstance(secret, str)
    return secret


def login(ctx: Context, name: str, password: str, code: str) -> identity.IssuedToken:
    return run(ctx, lambda uow: identity.operator_login(ctx, uow, name, password, code))


def test_an_operator_signs_in_with_password_and_totp(ctx: Context) -> None:
    secret = create(ctx, "alice", "clerk", "reviewer")
    issued = login(ctx, "alice", PASSWORD, pyotp.TOTP(secret).at(ctx.now()))
    assert issued.roles == {Role.CLERK, Role.REVIEWER}
    assert issued.expires_at_us == ctx.now_us() + 12 * 3600 * 1_000_000
    actor = actor_of(ctx, issued.token)
    assert actor == Actor(ActorKind.OPERATOR, "alice", frozenset({Role.CLERK, Role.REVIEWER}))
    me = run(ctx, lambda uow: identity.who_am_i(ctx, uow, actor))
    assert (me.region, me.roles) == ("620100", actor.roles)


def test_the_previous_totp_step_is_accepted_but_not_older(ctx: Context) -> None:
    secret = create(ctx)
    totp = pyotp.TOTP(secret)
    login(ctx, "alice", PASSWORD, totp.at(ctx.now() - timedelta(seconds=30)))
    older = totp.at(ctx.now() - timedelta(seconds=90))
    if older not in {totp.at(ctx.now() + timedelta(seconds=s)) for s in (-30, 0, 30)}:
        with pytest.raises(identity.LoginFailed):
            login(ctx, "alice", PASSWORD, older)


def test_every_wrong_part_gets_the_same_refusal(ctx: Context) -> None:
    secret = create(ctx)
    right = pyotp.TOTP(secret).at(ctx.now())
    wrong_totp = f"{(int(right) + 1) % 1_000_000:06d}"
    refusals = []
    for name, password, code in (
        ("alice", "wrong password!", right),
        ("alice", PASSWORD, wrong_totp),
        ("alice", PASSWORD, "abc"),
        ("nobody", PASSWORD, right),
    ):
        with pytest.raises(identity.LoginFailed) as refused:
            login(ctx, name, password, code)
        refusals.append(refused.value.as_dict())
    assert all(r == refusals[0] for r in refusals)
    assert refusals[0]["code"] == "login_failed"
    assert refusals[0]["message"] == "用户名、密码或动态口令不正确"


def test_an_operator_without_a_password_cannot_sign_in(ctx: Context) -> None:
    secret = create(ctx, "bob", password=None)
    with pytest.raises(identity.LoginFailed):
        login(ctx, "bob", "", pyotp.TOTP(secret).at(ctx.now()))
    issued = run(ctx, lambda uow: identity.issue_operator_token(ctx, uow, "bob"))
    assert actor_of(ctx, issued.token).roles == {Role.CLERK}


def test_an_operator_token_lasts_twelve_hours(ctx: Context, clock: ManualClock) -> None:
    create(ctx)
    issued = run(ctx, lambda uow: identity.issue_operator_token(ctx, uow, "alice"))
    clock.advance(timedelta(hours=12))
    with pytest.raises(identity.Unauthorized):
        actor_of(ctx, issued.token)


def test_operator_refusals(ctx: Context) -> None:
    create(ctx)
    with pytest.raises(identity.OperatorExists) as exists:
        create(ctx)
    assert exists.value.code == "operator_exists"
    with pytest.raises(identity.RoleUnknown) as unknown_role:
        create(ctx, "carol", "superuser")
    assert unknown_role.value.code == "role_unknown"
    assert "superuser" in unknown_role.value.message()
    with pytest.raises(identity.OperatorUnknown) as unknown:
        run(ctx, lambda uow: identity.issue_operator_token(ctx, uow, "nobody"))
    assert unknown.value.code == "operator_unknown"


def test_operator_secrets_are_not_stored_in_clear(ctx: Context) -> None:
    secret = create(ctx)
    with ctx.engine.connect() as connection:
        row = connection.execute(select(operators)).mappings().one()
    assert secret not in row["totp_secret_enc"]
    assert PASSWORD not in row["password_hash"]
    assert row["password_hash"].startswith("$argon2")


def test_expired_codes_and_tokens_are_purged(ctx: Context, clock: ManualClock) -> None:
    register(ctx, "P1")
    request(ctx)
    run(ctx, lambda uow: identity.issue_person_token(ctx, uow, "P1"))
    assert run(ctx, lambda uow: identity.purge_expired_access(ctx, uow)) == 0
    clock.advance(timedelta(days=9))
    assert run(ctx, lambda uow: identity.purge_expired_access(ctx, uow)) == 2


# --- the command line -----------------------------------------------------------------------


def test_the_command_line_creates_operators_and_prints_tokens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GONGJI_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("GONGJI_DATABASE_URL", raising=False)
    monkeypatch.delenv("GONGJI_SECRET_KEY", raising=False)
    runner = CliRunner()
    created = runner.invoke(
        app,
        ["operators", "create", "alice", "--role", "clerk", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert created.exit_code == 0, created.output
    assert created.stdout.startswith("otpauth://totp/gongji:alice?secret=")
    token = runner.invoke(app, ["operators", "token", "alice"])
    assert token.exit_code == 0 and len(token.stdout.strip()) == 43
    again = runner.invoke(app, ["operators", "create", "alice", "--role", "clerk"])
    assert again.exit_code == 2
    assert again.stderr.strip() == "gongji: operator_exists: 操作员 alice 已存在"
    nobody = runner.invoke(app, ["persons", "token", "P404"])
    assert (nobody.exit_code, nobody.stderr.strip()) == (2, "gongji: not_found: 未找到人员")
