"""The national platform's gateway authentication, accepted on the national interface beside
gongji's own HMAC-SM3 signature (docs/signing.md), for institutions that chose it.

A HIS built for the platform sends four headers::

    x-tif-paasid     who calls: here the key id gongji issued (``gongji institutions credentials``)
    x-tif-timestamp  unix seconds (13 digits are read as milliseconds)
    x-tif-nonce      8–64 characters of [A-Za-z0-9_-], never reused with this key
    x-tif-signature  hex SHA-256 of timestamp + token + nonce + timestamp

the token being the key's secret, as the platform documents its own ``passToken``. The time
window and the nonce rules are those of HMAC-SM3 (the same nonce table), so a captured message
cannot be replayed. What this scheme does not do is cover the body: it proves who sent a
message and when, not what the message says, which is why it is accepted only from an
institution that chose it (``gongji institutions gateway CODE tif``), where TLS between the
HIS and gongji is what protects the body. HMAC-SM3 is accepted from every institution.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import ClassVar, Final

from gongji.core.errors import GongjiError
from gongji.identity.service import signing
from gongji.identity.store import gateway_repo as repo
from gongji.institutions.service.institutions import (
    credential_secret,
    get_institution,
    live_credential,
)
from gongji.kernel.context import Actor, ActorKind, Context
from gongji.store.uow import UnitOfWork, run_in_transaction

HEADER_PAASID: Final = "x-tif-paasid"
HEADER_TIMESTAMP: Final = "x-tif-timestamp"
HEADER_NONCE: Final = "x-tif-nonce"
HEADER_SIGNATURE: Final = "x-tif-signature"
_PAASID: Final = re.compile(r"[A-Za-z0-9._-]{1,40}")
_TIMESTAMP: Final = re.compile(r"[0-9]{10}|[0-9]{13}")
_NONCE: Final = re.compile(r"[A-Za-z0-9_-]{8,64}")
_SIGNATURE: Final = re.compile(r"[0-9a-fA-F]{64}")
_MILLIS_DIGITS: Final = 13


class AuthScheme(StrEnum):
    HMAC_SM3 = "hmac-sm3"
    TIF = "tif"


class GatewayNotChosen(GongjiError):
    code: ClassVar[str] = "signature_scheme_refused"
    message_zh: ClassVar[str] = "该机构未开通国家平台网关认证（x-tif-*），请使用 HMAC-SM3 签名"
    message_en: ClassVar[str] = "This institution has not chosen the x-tif-* gateway scheme"


def tif_signature(token: str, timestamp: str, nonce: str) -> str:
    return hashlib.sha256(f"{timestamp}{token}{nonce}{timestamp}".encode()).hexdigest()


def tif_headers(paasid: str, token: str, timestamp: int, nonce: str) -> dict[str, str]:
    """The four headers a HIS sends (the client side: tests and the conformance kit)."""
    stamp = str(timestamp)
    return {
        HEADER_PAASID: paasid,
        HEADER_TIMESTAMP: stamp,
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: tif_signature(token, stamp, nonce),
    }


def uses_gateway(headers: Mapping[str, str]) -> bool:
    """A request signed the platform's way (and not also gongji's way)."""
    lowered = {name.lower() for name in headers}
    return HEADER_SIGNATURE in lowered and signing.HEADER_SIGNATURE.lower() not in lowered


def verify_fsi(
    ctx: Context, method: str, target: str, body: bytes, headers: Mapping[str, str]
) -> signing.Verified:
    """A national-interface request's signer, by either scheme; its nonce is not spent yet."""
    if not uses_gateway(headers):
        return signing.verify(ctx, method, target, body, headers)
    lowered = {name.lower(): value.strip() for name, value in headers.items()}
    values = []
    for name, pattern in (
        (HEADER_PAASID, _PAASID),
        (HEADER_TIMESTAMP, _TIMESTAMP),
        (HEADER_NONCE, _NONCE),
        (HEADER_SIGNATURE, _SIGNATURE),
    ):
        value = lowered.get(name, "")
        if pattern.fullmatch(value) is None:
            raise signing.SignatureMissing(header=name)
        values.append(value)
    paasid, timestamp, nonce, signature = values
    seconds = int(timestamp) // (1000 if len(timestamp) == _MILLIS_DIGITS else 1)
    signing.check_window(ctx, seconds)
    code = run_in_transaction(
        ctx.engine,
        lambda uow: _signer(ctx, uow, paasid, timestamp, nonce, signature.lower()),
        read_only=True,
    )
    return signing.Verified(Actor(ActorKind.INSTITUTION, code), paasid, nonce)


def _signer(
    ctx: Context, uow: UnitOfWork, paasid: str, timestamp: str, nonce: str, signature: str
) -> str:
    credential = live_credential(ctx, uow, paasid)
    if credential is None:
        raise signing.SignatureKeyUnknown()
    token = credential_secret(ctx, credential).decode()
    if not hmac.compare_digest(tif_signature(token, timestamp, nonce), signature):
        raise signing.SignatureInvalid()
    if scheme_of(uow, credential.institution_code) is not AuthScheme.TIF:
        raise GatewayNotChosen()
    return credential.institution_code


def scheme_of(uow: UnitOfWork, institution_code: str) -> AuthScheme:
    found = repo.scheme(uow.connection, institution_code)
    return AuthScheme.HMAC_SM3 if found is None else AuthScheme(found)


def choose_scheme(ctx: Context, uow: UnitOfWork, institution_code: str, scheme: AuthScheme) -> None:
    """An operator's choice for an institution (the CLI audits who ran it)."""
    get_institution(ctx, uow, institution_code)  # refuses an unknown institution
    repo.set_scheme(uow.connection, institution_code, scheme.value, ctx.now_us())
