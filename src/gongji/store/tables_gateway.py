"""The national interface's authentication chosen per institution: gongji's HMAC-SM3 headers
(the default, docs/signing.md) or the platform gateway's ``x-tif-*`` headers. A row exists only
for an institution that chose something other than the default. Created by migration 0031.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, String, Table

from gongji.store.tables import metadata

fsi_gateway_settings = Table(
    "fsi_gateway_settings",
    metadata,
    Column("institution_code", String(12), primary_key=True),
    Column("auth_scheme", String(10), nullable=False),  # hmac-sm3 | tif
    Column("updated_at_us", BigInteger, nullable=False),
)
