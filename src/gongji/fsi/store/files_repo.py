"""SQL for the files institutions upload on the national interface. No decisions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, delete, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from gongji.store.tables_fsi_files import fsi_files


@dataclass(frozen=True, slots=True)
class FileRow:
    institution_code: str
    file_qury_no: str
    filename: str
    sha256: str
    size_bytes: int
    content: bytes
    uploaded_at_us: int
    expires_at_us: int


_COLUMNS = [fsi_files.c[name] for name in FileRow.__dataclass_fields__]


def insert_if_new(connection: Connection, row: FileRow) -> None:
    """``INSERT … ON CONFLICT DO NOTHING``: the same file uploaded again (or twice at once) is
    stored once, and the first upload's times stay."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    values = {name: getattr(row, name) for name in FileRow.__dataclass_fields__}
    connection.execute(dialect.insert(fsi_files).values(**values).on_conflict_do_nothing())


def file(connection: Connection, institution_code: str, file_qury_no: str) -> FileRow | None:
    found = connection.execute(
        select(*_COLUMNS).where(
            fsi_files.c.institution_code == institution_code,
            fsi_files.c.file_qury_no == file_qury_no,
        )
    ).first()
    return FileRow(*found) if found else None


def delete_expired_file(
    connection: Connection, institution_code: str, file_qury_no: str, now_us: int
) -> None:
    """Delete one file if its period ended at or before ``now_us``."""
    connection.execute(
        delete(fsi_files).where(
            fsi_files.c.institution_code == institution_code,
            fsi_files.c.file_qury_no == file_qury_no,
            fsi_files.c.expires_at_us <= now_us,
        )
    )


def delete_expired(connection: Connection, now_us: int, limit: int) -> int:
    """Delete at most ``limit`` files whose period ended at or before ``now_us`` (the earliest
    first, by ``ix_fsi_files_expiry``); the number deleted."""
    key = tuple_(fsi_files.c.institution_code, fsi_files.c.file_qury_no)
    expired = [
        tuple(row)
        for row in connection.execute(
            select(fsi_files.c.institution_code, fsi_files.c.file_qury_no)
            .where(fsi_files.c.expires_at_us <= now_us)
            .order_by(fsi_files.c.expires_at_us)
            .limit(limit)
        )
    ]
    if not expired:
        return 0
    statement = delete(fsi_files).where(key.in_(expired), fsi_files.c.expires_at_us <= now_us)
    return int(connection.execute(statement).rowcount)
