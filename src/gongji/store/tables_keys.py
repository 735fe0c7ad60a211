"""Tables of the secret key's state: its fingerprint, the wrapped blind-index key, a rotation.

The key itself is never stored here. ``key_state`` holds one row (``id = 'current'``): the
fingerprint that start-up compares the configured key against, and the blind-index key sealed
under the current key (so that rotating the encryption key keeps every keyed hash valid: the
kinship register stores only hashes, which no rotation could recompute). ``key_rotation``
records, per encrypted table, the last primary key re-encrypted under the key being rotated to,
so that an interrupted rotation resumes where its last committed batch ended.
Created by migration 0020.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, String, Table, Text

from gongji.store.tables import metadata

FINGERPRINT_LENGTH = 64

key_state = Table(
    "key_state",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("fingerprint", String(FINGERPRINT_LENGTH), nullable=False),
    Column("index_key_enc", Text, nullable=False),
    Column("rotating_to", String(FINGERPRINT_LENGTH), nullable=True),
    Column("created_at_us", BigInteger, nullable=False),
    Column("updated_at_us", BigInteger, nullable=False),
)

key_rotation = Table(
    "key_rotation",
    metadata,
    Column("target", String(FINGERPRINT_LENGTH), primary_key=True),
    Column("table_name", String(64), primary_key=True),
    Column("last_key", String(128), nullable=True),
    Column("rows_done", BigInteger, nullable=False),
    Column("finished", BigInteger, nullable=False),
)

KEY_TABLES = (key_state, key_rotation)
