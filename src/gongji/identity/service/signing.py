"""Signed requests from designated institutions: HMAC-SM3 over method, path, time, nonce and
body hash (the scheme, for integrators, is docs/signing.md).

An institution sends four headers::

    X-Gongji-Key-Id     the key id issued with its secret
    X-Gongji-Timestamp  unix seconds when it signed
    X-Gongji-Nonce      16–64 characters of [A-Za-z0-9_-], never reused with this key
    X-Gongji-Signature  hex HMAC-SM3(secret, "METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nSHA256_HEX(body)")

Checks, cheapest first, each with its own code: the headers are there and well formed
(``signature_missing``); the timestamp is within ``WINDOW_S`` of the injected clock, either way
(``signature_expired``); the key exists and is not revoked (``signature_key_unknown``); the
signature matches (``signature_invalid``); the nonce was not seen with this key
(``signature_replayed``). The nonce is recorded only for a request whose signature is good, so
nobody without the secret can fill the nonce table or burn an institution's nonces.

Why a nonce is spent even when the command it came with fails: a nonce proves a *request* is
fresh, whatever the command then does. Spent only with the command's effects, a refused or
failed command (a rollback) or a read-only one (there is nothing to commit) would leave the
nonce unused, and a captured request could be replayed within the window as often as wanted,
for example to read a person's data again and again. So there are two ways to spend it:

- ``authenticate``: in its own short transaction, before the command runs. For reads and for
  any route that does not say otherwise.
- ``verify`` and then ``run_signed_write``: as the first statement of the command's own write
  transaction, and, if that transaction does not commit, in a short one of its own before the
  refusal is answered. A settlement then takes one write turn instead of two (on SQLite the
  writers' turn is what settlements queue for: docs/benchmarks.md). A racing copy of the
  request waits at the nonce's insert, then finds it and is refused; the command ran once.

A request refused before its route runs because its body fails validation (422) has its nonce
spent alone all the same (api/errors.py, api/signed_write_route.py).

Keys kept in memory: a key id names one institution and one secret for ever, so a process keeps
each key it has seen sign well (``Context.signing_keys``) and checks the next signatures made
with it without a transaction of its own. Whether the key is still live is read where the nonce
is spent, in the same round trip as the nonce on PostgreSQL: a key revoked by any process is
refused from then on (``signature_key_unknown``, its nonce not spent), and a signature that the
kept secret does not make is checked against the database as before, so a revoked key answers
``signature_key_unknown`` whatever it signed.

A nonce committed alone does not wait for the disk (``durable=False``, gongji.store.uow): only
a crash of the machine itself (power, kernel; not of gongji) can lose it, and only one seen in
the moments before it and not followed by any durable commit, since both databases write their
log in order. A request that changed anything keeps its nonce. What could be replayed after
such a crash is a request that failed or was read-only, within its 300 s window.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import ClassVar, Final, TypeVar

from gongji.core.errors import GongjiError
from gongji.core.sm3 import hmac_sm3_hex
from gongji.identity.store import nonces_repo as repo
from gongji.institutions.service.institutions import (
    credential_secret,
    live_credential,
    live_credential_reads,
)
from gongji.kernel.context import Actor, ActorKind, Context
from gongji.store.raw import Read
from gongji.store.uow import UnitOfWork, run_in_transaction

HEADER_KEY_ID: Final = "X-Gongji-Key-Id"
HEADER_TIMESTAMP: Final = "X-Gongji-Timestamp"
HEADER_NONCE: Final = "X-Gongji-Nonce"
HEADER_SIGNATURE: Final = "X-Gongji-Signature"

WINDOW_S: Final = 300
NONCE_KEPT_S: Final = 2 * WINDOW_S
"""A request stamped at the window's far edge may be seen at its near edge and replayed until
the opposite edge: 2 × the window after it was seen, no copy can pass the time check."""

_KEY_ID: Final = re.compile(r"[A-Za-z0-9._-]{1,40}")
_TIMESTAMP: Final = re.compile(r"[0-9]{1,12}")
_NONCE: Final = re.compile(r"[A-Za-z0-9_-]{16,64}")
_SIGNATURE: Final = re.compile(r"[0-9a-fA-F]{64}")
_US_PER_S: Final = 1_000_000
NONCE_PURGE_EVERY_S: Final = 60
"""How often a process forgets one key's expired nonces on the way (at most): the table then
holds a key's nonces of the last ``NONCE_KEPT_S`` plus this, and a request seldom pays for it."""
KEYS_KEPT_MAX: Final = 4096
"""Signing keys a process keeps in memory (``Context.signing_keys``); past it, it starts over."""
T = TypeVar("T")


class SignatureMissing(GongjiError):
    code: ClassVar[str] = "signature_missing"
    message_zh: ClassVar[str] = "请求缺少签名信息或格式不正确：{header}"
    message_en: ClassVar[str] = "The request signature header is missing or malformed: {header}"


class SignatureExpired(GongjiError):
    code: ClassVar[str] = "signature_expired"
    message_zh: ClassVar[str] = "请求时间戳超出允许范围（±{window_s} 秒），请校准时钟后重新签名"
    message_en: ClassVar[str] = "The request timestamp is outside ±{window_s} s; check the clock"


class SignatureKeyUnknown(GongjiError):
    code: ClassVar[str] = "signature_key_unknown"
    message_zh: ClassVar[str] = "签名密钥不存在或已吊销"
    message_en: ClassVar[str] = "The signing key is unknown or revoked"


class SignatureInvalid(GongjiError):
    code: ClassVar[str] = "signature_invalid"
    message_zh: ClassVar[str] = "请求签名不正确"
    message_en: ClassVar[str] = "The request signature does not match"


class SignatureReplayed(GongjiError):
    code: ClassVar[str] = "signature_replayed"
    message_zh: ClassVar[str] = "该请求已处理过（随机数重复），请使用新的随机数重新签名"
    message_en: ClassVar[str] = "The nonce was used already; sign again with a fresh nonce"


@dataclass(frozen=True, slots=True)
class SignedHeaders:
    key_id: str
    timestamp: str
    nonce: str
    signature: str

    @property
    def timestamp_s(self) -> int:
        return int(self.timestamp)


@dataclass(frozen=True, slots=True)
class Verified:
    """A request whose signature is good; its nonce is not spent yet."""

    institution: Actor
    key_id: str
    nonce: str


# --- the client side: what an institution (or a test, or the bench) sends ------------------------


def string_to_sign(method: str, path: str, timestamp: int | str, nonce: str, body: bytes) -> str:
    body_hash = hashlib.sha256(body).hexdigest()
    return f"{method.upper()}\n{path}\n{timestamp}\n{nonce}\n{body_hash}"


def signature_of(
    secret: str | bytes, method: str, path: str, timestamp: int | str, nonce: str, body: bytes
) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac_sm3_hex(key, string_to_sign(method, path, timestamp, nonce, body).encode())


def sign_request(
    key_id: str, secret: str, method: str, path: str, body: bytes, timestamp: int, nonce: str
) -> dict[str, str]:
    """The four headers of a signed request. ``path`` includes ``?query`` if there is one."""
    return {
        HEADER_KEY_ID: key_id,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: signature_of(secret, method, path, timestamp, nonce, body),
    }


# --- the server side --------------------------------------------------------------------------


def authenticate(
    ctx: Context, method: str, path: str, body: bytes, headers: Mapping[str, str]
) -> Actor:
    """The institution that signed this request, or a refusal; its nonce is spent in a short
    transaction of its own (see the module docstring)."""
    verified = verify(ctx, method, path, body, headers)
    spend_alone(ctx, verified)
    return verified.institution


def verify(
    ctx: Context, method: str, path: str, body: bytes, headers: Mapping[str, str]
) -> Verified:
    """Check the signature, in a read. The nonce is checked when it is spent: the caller must
    ``run_signed_write`` or ``spend_alone`` it, and either refuses a replay first thing."""
    signed = read_headers(headers)
    check_window(ctx, signed.timestamp_s)
    known = ctx.signing_keys.get(signed.key_id)
    if known is not None and _signs(known[1], method, path, body, signed):
        institution_code = known[0]  # its key is asked live where the nonce is spent
    else:  # a key not seen yet, or a signature its kept secret does not make: the database
        # tells a revoked key (signature_key_unknown) from a wrong signature, as ever
        institution_code = run_in_transaction(
            ctx.engine,
            lambda uow: verify_signature(ctx, uow, method, path, body, signed),
            read_only=True,
        )
    return Verified(Actor(ActorKind.INSTITUTION, institution_code), signed.key_id, signed.nonce)


def spend_alone(ctx: Context, verified: Verified) -> None:
    """Spend a verified request's nonce in its own transaction (not waiting for the disk)."""

    def spend(uow: UnitOfWork) -> None:
        remember_nonce(ctx, uow, verified.key_id, verified.nonce)
        uow.commit()

    run_in_transaction(ctx.engine, spend, durable=False)


def run_signed_write(
    ctx: Context,
    verified: Verified,
    work: Callable[[UnitOfWork], T],
    reads_ahead: Callable[[], Sequence[Read]] | None = None,
) -> T:
    """Run a signed command in one write transaction with the request's nonce spent as its
    first statement, committed when ``work`` returns (on SQLite in the writer's commit group:
    institutions' writes arriving together share a wait for the disk). If ``work`` raises, the
    nonce is spent alone before the command's error goes on. ``reads_ahead``: the reads
    ``work`` will make first, made with the nonce's check (see :func:`remember_nonce`)."""

    def attempt(uow: UnitOfWork) -> T:
        # PostgreSQL: the nonce's insert goes with the command's first reads, its purge with
        # the next statement. A racing copy waits at that insert, then finds the nonce.
        uow.defer_writes()
        remember_nonce(ctx, uow, verified.key_id, verified.nonce, reads_ahead)
        result = work(uow)
        uow.commit()
        return result

    try:
        return run_in_transaction(ctx.engine, attempt, grouped=True)
    except (SignatureReplayed, SignatureKeyUnknown):
        raise
    except Exception:
        with suppress(SignatureReplayed):  # a copy of the request spent it meanwhile
            spend_alone(ctx, verified)
        raise


def read_headers(headers: Mapping[str, str]) -> SignedHeaders:
    """The four signature headers (names in any case), each well formed."""
    lowered = {name.lower(): value for name, value in headers.items()}
    values: list[str] = []
    for name, pattern in (
        (HEADER_KEY_ID, _KEY_ID),
        (HEADER_TIMESTAMP, _TIMESTAMP),
        (HEADER_NONCE, _NONCE),
        (HEADER_SIGNATURE, _SIGNATURE),
    ):
        value = lowered.get(name.lower(), "").strip()
        if pattern.fullmatch(value) is None:
            raise SignatureMissing(header=name)
        values.append(value)
    key_id, timestamp, nonce, signature = values
    return SignedHeaders(key_id, timestamp, nonce, signature.lower())


def check_window(ctx: Context, timestamp_s: int) -> None:
    """Stale and future timestamps alike: a clock far ahead could pre-sign requests."""
    skew_us = abs(ctx.now_us() - timestamp_s * _US_PER_S)
    if skew_us > WINDOW_S * _US_PER_S:
        raise SignatureExpired(window_s=WINDOW_S)


def verify_signature(
    ctx: Context, uow: UnitOfWork, method: str, path: str, body: bytes, signed: SignedHeaders
) -> str:
    """The institution code behind a live key whose secret made this signature; the key is
    then kept in ``ctx.signing_keys`` (only a good signature puts one there)."""
    credential = live_credential(ctx, uow, signed.key_id)
    if credential is None:
        ctx.signing_keys.pop(signed.key_id, None)
        raise SignatureKeyUnknown()
    secret = credential_secret(ctx, credential)
    if not _signs(secret, method, path, body, signed):
        raise SignatureInvalid()
    if len(ctx.signing_keys) >= KEYS_KEPT_MAX:
        ctx.signing_keys.clear()
    ctx.signing_keys[signed.key_id] = (credential.institution_code, secret)
    return credential.institution_code


def _signs(secret: bytes, method: str, path: str, body: bytes, signed: SignedHeaders) -> bool:
    # The timestamp is signed as sent (its text), so nothing is lost in a round trip via int.
    expected = signature_of(secret, method, path, signed.timestamp, signed.nonce, body)
    return hmac.compare_digest(expected, signed.signature)


def remember_nonce(
    ctx: Context,
    uow: UnitOfWork,
    key_id: str,
    nonce: str,
    reads_ahead: Callable[[], Sequence[Read]] | None = None,
) -> None:
    """Record a nonce of a verified request whose key is still live, or refuse it: a key revoked
    since (by this process or another) as unknown, a nonce seen already as a replay. The key's
    check and the nonce's insert, which answers whether the nonce was new, go in one round trip
    on PostgreSQL, and with them ``reads_ahead()``, what the command will read first (asked only
    where reading ahead saves trips). A refused request is rolled back, its nonce with it, and
    has read those for nothing.

    A racing copy of the same request waits at the insert for the first to end, and is then
    refused as a replay (``nonces_repo.spend_read``). This key's expired nonces are purged on
    the way (by each process at most once every ``NONCE_PURGE_EVERY_S``), so the table stays
    about the size of one window of traffic without a separate job.
    """
    now_us = ctx.now_us()
    ahead = reads_ahead() if reads_ahead is not None and uow.reads_ahead else ()
    spend = repo.spend_read(key_id, nonce, now_us)
    uow.prefetch([*live_credential_reads(ctx, uow, key_id), spend, *ahead])
    if live_credential(ctx, uow, key_id) is None:
        ctx.signing_keys.pop(key_id, None)
        raise SignatureKeyUnknown()
    if not repo.spent_now(uow.connection, key_id, nonce, now_us):
        raise SignatureReplayed()
    purged_us = ctx.nonce_purges.get(key_id)
    if purged_us is None or now_us - purged_us >= NONCE_PURGE_EVERY_S * _US_PER_S:
        repo.forget_key_nonces(uow.connection, now_us - NONCE_KEPT_S * _US_PER_S, key_id)
        if len(ctx.nonce_purges) >= KEYS_KEPT_MAX:
            ctx.nonce_purges.clear()
        ctx.nonce_purges[key_id] = now_us  # a rollback only delays the next purge


def purge_nonces(ctx: Context, uow: UnitOfWork) -> int:
    """Forget every nonce too old to matter (keys that stopped signing keep some otherwise)."""
    return repo.purge_nonces(uow.connection, ctx.now_us() - NONCE_KEPT_S * _US_PER_S)
