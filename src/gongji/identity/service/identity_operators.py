"""Bureau operators: created on the server's command line, signed in with a password (argon2)
and a TOTP code, each holding roles from :class:`Role`.

Signing in answers ``login_failed`` for an unknown name, a wrong password and a wrong TOTP
alike, and spends the same argon2 work on an unknown name, so neither the answer nor its timing
tells which names exist. The TOTP seed is stored encrypted (bound to the operator's name) and
shown once, as a provisioning URI, when the operator is created. TOTP windows follow the
injected clock, like every other time rule.

Guessing is bounded three ways: the front doors' rate limits (per client address and per name,
counted before any argon2 work, :func:`admit_sign_in`), a lockout after
``Limits.operator_failures_before_lockout`` wrong attempts in a row that doubles with each
further one, and single-use TOTP codes (the step of the last accepted code is kept, and only a
later step is accepted, RFC 6238 §5.2). A locked name is refused before its password is read.

The lockout must not tell names apart either: a name no active operator holds counts its wrong
attempts too (``unknown_sign_ins``, by the name's keyed hash, never the typed text) and is
locked after as many, for as long, with the same ``operator_locked`` answer, refused as fast.
Otherwise the first ``operator_locked`` would confirm that a guessed name exists.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import ClassVar, Final

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gongji.core.errors import GongjiError
from gongji.identity.store import access_repo as repo
from gongji.identity.store.access_repo import OperatorRow
from gongji.kernel.context import Context, Role
from gongji.kernel.errors import RegionUnknown
from gongji.kernel.sealed import SealedColumn, SealedTable
from gongji.store.tables_access import operators
from gongji.store.uow import UnitOfWork, run_in_transaction

PASSWORD_LENGTH_MIN = 12
PASSWORD_LENGTH_MAX = 256
TOTP_ISSUER = "gongji"
TOTP_VALID_WINDOW = 1  # one 30 s step either side: a phone's clock drifts
_NAME = re.compile(r"^[a-z][a-z0-9_.-]{1,63}$")
_TOTP_CODE = re.compile(r"^[0-9]{6}$")
_HASHER = PasswordHasher()

DEMO_OPERATOR: Final = "demo"
DEMO_OPERATOR_PASSWORD: Final = "gongji-demo-2026"
"""The demo database's administrator, whose password the README prints: production refuses to
start while it still signs in (``known_password_works``)."""


class OperatorExists(GongjiError):
    code: ClassVar[str] = "operator_exists"
    message_zh: ClassVar[str] = "操作员 {name} 已存在"
    message_en: ClassVar[str] = "Operator {name} already exists"


class OperatorUnknown(GongjiError):
    code: ClassVar[str] = "operator_unknown"
    message_zh: ClassVar[str] = "操作员 {name} 不存在或已停用"
    message_en: ClassVar[str] = "No active operator {name}"


class CountedRefusal(GongjiError):
    """A sign-in refused after its attempt was counted: the entrypoint commits, then propagates
    (a rollback would forget the attempt, and the limit with it)."""


class LoginFailed(CountedRefusal):
    code: ClassVar[str] = "login_failed"
    message_zh: ClassVar[str] = "用户名、密码或动态口令不正确"
    message_en: ClassVar[str] = "Wrong name, password or one-time code"


class OperatorLocked(CountedRefusal):
    code: ClassVar[str] = "operator_locked"
    message_zh: ClassVar[str] = "密码错误次数过多，账户已锁定，请 {retry_after_s} 秒后再试"
    message_en: ClassVar[str] = "Too many wrong sign-ins; locked, try again in {retry_after_s} s"


class RoleUnknown(GongjiError):
    code: ClassVar[str] = "role_unknown"
    message_zh: ClassVar[str] = "未知角色：{role}（可选 {known}）"
    message_en: ClassVar[str] = "Unknown role: {role} (one of {known})"


class RolesRequired(GongjiError):
    code: ClassVar[str] = "roles_required"
    message_zh: ClassVar[str] = "操作员至少需要一个角色"
    message_en: ClassVar[str] = "An operator needs at least one role"


class OperatorNameInvalid(GongjiError):
    code: ClassVar[str] = "operator_name_invalid"
    message_zh: ClassVar[str] = "操作员名须为 2 至 64 个小写字母、数字或 _.-，以字母开头"
    message_en: ClassVar[str] = "An operator name is 2-64 of a-z 0-9 _ . -, starting with a letter"


class PasswordTooShort(GongjiError):
    code: ClassVar[str] = "password_too_short"
    message_zh: ClassVar[str] = "密码须为 {min} 至 {max} 个字符"
    message_en: ClassVar[str] = "A password has {min} to {max} characters"


class PasswordPublished(GongjiError):
    code: ClassVar[str] = "password_published"
    message_zh: ClassVar[str] = "该密码是公开的演示密码，请另设"
    message_en: ClassVar[str] = "That is the published demo password; choose another"


@dataclass(frozen=True, slots=True)
class CreatedOperator:
    """The provisioning URI carries the TOTP seed: shown once, never stored in clear."""

    name: str
    roles: frozenset[Role]
    region: str | None
    provisioning_uri: str


def parse_roles(roles: Iterable[str]) -> frozenset[Role]:
    chosen: set[Role] = set()
    for role in roles:
        try:
            chosen.add(Role(role.strip().lower()))
        except ValueError:
            raise RoleUnknown(role=role, known=", ".join(r.value for r in Role)) from None
    if not chosen:
        raise RolesRequired()
    return frozenset(chosen)


def stored_roles(text: str) -> frozenset[Role]:
    """Roles as the table keeps them (comma-separated); a role no longer known grants nothing."""
    known = {role.value for role in Role}
    return frozenset(Role(part) for part in text.split(",") if part in known)


def _totp_context(name: str) -> str:
    return f"operator totp:{name}"


SEALED_OPERATORS = SealedTable(operators, "name", (SealedColumn("totp_secret_enc", _totp_context),))
"""Operators' encrypted TOTP secrets, for the key's check and rotation (gongji.kernel.keys)."""


def _check_new(ctx: Context, name: str, password: str | None, region: str | None) -> None:
    if not _NAME.match(name):
        raise OperatorNameInvalid()
    if password is not None and not PASSWORD_LENGTH_MIN <= len(password) <= PASSWORD_LENGTH_MAX:
        raise PasswordTooShort(min=PASSWORD_LENGTH_MIN, max=PASSWORD_LENGTH_MAX)
    if region is not None and region not in ctx.regions:
        raise RegionUnknown(region=region)


def create_operator(
    ctx: Context,
    uow: UnitOfWork,
    name: str,
    roles: Iterable[str],
    password: str | None = None,
    region: str | None = None,
) -> CreatedOperator:
    """A new operator. Without a password the operator can only get tokens on the server."""
    _check_new(ctx, name, password, region)
    chosen = parse_roles(roles)
    if repo.operator(uow.connection, name) is not None:
        raise OperatorExists(name=name)
    secret = pyotp.random_base32()
    row = OperatorRow(
        name=name,
        roles=",".join(sorted(role.value for role in chosen)),
        password_hash=None if password is None else _HASHER.hash(password),
        totp_secret_enc=ctx.vault.encrypt(secret, context=_totp_context(name)),
        region=region,
        disabled=0,
        created_at_us=ctx.now_us(),
        failed_logins=0,
        locked_until_us=None,
        last_totp_step=None,
    )
    repo.insert_operator(uow.connection, row)
    uri = pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=TOTP_ISSUER)
    return CreatedOperator(name, chosen, region, uri)


def disable_operator(uow: UnitOfWork, name: str) -> None:
    """An operator who may no longer sign in or use a token (``require_active`` refuses them);
    the row stays, as the audit trail names it."""
    require_active(uow, name)
    repo.disable_operator(uow.connection, name)


def change_operator_password(ctx: Context, uow: UnitOfWork, name: str, password: str) -> None:
    """A new password, under the same rules as a new operator's; the published demo password
    is refused like any other weak one."""
    require_active(uow, name)
    _check_new(ctx, name, password, None)
    if password == DEMO_OPERATOR_PASSWORD:
        raise PasswordPublished()
    repo.set_operator_password(uow.connection, name, _HASHER.hash(password))


def require_active(uow: UnitOfWork, name: str) -> OperatorRow:
    found = repo.operator(uow.connection, name) if len(name) <= 64 else None
    if found is None or found.disabled:
        raise OperatorUnknown(name=name)
    return found


def admit_sign_in(ctx: Context, client: str | None, account: str) -> None:
    """Count a sign-in attempt against the client's address and the account it names, or raise
    ``rate_limited``: called first, before any row is read or any hash computed."""
    limits = ctx.limits
    keys = [(f"sign-in account:{account}", limits.logins_per_account_per_minute)]
    if client is not None:
        keys.insert(0, (f"sign-in address:{client}", limits.logins_per_address_per_minute))
    ctx.limiter.admit_all(keys)


@dataclass(frozen=True, slots=True)
class PasswordChecked:
    """The argon2 verdict on a name and password, reached with no transaction open."""

    password_hash: str | None  # the hash it was checked against; None without a usable operator
    matches: bool


def check_password(ctx: Context, name: str, password: str) -> PasswordChecked:
    """Refuse a locked operator, else run argon2, outside any write transaction.

    On SQLite a write transaction holds the database's one write lock: argon2 inside it made
    every other write (a settlement's nonce among them) wait a quarter of a second per guess.
    """
    found, locked_until_us = run_in_transaction(
        ctx.engine, lambda uow: _usable_and_lock(ctx, uow, name), read_only=True
    )
    _refuse_if_locked(ctx, locked_until_us)
    admit_password_check(ctx)
    matches = _password_matches(found, password)
    return PasswordChecked(found.password_hash if found is not None else None, matches)


def _usable(uow: UnitOfWork, name: str, *, for_update: bool = False) -> OperatorRow | None:
    found = repo.operator(uow.connection, name, for_update=for_update) if len(name) <= 64 else None
    return found if found is not None and not found.disabled else None


def _usable_and_lock(
    ctx: Context, uow: UnitOfWork, name: str, *, for_update: bool = False
) -> tuple[OperatorRow | None, int | None]:
    """The active operator of that name, if any, and when the name's lockout ends: the
    operator's own, or for a name no active operator holds, the one its wrong attempts earned."""
    usable = _usable(uow, name, for_update=for_update)
    if usable is not None:
        return usable, usable.locked_until_us
    return None, repo.unknown_name_locked_until(uow.connection, _name_hash(ctx, name))


def _name_hash(ctx: Context, name: str) -> str:
    return ctx.vault.lookup_hash(name, context="operator sign-in name")


def check_credentials(
    ctx: Context,
    uow: UnitOfWork,
    name: str,
    password: str,
    totp_code: str,
    checked: PasswordChecked | None = None,
) -> OperatorRow:
    """The operator when password and TOTP code are both right; ``login_failed`` otherwise
    (counted: commit before propagating), ``operator_locked`` while a lockout lasts. With
    ``checked`` (from :func:`check_password`) argon2 is not run again here."""
    usable, locked_until_us = _usable_and_lock(ctx, uow, name, for_update=True)
    _refuse_if_locked(ctx, locked_until_us)
    if checked is None:
        admit_password_check(ctx)
        password_ok = _password_matches(usable, password)
    else:  # a password changed meanwhile invalidates the verdict
        same = usable is not None and usable.password_hash == checked.password_hash
        password_ok = checked.matches and same
    step = _totp_step(ctx, usable, totp_code) if usable is not None and password_ok else None
    if usable is None or step is None:
        if usable is not None:
            _count_failure(ctx, uow, usable)
        else:
            _count_unknown_name_failure(ctx, uow, name)
        raise LoginFailed()
    repo.record_sign_in(uow.connection, usable.name, step)
    return usable


def admit_password_check(ctx: Context) -> None:
    """The machine-wide budget of argon2 work (``Limits.password_checks_per_second``)."""
    ctx.limiter.admit("argon2", ctx.limits.password_checks_per_second, window_s=1.0)


def _refuse_if_locked(ctx: Context, locked_until_us: int | None) -> None:
    now_us = ctx.now_us()
    if locked_until_us is not None and locked_until_us > now_us:
        wait_s = -(-(locked_until_us - now_us) // 1_000_000)
        raise OperatorLocked(retry_after_s=wait_s)


def _lockout_ends_us(ctx: Context, failures: int) -> int | None:
    """From the N-th wrong attempt in a row the name is locked, twice as long each time."""
    limits = ctx.limits
    beyond = failures - limits.operator_failures_before_lockout
    if beyond < 0:
        return None
    doubled = limits.operator_lockout_first_s << min(beyond, 32)
    return ctx.now_us() + min(doubled, limits.operator_lockout_max_s) * 1_000_000


def _count_failure(ctx: Context, uow: UnitOfWork, operator: OperatorRow) -> None:
    """One more wrong attempt against an operator."""
    failures = operator.failed_logins + 1
    locked_until_us = _lockout_ends_us(ctx, failures) or operator.locked_until_us
    repo.record_failure(uow.connection, operator.name, failures, locked_until_us)


def _count_unknown_name_failure(ctx: Context, uow: UnitOfWork, name: str) -> None:
    """One more wrong attempt against a name no active operator holds, locked as one would be."""
    name_hash = _name_hash(ctx, name)
    failures = repo.count_unknown_name_failure(uow.connection, name_hash, ctx.now_us())
    locked_until_us = _lockout_ends_us(ctx, failures)
    if locked_until_us is not None:
        repo.lock_unknown_name(uow.connection, name_hash, locked_until_us)


@cache
def _decoy_hash() -> str:
    """Verified against when there is no real hash, so a miss costs as much as a wrong guess."""
    return _HASHER.hash("gongji decoy password, never assigned")


def _password_matches(operator: OperatorRow | None, password: str) -> bool:
    stored = operator.password_hash if operator is not None else None
    if len(password) > PASSWORD_LENGTH_MAX:
        return False
    try:
        _HASHER.verify(stored or _decoy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return stored is not None


def _totp_step(ctx: Context, operator: OperatorRow, code: str) -> int | None:
    """The 30-second step the code belongs to, if it is right and later than the last one used:
    a code seen once (over a shoulder, in a proxy's log) signs nobody in again."""
    if operator.totp_secret_enc is None or not _TOTP_CODE.match(code):
        return None
    secret = ctx.vault.decrypt(operator.totp_secret_enc, context=_totp_context(operator.name))
    totp = pyotp.TOTP(secret)
    now_step = totp.timecode(ctx.now())
    for step in range(now_step - TOTP_VALID_WINDOW, now_step + TOTP_VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            used = operator.last_totp_step
            return step if used is None or step > used else None
    return None


def known_password_works(ctx: Context, name: str) -> bool:
    """Whether the active operator ``name`` still has the published demo password."""
    found = run_in_transaction(
        ctx.engine, lambda uow: repo.operator(uow.connection, name), read_only=True
    )
    if found is None or found.disabled or found.password_hash is None:
        return False
    return _password_matches(found, DEMO_OPERATOR_PASSWORD)


def current_totp(ctx: Context, uow: UnitOfWork, name: str) -> str:
    """The operator's TOTP code now, for support on the server and for demo databases.

    Whoever can run this already holds the database and the vault key, so it discloses nothing
    they could not read; it is never reachable over HTTP.
    """
    operator = require_active(uow, name)
    if operator.totp_secret_enc is None:
        raise OperatorUnknown(name=name)
    secret = ctx.vault.decrypt(operator.totp_secret_enc, context=_totp_context(name))
    return str(pyotp.TOTP(secret).at(ctx.now()))
