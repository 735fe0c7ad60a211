"""Bureau operators: created on the server's command line, signed in with a password (argon2)
and a TOTP code, each holding roles from :class:`Role`.

Signing in answers ``login_failed`` for an unknown name, a wrong password and a wrong TOTP
alike, and spends the same argon2 work on an unknown name, so neither the answer nor its timing
tells which names exist. The TOTP seed is stored encrypted (bound to the operator's name) and
shown once, as a provisioning URI, when the operator is created. TOTP windows follow the
injected clock, like every other time rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import ClassVar

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
from gongji.store.uow import UnitOfWork

PASSWORD_LENGTH_MIN = 12
PASSWORD_LENGTH_MAX = 256
TOTP_ISSUER = "gongji"
TOTP_VALID_WINDOW = 1  # one 30 s step either side: a phone's clock drifts
_NAME = re.compile(r"^[a-z][a-z0-9_.-]{1,63}$")
_TOTP_CODE = re.compile(r"^[0-9]{6}$")
_HASHER = PasswordHasher()


class OperatorExists(GongjiError):
    code: ClassVar[str] = "operator_exists"
    message_zh: ClassVar[str] = "操作员 {name} 已存在"
    message_en: ClassVar[str] = "Operator {name} already exists"


class OperatorUnknown(GongjiError):
    code: ClassVar[str] = "operator_unknown"
    message_zh: ClassVar[str] = "操作员 {name} 不存在或已停用"
    message_en: ClassVar[str] = "No active operator {name}"


class LoginFailed(GongjiError):
    code: ClassVar[str] = "login_failed"
    message_zh: ClassVar[str] = "用户名、密码或动态口令不正确"
    message_en: ClassVar[str] = "Wrong name, password or one-time code"


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
    values = {
        "name": name,
        "roles": ",".join(sorted(role.value for role in chosen)),
        "password_hash": None if password is None else _HASHER.hash(password),
        "totp_secret_enc": ctx.vault.encrypt(secret, context=_totp_context(name)),
        "region": region,
        "disabled": 0,
        "created_at_us": ctx.now_us(),
    }
    repo.insert_operator(uow.connection, values)
    uri = pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=TOTP_ISSUER)
    return CreatedOperator(name, chosen, region, uri)


def require_active(uow: UnitOfWork, name: str) -> OperatorRow:
    found = repo.operator(uow.connection, name) if len(name) <= 64 else None
    if found is None or found.disabled:
        raise OperatorUnknown(name=name)
    return found


def check_credentials(
    ctx: Context, uow: UnitOfWork, name: str, password: str, totp_code: str
) -> OperatorRow:
    """The operator when password and TOTP code are both right; ``login_failed`` otherwise."""
    found = repo.operator(uow.connection, name) if len(name) <= 64 else None
    usable = found if found is not None and not found.disabled else None
    password_ok = _password_matches(usable, password)
    if usable is None or not password_ok or not _totp_matches(ctx, usable, totp_code):
        raise LoginFailed()
    return usable


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


def _totp_matches(ctx: Context, operator: OperatorRow, code: str) -> bool:
    if operator.totp_secret_enc is None or not _TOTP_CODE.match(code):
        return False
    secret = ctx.vault.decrypt(operator.totp_secret_enc, context=_totp_context(operator.name))
    return pyotp.TOTP(secret).verify(code, for_time=ctx.now(), valid_window=TOTP_VALID_WINDOW)


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
