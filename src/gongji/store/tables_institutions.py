"""Tables of designated institutions, their signing credentials, the nonces of signed requests,
and the medical-insurance catalogue.

An institution's signing secret is stored encrypted with the Vault, not hashed: verifying an
HMAC needs the secret itself. Nonces live only as long as a replay could still pass the time
window (twice the window: a request stamped at the window's far edge may be seen at its near
edge). Medical categories (``med_type``) are constants of the national interface, not a table.
Created by migration 0003 (as these definitions stand; change them only through a new
migration, after freezing the old definition into 0003).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from gongji.store.tables import metadata

INSTITUTION_CODE_LENGTH = 12
KEY_ID_LENGTH = 40
NONCE_LENGTH_MAX = 64
ITEM_CODE_LENGTH = 40

institutions = Table(
    "institutions",
    metadata,
    Column("code", String(INSTITUTION_CODE_LENGTH), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("region", String(6), nullable=False, index=True),
    Column("kind", String(10), nullable=False),  # hospital | pharmacy
    Column("level", String(10), nullable=False),  # primary | secondary | tertiary | none
    Column("supports_wallet", Integer, nullable=False),
    Column("status", String(10), nullable=False),  # active | suspended
    Column("created_at_us", BigInteger, nullable=False),
    Column("updated_at_us", BigInteger, nullable=False),
)

institution_credentials = Table(
    "institution_credentials",
    metadata,
    Column("key_id", String(KEY_ID_LENGTH), primary_key=True),
    Column("institution_code", String(INSTITUTION_CODE_LENGTH), nullable=False, index=True),
    Column("secret_enc", Text, nullable=False),
    Column("created_at_us", BigInteger, nullable=False),
    Column("revoked_at_us", BigInteger, nullable=True),
)

request_nonces = Table(
    "request_nonces",
    metadata,
    Column("key_id", String(KEY_ID_LENGTH), primary_key=True),
    Column("nonce", String(NONCE_LENGTH_MAX), primary_key=True),
    Column("seen_at_us", BigInteger, nullable=False),
    # Per-key purge on every signed request, and a global sweep.
    Index("ix_request_nonces_key_seen", "key_id", "seen_at_us"),
    Index("ix_request_nonces_seen", "seen_at_us"),
)

catalogue_items = Table(
    "catalogue_items",
    metadata,
    Column("code", String(ITEM_CODE_LENGTH), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("item_class", String(1), nullable=False),  # A 甲类 | B 乙类 | C 丙类
    Column("selfpay_prop", String(16), nullable=False),  # a decimal as text: "0.10"
    Column("price_ceiling_fen", BigInteger, nullable=True),
    Column("account_payable", Integer, nullable=False),
    Column("category", String(20), nullable=False),
    Column("in_catalogue", Integer, nullable=False),
    Column("updated_at_us", BigInteger, nullable=False),
    # 1: the ceiling is the one price every institution charges (统一定价); 0: each sets its own.
    Column("price_fixed", Integer, nullable=False, server_default="0"),
    # 拼音首字母 of the name (amxljn for 阿莫西林胶囊), written with the name: the desk's search.
    Column("name_initials", String(200), nullable=False, server_default=""),
)

INSTITUTION_TABLES = (institutions, institution_credentials, request_nonces, catalogue_items)
