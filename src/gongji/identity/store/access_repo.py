"""SQL for access and replay safety: one-time codes, bearer tokens, operators, idempotency keys.
No decisions here; the services decide (``gongji.identity.service.identity``, ``.idempotency``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import Connection, delete, func, insert, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from gongji.store import raw
from gongji.store.engine import is_sqlite
from gongji.store.tables_access import (
    access_tokens,
    one_time_codes,
    operators,
    unknown_sign_ins,
)


@dataclass(frozen=True, slots=True)
class CodeRow:
    id: int
    mobile_hash: str
    code_hash: str
    created_at_us: int
    expires_at_us: int
    attempts: int
    used_at_us: int | None


@dataclass(frozen=True, slots=True)
class TokenRow:
    token_hash: str
    subject_kind: str
    subject_id: str
    created_at_us: int
    expires_at_us: int
    revoked_at_us: int | None


@dataclass(frozen=True, slots=True)
class OperatorRow:
    name: str
    roles: str
    password_hash: str | None
    totp_secret_enc: str | None
    region: str | None
    disabled: int
    created_at_us: int
    failed_logins: int
    locked_until_us: int | None
    last_totp_step: int | None


# --- per-mobile serialization ---------------------------------------------------------------


def lock_mobile(connection: Connection, mobile_hash: str) -> None:
    """Serialize work on one mobile number until the transaction ends.

    PostgreSQL: a transaction-scoped advisory lock keyed by the hash (READ COMMITTED would
    otherwise let two requests both count four codes and both insert a fifth). SQLite: the
    write transaction already holds the database's write lock (``BEGIN IMMEDIATE``).
    """
    if is_sqlite(connection.engine):
        return
    key = raw.advisory_key(f"mobile:{mobile_hash}")
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


# --- one-time codes -------------------------------------------------------------------------


def count_codes_after(connection: Connection, mobile_hash: str, after_us: int) -> int:
    statement = select(func.count()).where(
        one_time_codes.c.mobile_hash == mobile_hash, one_time_codes.c.created_at_us > after_us
    )
    return int(connection.execute(statement).scalar_one())


def insert_code(
    connection: Connection,
    *,
    mobile_hash: str,
    code_hash: str,
    created_at_us: int,
    expires_at_us: int,
) -> None:
    """A new code: no attempt counted yet, not used."""
    values = {
        "mobile_hash": mobile_hash,
        "code_hash": code_hash,
        "created_at_us": created_at_us,
        "expires_at_us": expires_at_us,
        "attempts": 0,
        "used_at_us": None,
    }
    connection.execute(insert(one_time_codes), [values])


def latest_code(connection: Connection, mobile_hash: str) -> CodeRow | None:
    statement = (
        select(one_time_codes)
        .where(one_time_codes.c.mobile_hash == mobile_hash)
        .order_by(one_time_codes.c.id.desc())
        .limit(1)
    )
    row = connection.execute(statement).mappings().first()
    return None if row is None else CodeRow(**dict(row))


def count_code_attempt(connection: Connection, code_id: int, attempts: int) -> None:
    statement = update(one_time_codes).where(one_time_codes.c.id == code_id)
    connection.execute(statement.values(attempts=attempts))


def spend_code(connection: Connection, code_id: int, at_us: int) -> None:
    statement = update(one_time_codes).where(one_time_codes.c.id == code_id)
    connection.execute(statement.values(used_at_us=at_us))


def purge_codes(connection: Connection, expired_before_us: int) -> int:
    statement = delete(one_time_codes).where(one_time_codes.c.expires_at_us < expired_before_us)
    return int(connection.execute(statement).rowcount or 0)


# --- bearer tokens --------------------------------------------------------------------------


def insert_token(connection: Connection, row: TokenRow) -> None:
    connection.execute(insert(access_tokens), [asdict(row)])


def token(connection: Connection, token_hash: str) -> TokenRow | None:
    statement = select(access_tokens).where(access_tokens.c.token_hash == token_hash)
    row = connection.execute(statement).mappings().first()
    return None if row is None else TokenRow(**dict(row))


def revoke_token(connection: Connection, token_hash: str, at_us: int) -> bool:
    statement = (
        update(access_tokens)
        .where(access_tokens.c.token_hash == token_hash, access_tokens.c.revoked_at_us.is_(None))
        .values(revoked_at_us=at_us)
    )
    return bool(connection.execute(statement).rowcount)


def purge_tokens(connection: Connection, expired_before_us: int) -> int:
    statement = delete(access_tokens).where(access_tokens.c.expires_at_us < expired_before_us)
    return int(connection.execute(statement).rowcount or 0)


# --- operators ------------------------------------------------------------------------------


def token_and_operator(
    connection: Connection, token_hash: str, operator_kind: str
) -> tuple[TokenRow | None, OperatorRow | None]:
    """A bearer token and, when it is an operator's (``subject_kind`` is ``operator_kind``),
    the operator it stands for, in one statement: every operator's request asks both."""
    rows = raw.fetch(
        connection, _TOKEN_AND_OPERATOR, {"token_hash": token_hash, "operator_kind": operator_kind}
    )
    if not rows:
        return None, None
    token, operator = rows[0][: len(_TOKEN_FIELDS)], rows[0][len(_TOKEN_FIELDS) :]
    return TokenRow(*token), (OperatorRow(*operator) if operator[0] is not None else None)


_TOKEN_FIELDS = raw.field_names(TokenRow)
_TOKEN_AND_OPERATOR = (
    f"SELECT {', '.join(f't.{name}' for name in _TOKEN_FIELDS)},"
    f" {', '.join(f'o.{name}' for name in raw.field_names(OperatorRow))}"
    " FROM access_tokens t LEFT JOIN operators o"
    " ON t.subject_kind = :operator_kind AND o.name = t.subject_id"
    " WHERE t.token_hash = :token_hash"
)


def operator(connection: Connection, name: str, *, for_update: bool = False) -> OperatorRow | None:
    """``for_update`` holds the row until the transaction ends (PostgreSQL), so two wrong
    attempts at once count as two; SQLite's write transaction already serializes them."""
    statement = select(operators).where(operators.c.name == name)
    if for_update and not is_sqlite(connection.engine):
        statement = statement.with_for_update()
    row = connection.execute(statement).mappings().first()
    return None if row is None else OperatorRow(**dict(row))


def record_sign_in(connection: Connection, name: str, totp_step: int) -> None:
    """A successful sign-in clears the failure count and lockout and spends the TOTP step."""
    statement = update(operators).where(operators.c.name == name)
    connection.execute(
        statement.values(failed_logins=0, locked_until_us=None, last_totp_step=totp_step)
    )


def record_failure(
    connection: Connection, name: str, failed_logins: int, locked_until_us: int | None
) -> None:
    statement = update(operators).where(operators.c.name == name)
    connection.execute(
        statement.values(failed_logins=failed_logins, locked_until_us=locked_until_us)
    )


def insert_operator(connection: Connection, row: OperatorRow) -> None:
    connection.execute(insert(operators), [asdict(row)])


def disable_operator(connection: Connection, name: str) -> None:
    connection.execute(update(operators).where(operators.c.name == name).values(disabled=1))


def set_operator_password(connection: Connection, name: str, password_hash: str) -> None:
    """A new password clears the failure count and lockout, as a successful sign-in does."""
    statement = update(operators).where(operators.c.name == name)
    connection.execute(
        statement.values(password_hash=password_hash, failed_logins=0, locked_until_us=None)
    )


# --- idempotency keys -----------------------------------------------------------------------


# --- sign-ins against names no operator holds -----------------------------------------------


def unknown_name_locked_until(connection: Connection, name_hash: str) -> int | None:
    """When the lockout of a name no operator holds ends (None: not locked, or never tried)."""
    statement = select(unknown_sign_ins.c.locked_until_us).where(
        unknown_sign_ins.c.name_hash == name_hash
    )
    return connection.execute(statement).scalar_one_or_none()


def count_unknown_name_failure(connection: Connection, name_hash: str, at_us: int) -> int:
    """One more wrong sign-in against the name, counted atomically (two at once count two);
    answers the count now."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(unknown_sign_ins).values(
        name_hash=name_hash, failed_logins=1, locked_until_us=None, updated_at_us=at_us
    )
    statement = statement.on_conflict_do_update(
        index_elements=[unknown_sign_ins.c.name_hash],
        set_={
            "failed_logins": unknown_sign_ins.c.failed_logins + 1,
            "updated_at_us": statement.excluded.updated_at_us,
        },
    ).returning(unknown_sign_ins.c.failed_logins)
    return int(connection.execute(statement).scalar_one())


def purge_unknown_sign_ins(connection: Connection, quiet_since_us: int, now_us: int) -> int:
    """Forget the names no operator holds that nobody tried since ``quiet_since_us`` and that
    are not locked at ``now_us``; the number forgotten."""
    c = unknown_sign_ins.c
    unlocked = or_(c.locked_until_us.is_(None), c.locked_until_us <= now_us)
    statement = delete(unknown_sign_ins).where(c.updated_at_us < quiet_since_us, unlocked)
    return int(connection.execute(statement).rowcount or 0)


def lock_unknown_name(connection: Connection, name_hash: str, locked_until_us: int) -> None:
    connection.execute(
        update(unknown_sign_ins)
        .where(unknown_sign_ins.c.name_hash == name_hash)
        .values(locked_until_us=locked_until_us)
    )
