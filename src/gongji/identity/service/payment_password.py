"""The payment password (支付密码, docs/rules.md §16): set on the wallet's settings, asked before
money leaves a person's account — a grant offer, an authorization, a premium paid for someone —
at both front doors (pages and /api/v1), and reset with a code sent by SMS and the ID number.

It is a second factor beside the sign-in: a phone left signed in, or a token copied from it,
moves no money without it. Like an operator's password it is stored as an argon2 hash; each
check spends the machine-wide argon2 budget of payments
(``Limits.payment_password_checks_per_second``, apart from operators' sign-ins) with no
transaction open, and wrong attempts in a row lock the person's payments, for longer after each
further one (``Limits.payment_password_*``). A locked person is refused before argon2 runs.

Whether a person who has not set one may pay at all is the policy's
``payment_password_required`` of their insured region: where it is true (the shipped default),
a payment asks them to set one first; where it is false, only those who set one are asked.

The password never leaves this module: not logged, not in an answer, not in an idempotency
fingerprint (the front doors leave it out of the request hash), not in a person's history.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import ClassVar, Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gongji.core.errors import GongjiError
from gongji.core.ids import parse_resident_id
from gongji.core.masking import mask_phone
from gongji.identity.domain.payment_pins import check_new_pin, parse_pin
from gongji.identity.service.identity_operators import CountedRefusal
from gongji.identity.store import payment_pins_repo as repo
from gongji.identity.store.payment_pins_repo import PinRow
from gongji.kernel.context import Actor, Context
from gongji.kernel.errors import NotFound
from gongji.people.service import registry
from gongji.people.service.persons import (
    governing_enrolment,
    governing_enrolment_read,
    mobile_number,
    require_person,
)
from gongji.store.uow import UnitOfWork, run_in_transaction

RESET_CODE_DIGITS: Final = 6
RESET_CODE_TTL_US: Final = 5 * 60 * 1_000_000
"""As long as a sign-in code: the SMS gateway sends it with the login template, which says five
minutes."""
RESET_ATTEMPTS_MAX: Final = 5
_HASHER = PasswordHasher()


class PaymentPasswordRequired(GongjiError):
    code: ClassVar[str] = "payment_password_required"
    message_zh: ClassVar[str] = "请输入 6 位支付密码"
    message_en: ClassVar[str] = "Enter your 6-digit payment password"


class PaymentPasswordNotSet(GongjiError):
    code: ClassVar[str] = "payment_password_not_set"
    message_zh: ClassVar[str] = "请先在「钱包设置」中设置 6 位支付密码"
    message_en: ClassVar[str] = "Set a 6-digit payment password in the wallet's settings first"


class PaymentPasswordWrong(CountedRefusal):
    code: ClassVar[str] = "payment_password_wrong"
    message_zh: ClassVar[str] = "支付密码不正确，还可尝试 {attempts_left} 次"
    message_en: ClassVar[str] = "Wrong payment password; {attempts_left} attempts left"


class PaymentPasswordLocked(CountedRefusal):
    code: ClassVar[str] = "payment_password_locked"
    message_zh: ClassVar[str] = (
        "支付密码错误次数过多，已锁定，请 {retry_after_s} 秒后再试，或通过短信验证码重置支付密码"
    )
    message_en: ClassVar[str] = (
        "Too many wrong payment passwords; locked for {retry_after_s} s, or reset it by SMS"
    )


class PaymentPasswordCurrentRequired(GongjiError):
    code: ClassVar[str] = "payment_password_current_required"
    message_zh: ClassVar[str] = "已设置支付密码，修改须输入原支付密码"
    message_en: ClassVar[str] = "A payment password is set: enter it to change it"


class PaymentResetRefused(CountedRefusal):
    code: ClassVar[str] = "payment_reset_refused"
    message_zh: ClassVar[str] = "验证码或身份证号不正确"
    message_en: ClassVar[str] = "The code or the ID number is not correct"


class PaymentResetExpired(GongjiError):
    code: ClassVar[str] = "payment_reset_expired"
    message_zh: ClassVar[str] = "验证码已失效或错误次数过多，请重新获取"
    message_en: ClassVar[str] = "The code has expired or was mistyped too often; request a new one"


class PaymentResetNoMobile(GongjiError):
    code: ClassVar[str] = "payment_reset_no_mobile"
    message_zh: ClassVar[str] = "未登记手机号，无法通过短信重置，请到医保经办机构办理"
    message_en: ClassVar[str] = "No mobile number is registered; ask the bureau to reset it"


@dataclass(frozen=True, slots=True)
class PinStatus:
    """What the settings page and ``GET /api/v1/payment-password`` show: never the password."""

    is_set: bool
    required: bool
    locked_until_us: int | None
    set_at_us: int | None


def status(ctx: Context, uow: UnitOfWork, psn_no: str) -> PinStatus:
    row = repo.pin(uow.connection, psn_no)
    locked = row.locked_until_us if row and (row.locked_until_us or 0) > ctx.now_us() else None
    return PinStatus(
        row is not None, required_for(ctx, uow, psn_no), locked, row.set_at_us if row else None
    )


def required_for(ctx: Context, uow: UnitOfWork, psn_no: str) -> bool:
    """The policy of the person's insured region; a person with no enrolment: required."""
    enrolment = governing_enrolment(uow, psn_no)
    if enrolment is None or enrolment.region not in ctx.regions:
        return True
    return ctx.policy(enrolment.region).payment_password_required


# --- asked before money leaves -------------------------------------------------------------


def confirm_payment(ctx: Context, payer: Actor, pin: str | None) -> None:
    """Return when ``payer`` may move money now; raise otherwise.

    Runs its own transactions and must be called before the payment's: argon2 with none open
    (on SQLite a write transaction holds the database's one write lock), then one that counts
    the attempt and commits it, so a wrong password counts even though the payment is refused.
    """
    psn_no = payer.id

    def load(uow: UnitOfWork) -> tuple[PinRow | None, bool]:
        uow.prefetch([repo.pin_read(psn_no), governing_enrolment_read(psn_no)])  # one trip
        return repo.pin(uow.connection, psn_no), required_for(ctx, uow, psn_no)

    row, required = run_in_transaction(ctx.engine, load, read_only=True)
    if row is None:
        if required:
            raise PaymentPasswordNotSet()
        return
    _refuse_if_locked(ctx, row)
    if pin is None or not pin.strip():
        raise PaymentPasswordRequired()
    typed = parse_pin(pin)
    _admit_argon2(ctx)
    matches = _matches(row.pin_hash, typed)
    run_in_transaction(ctx.engine, lambda uow: _settle_attempt(ctx, uow, psn_no, row, matches))


def _settle_attempt(
    ctx: Context, uow: UnitOfWork, psn_no: str, checked: PinRow, matches: bool
) -> None:
    """Record the attempt's outcome under the row's lock; a refusal is committed, then raised."""
    row = repo.pin(uow.connection, psn_no, for_update=True)
    if row is None:  # reset or removed meanwhile: the verdict was on another password
        raise PaymentPasswordRequired()
    _refuse_if_locked(ctx, row)
    if matches and row.pin_hash == checked.pin_hash:
        if row.failed_attempts or row.locked_until_us is not None:
            repo.update_pin(uow.connection, psn_no, failed_attempts=0, locked_until_us=None)
            uow.commit()
        return
    refusal = _count_failure(ctx, uow, row)
    uow.commit()
    raise refusal


def _refuse_if_locked(ctx: Context, row: PinRow) -> None:
    now_us = ctx.now_us()
    if row.locked_until_us is not None and row.locked_until_us > now_us:
        wait_s = -(-(row.locked_until_us - now_us) // 1_000_000)
        raise PaymentPasswordLocked(retry_after_s=wait_s)


def _count_failure(ctx: Context, uow: UnitOfWork, row: PinRow) -> CountedRefusal:
    """One more wrong attempt; from the N-th in a row payments are locked, longer each time."""
    limits = ctx.limits
    failures = row.failed_attempts + 1
    beyond = failures - limits.payment_password_failures_before_lockout
    if beyond < 0:
        repo.update_pin(uow.connection, row.psn_no, failed_attempts=failures)
        return PaymentPasswordWrong(attempts_left=-beyond)
    doubled = limits.payment_password_lockout_first_s << min(beyond, 32)
    lockout_s = min(doubled, limits.payment_password_lockout_max_s)
    locked_until_us = ctx.now_us() + lockout_s * 1_000_000
    repo.update_pin(
        uow.connection, row.psn_no, failed_attempts=failures, locked_until_us=locked_until_us
    )
    return PaymentPasswordLocked(retry_after_s=lockout_s)


def _matches(pin_hash: str, pin: str) -> bool:
    try:
        return _HASHER.verify(pin_hash, pin)
    except (VerificationError, InvalidHashError):
        return False


# --- setting and changing ------------------------------------------------------------------


def set_pin(
    ctx: Context, person: Actor, new_pin: str, repeated: str, current: str | None = None
) -> None:
    """Set the first password, or change it (``current`` is then asked, like a payment, and a
    wrong one counts towards the lockout). The new one must not be easy to guess from what a
    relative knows: the birth date and the ID number, read from the encrypted ID in memory."""
    psn_no = person.id

    def load(uow: UnitOfWork) -> tuple[PinRow | None, str]:
        found = require_person(uow, psn_no)
        return repo.pin(uow.connection, psn_no), found.id_enc

    row, id_enc = run_in_transaction(ctx.engine, load, read_only=True)
    id_number = ctx.vault.decrypt(id_enc, context="id_number")
    born = parse_resident_id(id_number).birth_date
    chosen = check_new_pin(new_pin, repeated, born, id_number)
    if row is not None:
        if current is None or not current.strip():
            raise PaymentPasswordCurrentRequired()
        confirm_payment(ctx, person, current)
    _admit_argon2(ctx)
    pin_hash = _HASHER.hash(chosen)
    run_in_transaction(ctx.engine, lambda uow: _store(ctx, uow, person, pin_hash, "set"))


def _store(ctx: Context, uow: UnitOfWork, person: Actor, pin_hash: str, how: str) -> None:
    psn_no, now_us = person.id, ctx.now_us()
    fresh = {
        "pin_hash": pin_hash,
        "set_at_us": now_us,
        "failed_attempts": 0,
        "locked_until_us": None,
        "reset_code_hash": None,
        "reset_expires_at_us": None,
        "reset_attempts": 0,
    }
    if repo.pin(uow.connection, psn_no, for_update=True) is None:
        repo.insert_pin(uow.connection, {"psn_no": psn_no, **fresh})
    else:
        repo.update_pin(uow.connection, psn_no, **fresh)
    registry.record_event(uow.connection, psn_no, f"payment_password_{how}", person.label, now_us)
    uow.commit()


# --- reset by SMS code and ID number -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResetCodeSent:
    mobile_masked: str
    expires_at_us: int


def request_reset(ctx: Context, uow: UnitOfWork, person: Actor) -> ResetCodeSent:
    """Send a reset code to the person's registered mobile (the SMS gateway's ``send_code``),
    its hash kept on the password's row; a new request replaces the last code. Counted against
    the same per-number limit as sign-in codes."""
    psn_no = person.id
    row = repo.pin(uow.connection, psn_no, for_update=True)
    if row is None:
        raise NotFound(what="支付密码")
    number = mobile_number(ctx, uow, psn_no)
    if number is None:
        raise PaymentResetNoMobile()
    ctx.limiter.admit(f"payment reset:{psn_no}", ctx.limits.logins_per_account_per_minute)
    code = f"{secrets.randbelow(10**RESET_CODE_DIGITS):0{RESET_CODE_DIGITS}d}"
    expires_at_us = ctx.now_us() + RESET_CODE_TTL_US
    repo.update_pin(
        uow.connection,
        psn_no,
        reset_code_hash=_code_hash(psn_no, code),
        reset_expires_at_us=expires_at_us,
        reset_attempts=0,
    )
    ctx.sms.send_code(number, code)
    return ResetCodeSent(mask_phone(number), expires_at_us)


def run_request_reset(ctx: Context, person: Actor) -> ResetCodeSent:
    """:func:`request_reset` in a committed transaction of its own (what the front doors call)."""

    def work(uow: UnitOfWork) -> ResetCodeSent:
        sent = request_reset(ctx, uow, person)
        uow.commit()
        return sent

    return run_in_transaction(ctx.engine, work)


def reset_pin(
    ctx: Context, person: Actor, code: str, id_number: str, new_pin: str, repeated: str
) -> None:
    """The code sent by :func:`request_reset` and the person's whole ID number, both right, set
    a new password and lift any lockout. A wrong pair counts (five, then a new code is needed);
    the answer does not say which of the two was wrong."""
    psn_no = person.id

    def load(uow: UnitOfWork) -> str:
        return require_person(uow, psn_no).id_enc

    id_enc = run_in_transaction(ctx.engine, load, read_only=True)
    own_id = ctx.vault.decrypt(id_enc, context="id_number")
    chosen = check_new_pin(new_pin, repeated, parse_resident_id(own_id).birth_date, own_id)
    given_id = id_number.strip().upper()
    id_ok = hmac.compare_digest(given_id.encode(), own_id.upper().encode())

    def check(uow: UnitOfWork) -> None:
        row = repo.pin(uow.connection, psn_no, for_update=True)
        now_us = ctx.now_us()
        if (
            row is None
            or row.reset_code_hash is None
            or (row.reset_expires_at_us or 0) <= now_us
            or row.reset_attempts >= RESET_ATTEMPTS_MAX
        ):
            raise PaymentResetExpired()
        code_ok = hmac.compare_digest(row.reset_code_hash, _code_hash(psn_no, code.strip()))
        if not (code_ok and id_ok):
            repo.update_pin(uow.connection, psn_no, reset_attempts=row.reset_attempts + 1)
            uow.commit()
            raise PaymentResetRefused()
        repo.update_pin(uow.connection, psn_no, reset_code_hash=None, reset_expires_at_us=None)
        uow.commit()

    run_in_transaction(ctx.engine, check)
    _admit_argon2(ctx)
    pin_hash = _HASHER.hash(chosen)
    run_in_transaction(ctx.engine, lambda uow: _store(ctx, uow, person, pin_hash, "reset"))


def _code_hash(psn_no: str, code: str) -> str:
    return hashlib.sha256(f"payment reset:{psn_no}:{code}".encode()).hexdigest()


def _admit_argon2(ctx: Context) -> None:
    """The machine-wide budget of payment passwords' argon2 work, apart from operators'."""
    limit = ctx.limits.payment_password_checks_per_second
    ctx.limiter.admit("argon2 payment", limit, window_s=1.0)
