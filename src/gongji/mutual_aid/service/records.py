"""The mutual-aid area's public face for other areas: a person's wallet, the grants and
authorizations that may pay for them, and the quota an authorization has used.

Settlement runs these inside its own unit of work (they take its connection and lock what it
asks), so the money a settlement draws and the quota it records commit together. They are the
area's SQL, named here so that no other area reaches into ``gongji.mutual_aid.store``; the
``*_read`` builders are the same reads, for a caller that makes them ahead (``uow.prefetch``).
"""

from __future__ import annotations

from gongji.mutual_aid.store.mutual_aid_repo import (
    authorization,
    authorizations_by,
    authorizations_of_read,
    grant,
    grants_by,
    grants_read,
    relationships_of_read,
    update_authorization,
    wallet,
    wallet_read,
)
from gongji.mutual_aid.store.premiums_repo import PremiumRow, premiums_involving_read

__all__ = [
    "PremiumRow",
    "authorization",
    "authorizations_by",
    "authorizations_of_read",
    "grant",
    "grants_by",
    "grants_read",
    "premiums_involving_read",
    "relationships_of_read",
    "update_authorization",
    "wallet",
    "wallet_read",
]
