"""Who is asking. Persons sign in with their mobile number and a one-time code; operators with a
password (argon2) and a TOTP code; both then hold an opaque bearer token.

Secrets are never stored as given: one-time codes and tokens as SHA-256 hashes, passwords as
argon2 hashes, TOTP seeds encrypted by the vault. Every time comes from the injected clock (a
test deployment's clock moves codes, tokens and TOTP windows together).

Requesting a code answers the same whether or not the number belongs to anyone (no account
enumeration); a code is only sent when it does. A failed code check is raised as an
:class:`OtpRefused` *after* the attempt has been counted: the entrypoint commits before letting
it propagate, or the five-attempt limit would roll back with the refusal.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from sqlalchemy import Connection, Engine

from gongji.core.clock import from_us
from gongji.core.errors import GongjiError
from gongji.core.masking import mask_phone
from gongji.identity.service import identity_operators as ops
from gongji.identity.service.identity_operators import CountedRefusal as CountedRefusal
from gongji.identity.service.identity_operators import CreatedOperator as CreatedOperator
from gongji.identity.service.identity_operators import LoginFailed as LoginFailed
from gongji.identity.service.identity_operators import OperatorExists as OperatorExists
from gongji.identity.service.identity_operators import OperatorLocked as OperatorLocked
from gongji.identity.service.identity_operators import OperatorUnknown as OperatorUnknown
from gongji.identity.service.identity_operators import RoleUnknown as RoleUnknown
from gongji.identity.service.identity_operators import create_operator as create_operator
from gongji.identity.store import access_repo as repo
from gongji.identity.store.access_repo import TokenRow
from gongji.kernel.context import Actor, ActorKind, Context, Role
from gongji.kernel.errors import NotFound
from gongji.people.service import registry
from gongji.store.records import PersonRecord
from gongji.store.uow import UnitOfWork, run_in_transaction

CODE_DIGITS = 6
CODE_TTL_US = 5 * 60 * 1_000_000
CODES_PER_HOUR_MAX = 5
CODE_ATTEMPTS_MAX = 5
HOUR_US = 3600 * 1_000_000
PERSON_TOKEN_TTL_US = 7 * 24 * HOUR_US
OPERATOR_TOKEN_TTL_US = 12 * HOUR_US
TOKEN_BYTES = 32
TOKEN_LENGTH_MAX = 128
ACCESS_RECORDS_KEPT_US = 24 * HOUR_US
_MOBILE = re.compile(r"^1[0-9]{10}$")
_CODE = re.compile(r"^[0-9]{6}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]+$")


class MobileInvalid(GongjiError):
    code: ClassVar[str] = "mobile_invalid"
    message_zh: ClassVar[str] = "手机号须为以 1 开头的 11 位数字"
    message_en: ClassVar[str] = "A mobile number is 11 digits starting with 1"


class OtpRateLimited(GongjiError):
    code: ClassVar[str] = "otp_rate_limited"
    message_zh: ClassVar[str] = "验证码发送过于频繁，请一小时后再试"
    message_en: ClassVar[str] = "Too many codes requested; try again within the hour"


class OtpRefused(CountedRefusal):
    """A code check that failed after its attempt was counted: commit, then propagate."""


class OtpInvalid(OtpRefused):
    code: ClassVar[str] = "otp_invalid"
    message_zh: ClassVar[str] = "验证码不正确"
    message_en: ClassVar[str] = "The code is not correct"


class OtpExpired(OtpRefused):
    code: ClassVar[str] = "otp_expired"
    message_zh: ClassVar[str] = "验证码已过期，请重新获取"
    message_en: ClassVar[str] = "The code has expired; request a new one"


class OtpAttemptsExceeded(OtpRefused):
    code: ClassVar[str] = "otp_attempts_exceeded"
    message_zh: ClassVar[str] = "验证码错误次数过多，请重新获取"
    message_en: ClassVar[str] = "Too many wrong codes; request a new one"


class MobileAmbiguous(GongjiError):
    """Only raised for a correct code, so the candidates are shown to the number's holder."""

    code: ClassVar[str] = "mobile_ambiguous"
    message_zh: ClassVar[str] = "该手机号登记了多名参保人，请选择人员编号"
    message_en: ClassVar[str] = "Several insured persons share this number; choose a psn_no"


class Unauthorized(GongjiError):
    code: ClassVar[str] = "unauthorized"
    message_zh: ClassVar[str] = "未登录或登录已失效，请重新登录"
    message_en: ClassVar[str] = "Not signed in, or the session has expired"


@dataclass(frozen=True, slots=True)
class CodeRequested:
    mobile_masked: str
    expires_at_us: int


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """The token in clear exists only here, once: the database keeps its hash."""

    token: str
    kind: ActorKind
    subject: str
    expires_at_us: int
    roles: frozenset[Role] = frozenset()

    @property
    def expires_at(self) -> datetime:
        return from_us(self.expires_at_us)


@dataclass(frozen=True, slots=True)
class Me:
    kind: ActorKind
    id: str
    name_masked: str | None
    mobile_masked: str | None
    roles: frozenset[Role]
    region: str | None


def normalize_mobile(mobile: str) -> str:
    number = mobile.strip()
    if not _MOBILE.match(number):
        raise MobileInvalid()
    return number


def _code_hash(mobile_hash: str, code: str) -> str:
    return hashlib.sha256(f"{mobile_hash}:{code}".encode()).hexdigest()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _candidates(connection: Connection, mobile_hash: str) -> list[PersonRecord]:
    found = registry.persons_by_mobile_hash(connection, mobile_hash)
    return [person for person in found if person.death_date is None]


# --- one-time codes -------------------------------------------------------------------------


def request_code(
    ctx: Context, uow: UnitOfWork, mobile: str, *, client: str | None = None
) -> CodeRequested:
    """Store a fresh code's hash and send the code, if the number belongs to someone.

    The row is written either way, so the rate limit and the answer do not tell whether the
    number is known. The client's address and the number are counted first (``rate_limited``),
    so a flood of requests reaches neither the database nor the SMS provider.
    """
    number = normalize_mobile(mobile)
    mobile_hash = ctx.vault.mobile_hash(number)
    keys = [(f"otp number:{mobile_hash}", ctx.limits.logins_per_account_per_minute)]
    if client is not None:
        keys.insert(0, (f"otp address:{client}", ctx.limits.otp_sends_per_address_per_minute))
    ctx.limiter.admit_all(keys)
    connection, now_us = uow.connection, ctx.now_us()
    repo.lock_mobile(connection, mobile_hash)
    if repo.count_codes_after(connection, mobile_hash, now_us - HOUR_US) >= CODES_PER_HOUR_MAX:
        raise OtpRateLimited()
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    expires_at_us = now_us + CODE_TTL_US
    repo.insert_code(
        connection,
        mobile_hash=mobile_hash,
        code_hash=_code_hash(mobile_hash, code),
        created_at_us=now_us,
        expires_at_us=expires_at_us,
    )
    if _candidates(connection, mobile_hash):
        ctx.sms.send_code(number, code)
    return CodeRequested(mask_phone(number), expires_at_us)


def verify_code(
    ctx: Context,
    uow: UnitOfWork,
    mobile: str,
    code: str,
    psn_no: str | None = None,
    *,
    client: str | None = None,
) -> IssuedToken:
    """Check the number's latest code and sign its person in; the code then is spent.

    Raises :class:`OtpRefused` after counting the attempt (commit, then propagate) and
    :class:`MobileAmbiguous` without spending the code (the holder retries with a psn_no).
    """
    number = normalize_mobile(mobile)
    mobile_hash = ctx.vault.mobile_hash(number)
    ops.admit_sign_in(ctx, client, f"mobile:{mobile_hash}")
    connection, now_us = uow.connection, ctx.now_us()
    repo.lock_mobile(connection, mobile_hash)
    row = repo.latest_code(connection, mobile_hash)
    if row is None or row.used_at_us is not None:
        raise OtpInvalid()
    if row.attempts >= CODE_ATTEMPTS_MAX:
        raise OtpAttemptsExceeded()
    if row.expires_at_us <= now_us:
        raise OtpExpired()
    repo.count_code_attempt(connection, row.id, row.attempts + 1)
    given = code.strip() if _CODE.match(code.strip()) else ""
    if not hmac.compare_digest(row.code_hash, _code_hash(mobile_hash, given)):
        raise OtpInvalid()
    chosen = _choose_person(_candidates(connection, mobile_hash), psn_no)
    repo.spend_code(connection, row.id, now_us)
    return _issue(ctx, uow, ActorKind.PERSON, chosen, PERSON_TOKEN_TTL_US)


def _choose_person(candidates: list[PersonRecord], psn_no: str | None) -> str:
    """The one person the number signs in; a psn_no not among them is a wrong answer."""
    if psn_no is not None:
        if any(person.psn_no == psn_no for person in candidates):
            return psn_no
        raise OtpInvalid()
    if not candidates:
        raise OtpInvalid()
    if len(candidates) > 1:
        listed = [{"psn_no": p.psn_no, "name": p.name_masked} for p in candidates]
        raise MobileAmbiguous(candidates=listed)
    return candidates[0].psn_no


# --- bearer tokens --------------------------------------------------------------------------


def _issue(
    ctx: Context,
    uow: UnitOfWork,
    kind: ActorKind,
    subject: str,
    ttl_us: int,
    roles: frozenset[Role] = frozenset(),
) -> IssuedToken:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now_us = ctx.now_us()
    row = TokenRow(
        token_hash=_token_hash(token),
        subject_kind=kind.value,
        subject_id=subject,
        created_at_us=now_us,
        expires_at_us=now_us + ttl_us,
        revoked_at_us=None,
    )
    repo.insert_token(uow.connection, row)
    return IssuedToken(token, kind, subject, now_us + ttl_us, roles)


def issue_person_token(ctx: Context, uow: UnitOfWork, psn_no: str) -> IssuedToken:
    """A person's token without a code: for support (``gongji persons token``) and tests."""
    if registry.person(uow.connection, psn_no) is None:
        raise NotFound(what="人员")
    return _issue(ctx, uow, ActorKind.PERSON, psn_no, PERSON_TOKEN_TTL_US)


def issue_operator_token(ctx: Context, uow: UnitOfWork, name: str) -> IssuedToken:
    """An operator's token without password and TOTP: for the command line on the server."""
    operator = ops.require_active(uow, name)
    roles = ops.stored_roles(operator.roles)
    return _issue(ctx, uow, ActorKind.OPERATOR, name, OPERATOR_TOKEN_TTL_US, roles)


def operator_login(
    ctx: Context,
    uow: UnitOfWork,
    name: str,
    password: str,
    totp_code: str,
    *,
    client: str | None = None,
) -> IssuedToken:
    """Password and TOTP both right, or ``login_failed`` (one answer for every wrong part).

    Rate-limited first (before argon2); a refusal was counted: commit, then propagate.
    """
    ops.admit_sign_in(ctx, client, f"operator:{name[:64]}")
    operator = ops.check_credentials(ctx, uow, name, password, totp_code)
    roles = ops.stored_roles(operator.roles)
    return _issue(ctx, uow, ActorKind.OPERATOR, name, OPERATOR_TOKEN_TTL_US, roles)


def sign_in_operator(
    ctx: Context, name: str, password: str, totp_code: str, *, client: str | None = None
) -> IssuedToken:
    """What the front doors call: rate limits, then argon2 with no transaction open, then one
    write transaction for the TOTP step, the failure count and the token (a refusal's count is
    committed before it propagates)."""
    ops.admit_sign_in(ctx, client, f"operator:{name[:64]}")
    checked = ops.check_password(ctx, name, password)

    def work(uow: UnitOfWork) -> IssuedToken:
        try:
            operator = ops.check_credentials(ctx, uow, name, password, totp_code, checked)
        except CountedRefusal:
            uow.commit()  # the wrong attempt counts towards the lockout
            raise
        roles = ops.stored_roles(operator.roles)
        issued = _issue(ctx, uow, ActorKind.OPERATOR, name, OPERATOR_TOKEN_TTL_US, roles)
        uow.commit()
        return issued

    return run_in_transaction(ctx.engine, work)


def revoke_token(ctx: Context, uow: UnitOfWork, token: str) -> bool:
    """False when the token is unknown or already revoked."""
    if not _well_formed(token):
        return False
    return repo.revoke_token(uow.connection, _token_hash(token), ctx.now_us())


def _well_formed(token: str) -> bool:
    return 0 < len(token) <= TOKEN_LENGTH_MAX and _TOKEN.match(token) is not None


def resolve_token(ctx: Context, source: UnitOfWork | Engine, token: str) -> Actor:
    """The actor a live token stands for, or ``unauthorized``. Given an engine, reads in a
    read-only transaction of its own.
    """
    if isinstance(source, Engine):
        return run_in_transaction(
            source, lambda uow: resolve_token(ctx, uow, token), read_only=True
        )
    if not _well_formed(token):
        raise Unauthorized()
    row, operator = repo.token_and_operator(
        source.connection, _token_hash(token), ActorKind.OPERATOR.value
    )
    if row is None or row.revoked_at_us is not None or row.expires_at_us <= ctx.now_us():
        raise Unauthorized()
    if row.subject_kind == ActorKind.PERSON.value:
        return Actor(ActorKind.PERSON, row.subject_id)
    if row.subject_kind == ActorKind.OPERATOR.value:
        if operator is None or operator.disabled:
            raise Unauthorized()
        return Actor(ActorKind.OPERATOR, operator.name, ops.stored_roles(operator.roles))
    raise Unauthorized()


def who_am_i(ctx: Context, uow: UnitOfWork, actor: Actor) -> Me:
    """What a signed-in actor may see of itself: masked name and number, or name and roles."""
    if actor.kind is ActorKind.PERSON:
        person = registry.person(uow.connection, actor.id)
        if person is None:
            raise Unauthorized()
        return Me(actor.kind, actor.id, person.name_masked, person.mobile_masked, frozenset(), None)
    operator = repo.operator(uow.connection, actor.id) if actor.kind is ActorKind.OPERATOR else None
    region = operator.region if operator is not None else None
    return Me(actor.kind, actor.id, None, None, actor.roles, region)


def purge_expired_access(ctx: Context, uow: UnitOfWork) -> int:
    """Delete codes and tokens that expired more than a day ago, and the counts of wrong
    sign-ins against names no operator holds that nobody tried for a day and that are not
    locked (job ``access-purge``, hourly in ``gongji serve``): a guessing run leaves no row
    behind for ever, and a name tried again later starts from its first lockout."""
    now_us = ctx.now_us()
    before_us = now_us - ACCESS_RECORDS_KEPT_US
    connection = uow.connection
    return (
        repo.purge_codes(connection, before_us)
        + repo.purge_tokens(connection, before_us)
        + repo.purge_unknown_sign_ins(connection, before_us, now_us)
    )
