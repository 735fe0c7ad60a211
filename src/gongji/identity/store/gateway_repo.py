"""SQL for the per-institution choice of the national interface's authentication. No decisions."""

from __future__ import annotations

from sqlalchemy import Connection

from gongji.store import raw
from gongji.store.tables_gateway import fsi_gateway_settings  # noqa: F401  (registers the table)

_SCHEME = "SELECT auth_scheme FROM fsi_gateway_settings WHERE institution_code = :code"
_DELETE = "DELETE FROM fsi_gateway_settings WHERE institution_code = :code"
_INSERT = (
    "INSERT INTO fsi_gateway_settings (institution_code, auth_scheme, updated_at_us)"
    " VALUES (:code, :scheme, :now_us)"
)


def scheme(connection: Connection, institution_code: str) -> str | None:
    found = raw.fetch(connection, _SCHEME, {"code": institution_code})
    return str(found[0][0]) if found else None


def set_scheme(connection: Connection, institution_code: str, value: str, now_us: int) -> None:
    raw.execute(connection, _DELETE, {"code": institution_code})
    raw.execute(connection, _INSERT, {"code": institution_code, "scheme": value, "now_us": now_us})
