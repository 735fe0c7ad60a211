"""The national interface's envelope (国家医保信息平台 接口报文), in and out, docs/rules.md §8.

A request is one JSON object: the envelope fields (who sends, from where, which transaction
``infno``, the message id ``msgid``) and the transaction's ``input``. The answer is always an
envelope too, HTTP 200, with ``infcode`` ``0`` and the ``output``, or ``-1`` and a Chinese
``err_msg``: HIS clients read ``infcode``, not the HTTP status.

The body is read with ``parse_float=Decimal`` so that ``31.5`` is the decimal 31.5 and never a
binary float. Which fields are required is a choice written here once (``REQUIRED``): the ones a
real HIS always fills. ``dev_no``, ``dev_safe_info``, ``cainfo``, ``signtype``, ``sign_no`` and
``insuplc_admdvs`` may be empty (a pharmacy often learns the insured region from 1101).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Final

from gongji.core.errors import GongjiError
from gongji.fsi.domain import fields as fsi_fields
from gongji.kernel.context import BUSINESS_TZ

REQUIRED: Final = (
    "infno",
    "msgid",
    "mdtrtarea_admvs",
    "recer_sys_code",
    "infver",
    "opter_type",
    "opter",
    "opter_name",
    "inf_time",
    "fixmedins_code",
    "fixmedins_name",
)
OPTIONAL: Final = ("insuplc_admdvs", "dev_no", "dev_safe_info", "cainfo", "signtype", "sign_no")

_INFNO: Final = re.compile(r"[0-9]{4}")
_MSGID: Final = re.compile(r"[A-Za-z0-9_-]{1,30}")
REGION_PATTERN: Final = re.compile(r"[0-9]{6}")
"""An administrative division code as the platform writes it (six digits)."""
_INF_TIME: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")
_FIXMEDINS_CODE: Final = re.compile(r"[A-Z0-9]{12}")
_PATTERNS: Final = {
    "infno": _INFNO,
    "msgid": _MSGID,
    "mdtrtarea_admvs": REGION_PATTERN,
    "insuplc_admdvs": REGION_PATTERN,
    "inf_time": _INF_TIME,
    "fixmedins_code": _FIXMEDINS_CODE,
}
REFMSGID_SEQUENCE_DIGITS: Final = 10


class FsiMessageInvalid(GongjiError):
    code: ClassVar[str] = "fsi_message_invalid"
    message_zh: ClassVar[str] = "报文格式不正确：应为 UTF-8 编码的 JSON 对象"
    message_en: ClassVar[str] = "The message must be a UTF-8 JSON object"


class FsiInputMissing(GongjiError):
    code: ClassVar[str] = "fsi_field_missing"
    message_zh: ClassVar[str] = "缺少必填字段：input"
    message_en: ClassVar[str] = "Required field missing: input"


@dataclass(frozen=True, slots=True)
class Envelope:
    """The envelope fields as sent (text), and the transaction's ``input`` object."""

    fields: Mapping[str, str | None]
    input: fsi_fields.Node

    @property
    def infno(self) -> str:
        return self.fields["infno"] or ""

    @property
    def msgid(self) -> str:
        return self.fields["msgid"] or ""

    @property
    def fixmedins_code(self) -> str:
        return self.fields["fixmedins_code"] or ""

    @property
    def mdtrtarea_admvs(self) -> str:
        return self.fields["mdtrtarea_admvs"] or ""


def read_message(raw: bytes) -> Mapping[str, Any]:
    """The JSON object of a request body, numbers with a fraction as Decimal."""
    try:
        message = json.loads(raw.decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise FsiMessageInvalid() from None
    if not isinstance(message, Mapping):
        raise FsiMessageInvalid()
    return message


def parse_envelope(message: Mapping[str, Any]) -> Envelope:
    """Every envelope field checked, the first problem refused with the field it concerns."""
    fields: dict[str, str | None] = {}
    for name in REQUIRED + OPTIONAL:
        fields[name] = fsi_fields.text(
            message, name, required=name in REQUIRED, pattern=_PATTERNS.get(name)
        )
    node = message.get("input")
    if node is None or node == "":
        raise FsiInputMissing()
    if not isinstance(node, Mapping):
        raise fsi_fields.FsiFieldInvalid(field="input", expected="（应为对象）")
    return Envelope(fields, node)


def region_of(message: Mapping[str, Any]) -> str:
    """The province of the place of treatment, for ``inf_refmsgid``; ``000000`` if unreadable."""
    region = message.get("mdtrtarea_admvs")
    if isinstance(region, str) and REGION_PATTERN.fullmatch(region):
        return region[:2] + "0000"
    return "000000"


def inf_refmsgid(province: str, received: datetime) -> str:
    """The platform's reply id: province (6 digits), ``yyyyMMddHHmmss`` and a 10-digit
    sequence, 30 characters, as the platform writes it: ``370000202403011011300003011957``."""
    local = received.astimezone(BUSINESS_TZ)
    sequence = secrets.randbelow(10**REFMSGID_SEQUENCE_DIGITS)
    return f"{province}{local:%Y%m%d%H%M%S}{sequence:0{REFMSGID_SEQUENCE_DIGITS}d}"


NATIONAL_TIME: Final = "yyyy-MM-dd HH:mm:ss.SSS"
COMPACT_TIME: Final = "yyyyMMddHHmmssSSS"


def platform_time(instant: datetime, time_format: str = NATIONAL_TIME) -> str:
    """``refmsg_time`` and ``respond_time`` in Asia/Shanghai, as the province writes them:
    ``yyyy-MM-dd HH:mm:ss.SSS`` (the national default) or ``yyyyMMddHHmmssSSS``."""
    local = instant.astimezone(BUSINESS_TZ)
    millis = f"{local.microsecond // 1000:03d}"
    if time_format == COMPACT_TIME:
        return f"{local:%Y%m%d%H%M%S}{millis}"
    return f"{local:%Y-%m-%d %H:%M:%S}.{millis}"


def answer(
    province: str,
    received: datetime,
    responded: datetime,
    output: Mapping[str, Any] | None,
    err_msg: str | None = None,
    time_format: str = NATIONAL_TIME,
) -> dict[str, Any]:
    """The reply envelope: ``infcode`` 0 with ``output``, or −1 with ``err_msg``.

    ``warn_msg``, ``cainfo`` and ``signtype`` are always there, as on the platform, because HIS
    clients generated from its field list read them: gongji has no warnings, and signs with
    HTTP headers rather than inside the envelope (docs/national-interface.md, Signing), so all
    three are ``null``."""
    return {
        "infcode": -1 if err_msg is not None else 0,
        "inf_refmsgid": inf_refmsgid(province, received),
        "refmsg_time": platform_time(received, time_format),
        "respond_time": platform_time(responded, time_format),
        "err_msg": err_msg,
        "warn_msg": None,
        "cainfo": None,
        "signtype": None,
        "output": output,
    }
