"""Designated institutions (定点医药机构): registering them, their signing credentials, and the
check every settlement makes first (known, active, allowed this medical category).

Registration is an upsert by the 12-character institution code, one at a time by an operator or
a whole CSV file (``code,name,region,kind,level,supports_wallet,status``) checked whole and
written all or nothing (gongji.kernel.upsert_import). Suspending an institution is an import
of its line with ``status`` ``suspended``.

Credentials: a key id (not secret; it starts with the institution code so logs read well) and
a 256-bit secret, shown once when issued. The secret is stored encrypted with the Vault, bound
to its key id, because verifying an HMAC needs the secret itself; a hash would not do. An
institution may hold several live keys (to rotate without downtime); a revoked key stays
recorded so that its id is never reissued.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import replace
from typing import ClassVar, Final, NamedTuple

from gongji.core.errors import GongjiError
from gongji.institutions.domain.institutions import (
    INSTITUTION_COLUMNS,
    Institution,
    InstitutionCodeDuplicate,
    InstitutionStatus,
    InstitutionSuspended,
    InstitutionUnknown,
    check_med_type,
    parse_institution,
    parse_institution_code,
)
from gongji.institutions.store import institutions_repo as repo
from gongji.institutions.store.institutions_repo import CredentialRow
from gongji.institutions.store.institutions_repo import InstitutionRecord as InstitutionRecord
from gongji.kernel.context import Actor, ActorKind, Context, Role
from gongji.kernel.errors import Forbidden, RegionUnknown
from gongji.kernel.reference_rows import kept_row, reads_ahead
from gongji.kernel.sealed import SealedColumn, SealedTable
from gongji.kernel.upsert_import import UpsertResult, UpsertSpec, upsert_csv, upsert_values
from gongji.store.raw import Read
from gongji.store.tables_institutions import institution_credentials
from gongji.store.uow import UnitOfWork

SECRET_BYTES: Final = 32
KEY_ID_RANDOM_BYTES: Final = 8
LIST_LIMIT_MAX: Final = 500
REGISTRARS: Final = frozenset({Role.ADMIN, Role.CLERK})
_KEPT_INSTITUTION: Final = "institution"
_KEPT_CREDENTIAL: Final = "credential"


class CredentialUnknown(GongjiError):
    code: ClassVar[str] = "credential_unknown"
    message_zh: ClassVar[str] = "密钥 {key_id} 不存在"
    message_en: ClassVar[str] = "There is no key {key_id}"


class IssuedCredentials(NamedTuple):
    """A new key: the id goes in every request, the secret is shown this once and never again."""

    key_id: str
    secret: str


def register_institution(
    ctx: Context, uow: UnitOfWork, actor: Actor, value: Institution
) -> InstitutionRecord:
    """Create the institution, or update it to ``value``; unchanged when it is stored so."""
    if actor.kind is not ActorKind.SYSTEM and (
        actor.kind is not ActorKind.OPERATOR or not actor.roles & REGISTRARS
    ):
        raise Forbidden()
    _known_region(ctx, value)
    upsert_values(_spec(ctx, uow), [value], 1)
    return get_institution(ctx, uow, value.code)


SUSPENDERS = frozenset({Role.ADMIN, Role.RISK_OFFICER})


class InstitutionAlreadySuspended(GongjiError):
    code: ClassVar[str] = "institution_already_suspended"
    message_zh: ClassVar[str] = "定点医药机构 {institution_code} 已暂停直接结算"
    message_en: ClassVar[str] = "Institution {institution_code} is already suspended"


def suspend(
    ctx: Context, uow: UnitOfWork, actor: Actor, institution_code: str, reason: str
) -> InstitutionRecord:
    """A risk decision: the institution can no longer settle directly (check_can_settle
    refuses it) until re-registered as active. The caller records ``reason`` in the audit
    trail with the decision it belongs to."""
    if actor.kind is not ActorKind.OPERATOR or not actor.roles & SUSPENDERS or not reason.strip():
        raise Forbidden()
    found = get_institution(ctx, uow, institution_code)
    if found.status is InstitutionStatus.SUSPENDED:
        raise InstitutionAlreadySuspended(institution_code=institution_code)
    suspended = replace(found.institution, status=InstitutionStatus.SUSPENDED)
    repo.update_institution(uow.connection, suspended, ctx.now_us())
    return get_institution(ctx, uow, institution_code)


def import_institutions(ctx: Context, uow: UnitOfWork, text: str) -> UpsertResult:
    """A bureau's list of institutions, checked whole, written all or nothing (caller commits)."""
    return upsert_csv(_spec(ctx, uow), text)


def _spec(ctx: Context, uow: UnitOfWork) -> UpsertSpec[Institution]:
    connection, now_us = uow.connection, ctx.now_us()

    def write(value: Institution, new: bool) -> None:
        if new:
            repo.insert_institution(connection, value, now_us)
        else:
            repo.update_institution(connection, value, now_us)

    return UpsertSpec(
        kind="institutions",
        columns=INSTITUTION_COLUMNS,
        parse=lambda cells: _known_region(ctx, parse_institution(cells)),
        key=lambda value: value.code,
        duplicate=lambda code, line: InstitutionCodeDuplicate(
            institution_code=code, first_line=line
        ),
        stored=lambda codes: repo.institutions_by_code(connection, codes),
        write=write,
    )


def _known_region(ctx: Context, value: Institution) -> Institution:
    if value.region not in ctx.regions:
        raise RegionUnknown(region=value.region)
    return value


def get_institution(ctx: Context, uow: UnitOfWork, institution_code: str) -> InstitutionRecord:
    found = repo.institution(uow.connection, parse_institution_code(institution_code))
    if found is None:
        raise InstitutionUnknown(institution_code=institution_code)
    return found


def list_institutions(
    ctx: Context,
    uow: UnitOfWork,
    *,
    region: str | None = None,
    after: str | None = None,
    limit: int = 100,
) -> list[InstitutionRecord]:
    """A page of institutions by code; pass the last code seen as ``after`` for the next."""
    bounded = max(1, min(limit, LIST_LIMIT_MAX))
    return repo.list_institutions(uow.connection, region=region, after=after, limit=bounded)


def settle_check_reads(
    ctx: Context, institution_code: str, uow: UnitOfWork | None = None
) -> list[Read]:
    """The reads :func:`check_can_settle` makes, to make ahead with others (``uow.prefetch``):
    the institution unless this process keeps it (kernel/reference_rows.py); none for a
    malformed code, which :func:`check_can_settle` refuses without reading."""
    try:
        code = parse_institution_code(institution_code)
    except GongjiError:
        return []
    return reads_ahead(
        ctx.reference_rows, uow, _KEPT_INSTITUTION, [code], lambda _: [repo.institution_read(code)]
    )


def check_can_settle(
    ctx: Context, uow: UnitOfWork, institution_code: str, med_type: str
) -> InstitutionRecord:
    """What every settlement checks first: the institution exists, is active and provides
    this medical category. The row is the one this process keeps, if the reference generation
    has not moved since it was read (kernel/reference_rows.py)."""
    code = parse_institution_code(institution_code)
    found = kept_row(
        ctx.reference_rows,
        uow,
        _KEPT_INSTITUTION,
        code,
        lambda: repo.institution_stamped(uow.connection, code),
    )
    if found is None:
        raise InstitutionUnknown(institution_code=institution_code)
    if found.status is InstitutionStatus.SUSPENDED:
        raise InstitutionSuspended(institution_code=institution_code)
    check_med_type(found.kind, med_type)
    return found


# --- credentials ---------------------------------------------------------------------------


def issue_credentials(ctx: Context, uow: UnitOfWork, institution_code: str) -> IssuedCredentials:
    """A new signing key for an active institution; its secret is returned here only."""
    found = get_institution(ctx, uow, institution_code)
    if found.status is InstitutionStatus.SUSPENDED:
        raise InstitutionSuspended(institution_code=institution_code)
    key_id = f"{found.code}.{secrets.token_hex(KEY_ID_RANDOM_BYTES)}"
    secret = secrets.token_urlsafe(SECRET_BYTES)
    secret_enc = ctx.vault.encrypt(secret, context=_secret_context(key_id))
    repo.insert_credential(uow.connection, key_id, found.code, secret_enc, ctx.now_us())
    return IssuedCredentials(key_id, secret)


def revoke_credentials(ctx: Context, uow: UnitOfWork, key_id: str) -> None:
    """Stop a key from signing; revoking a revoked key changes nothing."""
    if repo.credential(uow.connection, key_id) is None:
        raise CredentialUnknown(key_id=key_id[:64])
    repo.revoke_credential(uow.connection, key_id, ctx.now_us())


def live_credential(ctx: Context, uow: UnitOfWork, key_id: str) -> CredentialRow | None:
    """The key if it exists and is not revoked, else None (the caller says why it refuses).
    The row is the one this process keeps, if the reference generation has not moved since it
    was read: a revocation moves it (kernel/reference_rows.py)."""
    found = kept_row(
        ctx.reference_rows,
        uow,
        _KEPT_CREDENTIAL,
        key_id,
        lambda: repo.credential_stamped(uow.connection, key_id),
    )
    if found is None or found.revoked_at_us is not None:
        return None
    return found


def live_credential_reads(ctx: Context, uow: UnitOfWork, key_id: str) -> list[Read]:
    """The reads :func:`live_credential` makes, to make ahead with others (``uow.prefetch``)."""
    return reads_ahead(
        ctx.reference_rows,
        uow,
        _KEPT_CREDENTIAL,
        [key_id],
        lambda _: [repo.credential_read(key_id)],
    )


def credential_secret(ctx: Context, credential: CredentialRow) -> bytes:
    """The secret of a key, as the HMAC key bytes (its UTF-8 text, as the institution holds it)."""
    secret = ctx.vault.decrypt(credential.secret_enc, context=_secret_context(credential.key_id))
    return secret.encode()


def credentials_of(ctx: Context, uow: UnitOfWork, institution_code: str) -> Mapping[str, bool]:
    """Key ids of an institution and whether each is live (secrets are never shown again)."""
    rows = repo.credentials_of(uow.connection, institution_code)
    return {row.key_id: row.revoked_at_us is None for row in rows}


def _secret_context(key_id: str) -> str:
    """Bind the ciphertext to its key id: a secret copied onto another key's row won't open."""
    return f"institution_secret:{key_id}"


SEALED_CREDENTIALS = SealedTable(
    institution_credentials, "key_id", (SealedColumn("secret_enc", _secret_context),)
)
"""Institutions' encrypted signing secrets, for the key's check and rotation."""
