"""9101 文件上传 and 9102 文件下载 on the national interface (the use cases are
``gongji.fsi.service.files``); 3202 reads a detail list from an uploaded file
(:mod:`gongji.fsi.http.queries`).

The platform's HIS clients send the file in ``fsUploadIn.in`` as a JSON array of byte values
(``[80,75,3,4,…]``); gongji takes that or the same bytes as base64 text, which is a third of
the size on the wire.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any, Final

from gongji.core.clock import from_us
from gongji.fsi.domain import fields
from gongji.fsi.http.envelope import Envelope
from gongji.fsi.service import files
from gongji.kernel.context import BUSINESS_TZ, Context
from gongji.store.uow import UnitOfWork

_FILENAME: Final = re.compile(r"[^/\\\x00-\x1f]{1,200}")
_FILE_QURY_NO: Final = re.compile(r"[A-Za-z0-9_.-]{1,40}")
_BASE64_TEXT_MAX: Final = (files.FILE_BYTES_MAX + 2) // 3 * 4


def upload(ctx: Context, uow: UnitOfWork, env: Envelope, institution: str) -> dict[str, Any]:
    """9101: store the file; its ``file_qury_no`` and the end of its download period."""
    node = fields.child(env.input, "fsUploadIn", "data")
    filename = fields.required_text(node, "filename", pattern=_FILENAME)
    _own_code(node, institution)
    stored = files.upload(ctx, uow, institution, filename, _content(node))
    return {
        "file_qury_no": stored.file_qury_no,
        "filename": stored.filename,
        "dld_endtime": _time(stored.expires_at_us),
        "file_size": stored.size_bytes,
        "sha256": stored.sha256,
    }


def download(ctx: Context, uow: UnitOfWork, env: Envelope, institution: str) -> dict[str, Any]:
    """9102: one of the institution's own files, its bytes as base64 text."""
    node = fields.child(env.input, "fsDownloadIn", "data")
    number = fields.required_text(node, "file_qury_no", pattern=_FILE_QURY_NO)
    _own_code(node, institution)
    found = files.download(ctx, uow, institution, number)
    return {
        "file_qury_no": found.file_qury_no,
        "filename": found.filename,
        "file_size": found.size_bytes,
        "sha256": found.sha256,
        "content": base64.b64encode(found.content).decode("ascii"),
    }


def _own_code(node: fields.Node, institution: str) -> None:
    """``fixmedins_code`` inside the input is optional; sent, it must be the signer's."""
    code = fields.text(node, "fixmedins_code", required=False)
    if code is not None and code != institution:
        raise fields.FsiFieldInvalid(field="fixmedins_code", expected="（应为本机构编号）")


def _content(node: fields.Node) -> bytes:
    value = node.get("in")
    if value is None or value == "" or value == []:
        raise fields.FsiFieldMissing(field="in")
    if isinstance(value, list):
        if len(value) > files.FILE_BYTES_MAX:
            raise files.FsiFileTooLarge(size=len(value), limit=files.FILE_BYTES_MAX)
        if not all(type(b) is int and 0 <= b <= 255 for b in value):
            raise fields.FsiFieldInvalid(
                field="in", expected="（应为 0–255 的字节数组或 base64 文本）"
            )
        return bytes(value)
    if isinstance(value, str):
        if len(value) > _BASE64_TEXT_MAX:
            raise files.FsiFileTooLarge(size=len(value) * 3 // 4, limit=files.FILE_BYTES_MAX)
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise fields.FsiFieldInvalid(field="in", expected="（应为 base64 文本）") from None
    raise fields.FsiFieldInvalid(field="in", expected="（应为 0–255 的字节数组或 base64 文本）")


def _time(at_us: int) -> str:
    return f"{from_us(at_us).astimezone(BUSINESS_TZ):%Y-%m-%d %H:%M:%S}"
