"""Signing in at the settlement desk (结算台): an institution's own signing key opens a session.

A designated institution already holds a key (id + secret, ``gongji institutions credentials``)
for its HIS to sign API requests. The cashier types the same key id and secret into the desk's
sign-in page; gongji checks the secret in constant time and issues an opaque token exactly like a
person's or an operator's (only its SHA-256 hash is stored, in ``access_tokens`` with subject kind
``desk`` and the key id as subject). So there is no second password to manage, and revoking the
key ends its desk sessions at the next request, as it ends its API access.

A desk token is never accepted as an API bearer token (``identity.resolve_token`` knows no
``desk`` subjects), and an API signature never opens the desk.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import ClassVar, Final

from gongji.core.errors import GongjiError
from gongji.identity.service.identity import IssuedToken, Unauthorized
from gongji.identity.store import access_repo as repo
from gongji.identity.store.access_repo import TokenRow
from gongji.institutions.service.institutions import (
    credential_secret,
    get_institution,
    live_credential,
)
from gongji.kernel.context import Actor, ActorKind, Context
from gongji.store.uow import UnitOfWork

DESK_SUBJECT_KIND: Final = "desk"
DESK_TOKEN_TTL_US: Final = 12 * 3600 * 1_000_000
"""One working day at the counter; the cashier signs in again on the next shift."""

TOKEN_BYTES: Final = 32
KEY_ID_LENGTH_MAX: Final = 64
SECRET_LENGTH_MAX: Final = 128
_TOKEN: Final = re.compile(r"[A-Za-z0-9_-]{1,128}")


class DeskLoginFailed(GongjiError):
    """One answer for every wrong part: an unknown key, a revoked key, a wrong secret."""

    code: ClassVar[str] = "desk_login_failed"
    message_zh: ClassVar[str] = "密钥编号或密钥不正确，或该密钥已停用"
    message_en: ClassVar[str] = "The key id or the secret is wrong, or the key was revoked"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def desk_login(ctx: Context, uow: UnitOfWork, key_id: str, secret: str) -> IssuedToken:
    """A desk session for the institution whose live key this is, or ``desk_login_failed``."""
    key_id, secret = key_id.strip(), secret.strip()
    if not key_id or len(key_id) > KEY_ID_LENGTH_MAX or len(secret) > SECRET_LENGTH_MAX:
        raise DeskLoginFailed()
    credential = live_credential(ctx, uow, key_id)
    if credential is None:
        raise DeskLoginFailed()
    if not hmac.compare_digest(credential_secret(ctx, credential), secret.encode()):
        raise DeskLoginFailed()
    get_institution(ctx, uow, credential.institution_code)  # still registered
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now_us = ctx.now_us()
    repo.insert_token(
        uow.connection,
        TokenRow(
            token_hash=_token_hash(token),
            subject_kind=DESK_SUBJECT_KIND,
            subject_id=key_id,
            created_at_us=now_us,
            expires_at_us=now_us + DESK_TOKEN_TTL_US,
            revoked_at_us=None,
        ),
    )
    expires_at_us = now_us + DESK_TOKEN_TTL_US
    return IssuedToken(token, ActorKind.INSTITUTION, credential.institution_code, expires_at_us)


def resolve_desk_token(ctx: Context, uow: UnitOfWork, token: str) -> Actor:
    """The institution a live desk token stands for (its key still live), or ``unauthorized``."""
    if _TOKEN.fullmatch(token) is None:
        raise Unauthorized()
    row = repo.token(uow.connection, _token_hash(token))
    if (
        row is None
        or row.subject_kind != DESK_SUBJECT_KIND
        or row.revoked_at_us is not None
        or row.expires_at_us <= ctx.now_us()
    ):
        raise Unauthorized()
    credential = live_credential(ctx, uow, row.subject_id)
    if credential is None:
        raise Unauthorized()
    return Actor(ActorKind.INSTITUTION, credential.institution_code)


def desk_logout(ctx: Context, uow: UnitOfWork, token: str) -> bool:
    """End a desk session; False when it was unknown or already ended."""
    if _TOKEN.fullmatch(token) is None:
        return False
    return repo.revoke_token(uow.connection, _token_hash(token), ctx.now_us())
