"""Tables of access and replay safety: person tokens, one-time codes, operators, idempotency keys.

Secrets are never stored as given: tokens and one-time codes as SHA-256 hashes, operator
passwords as argon2 hashes, TOTP seeds encrypted. Created by migration 0002.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, String, Table, Text

from gongji.store.tables import metadata

access_tokens = Table(
    "access_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("subject_kind", String(10), nullable=False),
    Column("subject_id", String(64), nullable=False, index=True),
    Column("created_at_us", BigInteger, nullable=False),
    Column("expires_at_us", BigInteger, nullable=False),
    Column("revoked_at_us", BigInteger, nullable=True),
)

one_time_codes = Table(
    "one_time_codes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("mobile_hash", String(64), nullable=False, index=True),
    Column("code_hash", String(64), nullable=False),
    Column("created_at_us", BigInteger, nullable=False),
    Column("expires_at_us", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("used_at_us", BigInteger, nullable=True),
)

operators = Table(
    "operators",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("roles", String(200), nullable=False),
    Column("password_hash", Text, nullable=True),
    Column("totp_secret_enc", Text, nullable=True),
    Column("region", String(6), nullable=True),
    Column("disabled", Integer, nullable=False),
    Column("created_at_us", BigInteger, nullable=False),
    # Added by 0010: the sign-in guard (wrong attempts in a row, lockout, last TOTP step used).
    Column("failed_logins", Integer, nullable=False, server_default="0"),
    Column("locked_until_us", BigInteger, nullable=True),
    Column("last_totp_step", BigInteger, nullable=True),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("scope", String(80), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response_body", Text, nullable=False),
    Column("created_at_us", BigInteger, nullable=False, index=True),
)

ACCESS_TABLES = (access_tokens, one_time_codes, operators, idempotency_keys)

payment_passwords = Table(
    "payment_passwords",
    metadata,
    # Created by 0100: a person's payment password (支付密码), argon2-hashed, with its guard
    # (wrong attempts in a row, lockout) and the one reset code sent by SMS (SHA-256-hashed).
    Column("psn_no", String(32), primary_key=True),
    Column("pin_hash", Text, nullable=False),
    Column("set_at_us", BigInteger, nullable=False),
    Column("failed_attempts", Integer, nullable=False),
    Column("locked_until_us", BigInteger, nullable=True),
    Column("reset_code_hash", String(64), nullable=True),
    Column("reset_expires_at_us", BigInteger, nullable=True),
    Column("reset_attempts", Integer, nullable=False),
)

ledger_check_runs = Table(
    "ledger_check_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at_us", BigInteger, nullable=False),
    Column("finished_at_us", BigInteger, nullable=False),
    Column("ok", Integer, nullable=False),
    Column("report", Text, nullable=False),
    # Added by 0070: ``full`` or ``incremental``, and the last transfer (``seq``) it verified.
    Column("kind", String(12), nullable=False, server_default="full"),
    Column("through_seq", BigInteger, nullable=True),
)
"""Created by 0012: the stored verdicts of ledger checks (a job), read by the endpoint."""

ledger_check_balances = Table(
    "ledger_check_balances",
    metadata,
    Column("num", BigInteger, primary_key=True, autoincrement=False),
    Column("debits_posted", BigInteger, nullable=False),
    Column("credits_posted", BigInteger, nullable=False),
)
"""Created by 0070: each account's posted sums as the last passing check verified them (through
``ledger_check_runs.through_seq``); an incremental check adds only the newer transfers to them."""

rate_limit_counts = Table(
    "rate_limit_counts",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("window_start_ms", BigInteger, primary_key=True),
    Column("count", Integer, nullable=False),
)
"""Created by 0070: the front doors' counts per key and fixed window, shared by every process
of a PostgreSQL deployment (gongji.kernel.shared_ratelimit)."""

unknown_sign_ins = Table(
    "unknown_sign_ins",
    metadata,
    Column("name_hash", String(64), primary_key=True),
    Column("failed_logins", Integer, nullable=False),
    Column("locked_until_us", BigInteger, nullable=True),
    Column("updated_at_us", BigInteger, nullable=False),
)
"""Created by 0070: wrong sign-ins against names no operator holds, by the name's keyed hash,
so such a name is locked out exactly as a known one is (identity_operators)."""
