"""The mutual-aid area's public face for other areas: a person's wallet, the grants and
authorizations that may pay for them, and the quota an authorization has used.

Settlement runs these inside its own unit of work (they take its connection and lock what it
asks), so the money a settlement draws and the quota it records commit together. They are the
area's SQL, named here so that no other area reaches into ``gongji.mutual_aid.store``.
"""

from __future__ import annotations

from gongji.mutual_aid.store.mutual_aid_repo import (
    authorization,
    authorizations_by,
    grant,
    grants_by,
    update_authorization,
    wallet,
)
from gongji.mutual_aid.store.premiums_repo import PremiumRow

__all__ = [
    "PremiumRow",
    "authorization",
    "authorizations_by",
    "grant",
    "grants_by",
    "update_authorization",
    "wallet",
]
