"""SQL for designated institutions, their signing credentials and request nonces. No decisions.

Rows come back as domain values (``Institution``) wrapped in a
record with the bookkeeping times, so a service compares what a file says with what is stored
by plain equality.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Final

from sqlalchemy import Connection, insert, select, update

from gongji.institutions.domain.institutions import (
    Institution,
    InstitutionKind,
    InstitutionLevel,
    InstitutionStatus,
)
from gongji.store import raw
from gongji.store.tables_institutions import institution_credentials, institutions
from gongji.store.tables_reference import GENERATION_COLUMN

LOOKUP_CHUNK: Final = 1_000
"""Codes per ``IN (…)`` list: far inside SQLite's and PostgreSQL's bound-parameter limits."""


@dataclass(frozen=True, slots=True)
class InstitutionRecord:
    """A stored institution: what was registered, and when."""

    institution: Institution
    created_at_us: int
    updated_at_us: int

    @property
    def code(self) -> str:
        return self.institution.code

    @property
    def region(self) -> str:
        return self.institution.region

    @property
    def level(self) -> InstitutionLevel:
        return self.institution.level

    @property
    def kind(self) -> InstitutionKind:
        return self.institution.kind

    @property
    def status(self) -> InstitutionStatus:
        return self.institution.status


@dataclass(frozen=True, slots=True)
class CredentialRow:
    key_id: str
    institution_code: str
    secret_enc: str
    created_at_us: int
    revoked_at_us: int | None


_INSTITUTION_COLUMNS = ", ".join(raw.table_columns(institutions))
_INSTITUTION = (
    f"SELECT {_INSTITUTION_COLUMNS}, {GENERATION_COLUMN} FROM institutions WHERE code = :code"
)


def _record(row: Sequence[Any]) -> InstitutionRecord:
    """From a row of every column in table order (``select(institutions)`` or the text above)."""
    code, name, region, kind, level, supports_wallet, status, created_at_us, updated_at_us = row
    value = Institution(
        code=code,
        name=name,
        region=region,
        kind=InstitutionKind(kind),
        level=InstitutionLevel(level),
        supports_wallet=bool(supports_wallet),
        status=InstitutionStatus(status),
    )
    return InstitutionRecord(value, created_at_us, updated_at_us)


def _columns(value: Institution) -> dict[str, Any]:
    columns = asdict(value)
    columns["supports_wallet"] = int(value.supports_wallet)
    return columns


# --- institutions --------------------------------------------------------------------------


def institution_read(code: str) -> raw.Read:
    return _INSTITUTION, {"code": code}


def institution(connection: Connection, code: str) -> InstitutionRecord | None:
    found = institution_stamped(connection, code)
    return found[0] if found else None


def institution_stamped(
    connection: Connection, code: str
) -> tuple[InstitutionRecord, int | None] | None:
    """The institution with the reference generation it was read under
    (store/tables_reference.py)."""
    found = raw.fetch(connection, *institution_read(code))
    return (_record(found[0][:-1]), found[0][-1]) if found else None


def institutions_by_code(connection: Connection, codes: Iterable[str]) -> dict[str, Institution]:
    wanted = sorted(set(codes))
    found: dict[str, Institution] = {}
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[start : start + LOOKUP_CHUNK]
        statement = select(institutions).where(institutions.c.code.in_(chunk))
        for row in connection.execute(statement):
            found[row.code] = _record(row).institution
    return found


def list_institutions(
    connection: Connection, *, region: str | None, after: str | None, limit: int
) -> list[InstitutionRecord]:
    """By code, from just after ``after`` (keyset paging), at most ``limit`` rows."""
    statement = select(institutions).order_by(institutions.c.code).limit(limit)
    if region is not None:
        statement = statement.where(institutions.c.region == region)
    if after is not None:
        statement = statement.where(institutions.c.code > after)
    return [_record(row) for row in connection.execute(statement)]


def insert_institution(connection: Connection, value: Institution, now_us: int) -> None:
    row = {**_columns(value), "created_at_us": now_us, "updated_at_us": now_us}
    connection.execute(insert(institutions), [row])


def update_institution(connection: Connection, value: Institution, now_us: int) -> None:
    statement = update(institutions).where(institutions.c.code == value.code)
    connection.execute(statement.values(**_columns(value), updated_at_us=now_us))


# --- credentials ---------------------------------------------------------------------------


_CREDENTIAL = (
    f"SELECT {raw.column_list(CredentialRow)}, {GENERATION_COLUMN} "
    "FROM institution_credentials WHERE key_id = :key_id"
)


def credential_read(key_id: str) -> raw.Read:
    return _CREDENTIAL, {"key_id": key_id}


def credential(connection: Connection, key_id: str) -> CredentialRow | None:
    found = credential_stamped(connection, key_id)
    return found[0] if found else None


def credential_stamped(
    connection: Connection, key_id: str
) -> tuple[CredentialRow, int | None] | None:
    """The key with the reference generation it was read under (store/tables_reference.py)."""
    found = raw.fetch(connection, *credential_read(key_id))
    return (CredentialRow(*found[0][:-1]), found[0][-1]) if found else None


def credentials_of(connection: Connection, institution_code: str) -> list[CredentialRow]:
    statement = (
        select(
            institution_credentials.c.key_id,
            institution_credentials.c.institution_code,
            institution_credentials.c.secret_enc,
            institution_credentials.c.created_at_us,
            institution_credentials.c.revoked_at_us,
        )
        .where(institution_credentials.c.institution_code == institution_code)
        .order_by(institution_credentials.c.created_at_us, institution_credentials.c.key_id)
    )
    return [CredentialRow(**dict(row)) for row in connection.execute(statement).mappings()]


def insert_credential(
    connection: Connection, key_id: str, institution_code: str, secret_enc: str, now_us: int
) -> None:
    row = {
        "key_id": key_id,
        "institution_code": institution_code,
        "secret_enc": secret_enc,
        "created_at_us": now_us,
        "revoked_at_us": None,
    }
    connection.execute(insert(institution_credentials), [row])


def revoke_credential(connection: Connection, key_id: str, now_us: int) -> bool:
    """Mark a key revoked; False when it is unknown or revoked already (the first time stays)."""
    statement = (
        update(institution_credentials)
        .where(
            institution_credentials.c.key_id == key_id,
            institution_credentials.c.revoked_at_us.is_(None),
        )
        .values(revoked_at_us=now_us)
    )
    return connection.execute(statement).rowcount == 1


# --- nonces --------------------------------------------------------------------------------
