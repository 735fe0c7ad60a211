"""Files on the national interface: 9101 文件上传 stores a file and answers its
``file_qury_no``; 3202 reads a detail list from it; 9102 文件下载 gives it back. A file is
its institution's alone (another's number is not found) and is kept :data:`KEPT_DAYS` days:
refused from then on, and deleted by the ``fsi-files`` job (:mod:`gongji.jobs.fsi_files`).

The number is made from the institution, the file name and the content's SHA-256, so the same
file uploaded again (a HIS that lost the answer) is the same file: stored once, same number,
nothing written twice.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from typing import ClassVar, Final

from gongji.core.errors import GongjiError
from gongji.fsi.store import files_repo as repo
from gongji.fsi.store.files_repo import FileRow
from gongji.kernel.context import Context
from gongji.store.uow import UnitOfWork

FILE_BYTES_MAX: Final = 512 * 1024
"""The largest file, decoded (its base64 text fits the 1 MiB body limit)."""
UNZIPPED_BYTES_MAX: Final = 8 * 1024 * 1024
"""The largest text a zipped detail list may unpack to (a zip bomb stops here)."""
KEPT_DAYS: Final = 7
_US_PER_DAY: Final = 86_400_000_000


class FsiFileTooLarge(GongjiError):
    code: ClassVar[str] = "fsi_file_too_large"
    message_zh: ClassVar[str] = "文件过大：{size} 字节，上限 {limit} 字节"
    message_en: ClassVar[str] = "The file is too large: {size} bytes, at most {limit}"


class FsiFileEmpty(GongjiError):
    code: ClassVar[str] = "fsi_file_empty"
    message_zh: ClassVar[str] = "文件内容为空"
    message_en: ClassVar[str] = "The file is empty"


class FsiFileNotFound(GongjiError):
    code: ClassVar[str] = "fsi_file_not_found"
    message_zh: ClassVar[str] = "未找到文件：{file_qury_no}（不存在、不属于本机构或已过下载期限）"
    message_en: ClassVar[str] = (
        "No such file of this institution (or past its period): {file_qury_no}"
    )


class FsiFileUnreadable(GongjiError):
    code: ClassVar[str] = "fsi_file_unreadable"
    message_zh: ClassVar[str] = "文件 {file_qury_no} 无法读取：{reason}"
    message_en: ClassVar[str] = "File {file_qury_no} cannot be read: {reason}"


@dataclass(frozen=True, slots=True)
class StoredFile:
    file_qury_no: str
    filename: str
    sha256: str
    size_bytes: int
    uploaded_at_us: int
    expires_at_us: int


def upload(
    ctx: Context, uow: UnitOfWork, institution: str, filename: str, content: bytes
) -> StoredFile:
    """Store a file (once) and describe it."""
    if not content:
        raise FsiFileEmpty()
    if len(content) > FILE_BYTES_MAX:
        raise FsiFileTooLarge(size=len(content), limit=FILE_BYTES_MAX)
    digest = hashlib.sha256(content).hexdigest()
    key = hashlib.sha256(f"{institution}\0{filename}\0{digest}".encode()).hexdigest()
    number = "F" + key[:29]
    now_us = ctx.now_us()
    expires = now_us + KEPT_DAYS * _US_PER_DAY
    row = FileRow(institution, number, filename, digest, len(content), content, now_us, expires)
    # The same file past its period, not yet deleted by the job, is stored anew: kept, its old
    # row would answer a dld_endtime already past and be refused on the next 9102.
    repo.delete_expired_file(uow.connection, institution, number, now_us)
    repo.insert_if_new(uow.connection, row)
    stored = repo.file(uow.connection, institution, number)
    assert stored is not None  # stored just now, or before
    return _described(stored)


def download(ctx: Context, uow: UnitOfWork, institution: str, file_qury_no: str) -> FileRow:
    """The institution's own file, within its download period."""
    found = repo.file(uow.connection, institution, file_qury_no)
    if found is None or found.expires_at_us <= ctx.now_us():
        raise FsiFileNotFound(file_qury_no=file_qury_no)
    return found


def text_of(ctx: Context, uow: UnitOfWork, institution: str, file_qury_no: str) -> str:
    """A file's text (UTF-8, a leading BOM dropped): the file itself, or the one file inside
    it when it is a zip archive, as the platform's HIS clients upload it."""
    content = download(ctx, uow, institution, file_qury_no).content
    if zipfile.is_zipfile(io.BytesIO(content)):
        content = _unzipped(file_qury_no, content)
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FsiFileUnreadable(file_qury_no=file_qury_no, reason="不是 UTF-8 文本") from None


def _unzipped(file_qury_no: str, content: bytes) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = [info for info in archive.infolist() if not info.is_dir()]
            if len(members) != 1:
                reason = f"压缩包应只含一个文件，含 {len(members)} 个"
                raise FsiFileUnreadable(file_qury_no=file_qury_no, reason=reason)
            with archive.open(members[0]) as member:
                text = member.read(UNZIPPED_BYTES_MAX + 1)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError):
        raise FsiFileUnreadable(file_qury_no=file_qury_no, reason="压缩包已损坏") from None
    if len(text) > UNZIPPED_BYTES_MAX:
        reason = f"解压后超过 {UNZIPPED_BYTES_MAX} 字节"
        raise FsiFileUnreadable(file_qury_no=file_qury_no, reason=reason)
    return text


def delete_expired(ctx: Context, uow: UnitOfWork, limit: int) -> int:
    """Delete at most ``limit`` files past their period (the ones :func:`download` already
    refuses); the number deleted. Deleting none changes nothing, so any run may repeat."""
    return repo.delete_expired(uow.connection, ctx.now_us(), limit)


def _described(row: FileRow) -> StoredFile:
    return StoredFile(
        row.file_qury_no,
        row.filename,
        row.sha256,
        row.size_bytes,
        row.uploaded_at_us,
        row.expires_at_us,
    )
