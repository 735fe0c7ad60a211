"""Who holds a medical credential (就诊凭证) a patient presents at an institution's counter.

A designated institution names the patient by ``mdtrt_cert_type`` and ``mdtrt_cert_no``
(national code table ``mdtrt_cert_type``):

``01`` e-voucher (医保电子凭证)
    The patient's app shows a QR code; the institution's scanner turns it into a token. gongji's
    token is stateless: ``base64url("psn_no:expiry")`` plus an HMAC of that text under the
    vault's look-up key, so only gongji can make one, it names one person and it expires
    (:data:`EC_TOKEN_VALID_S`). Nothing is stored per token, so issuing one costs no write.
``02`` resident ID card (居民身份证)
    The 18-character number **with the holder's name**, found by the vault's keyed hash (the
    number is never stored in clear and never searched as text).
``03`` social security card (社会保障卡)
    Its number is the holder's ID number (社会保障号码 = 公民身份号码), so it is read as ``02``,
    with the name as well.

Every door an institution uses reads a credential the same way (:func:`read_presented`) and
identifies its holder the same way (:func:`identify_presented`): the national interface, the
REST settlement API and the desk (people.service.patient_identity). A bare person number is
refused (``mdtrt_cert_required``): person numbers are sequential, and answering them let any
institution walk the register. Every failure to identify (unknown number, wrong name, forged or
expired token, a person number naming someone else) is one and the same refusal,
``person_not_identified``, so no answer tells an institution whether a number or a name is in
the register.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Final

from gongji.core.errors import GongjiError
from gongji.core.ids import parse_resident_id
from gongji.kernel.context import Context
from gongji.kernel.errors import NotFound
from gongji.people.service.persons import require_person
from gongji.people.store import people_repo as repo
from gongji.store.raw import Read
from gongji.store.records import PersonRecord
from gongji.store.uow import UnitOfWork

EC_TOKEN_VALID_S: Final = 4 * 3600
"""How long an e-voucher token identifies its holder on its own: one visit, not one year."""

EC_TOKEN_LENGTH_MAX: Final = 128
_EC_CONTEXT: Final = "ec token v1"
_US_PER_S: Final = 1_000_000


class CertType(StrEnum):
    """``mdtrt_cert_type`` values gongji reads."""

    E_VOUCHER = "01"
    ID_CARD = "02"
    SOCIAL_SECURITY_CARD = "03"


class CredentialTypeUnknown(GongjiError):
    code: ClassVar[str] = "mdtrt_cert_type_unknown"
    message_zh: ClassVar[str] = (
        "不支持的就诊凭证类型：{mdtrt_cert_type}（支持 01 电子凭证、02 身份证、03 社保卡）"
    )
    message_en: ClassVar[str] = "Unsupported mdtrt_cert_type {mdtrt_cert_type} (01, 02 or 03)"


class CredentialInvalid(GongjiError):
    """An e-voucher token gongji did not make, or one that has expired."""

    code: ClassVar[str] = "mdtrt_cert_invalid"
    message_zh: ClassVar[str] = "医保电子凭证无效或已过期，请重新扫码"
    message_en: ClassVar[str] = "The e-voucher is invalid or expired; scan it again"


class CredentialRequired(GongjiError):
    code: ClassVar[str] = "mdtrt_cert_required"
    message_zh: ClassVar[str] = (
        "须凭参保人出示的就诊凭证（电子凭证，或身份证、社保卡号码及姓名）识别参保人，"
        "不受理仅凭人员编号的人员信息获取、挂号、入院或结算"
    )
    message_en: ClassVar[str] = (
        "Identify the patient by the credential presented (e-voucher, or ID or social-security "
        "card number with the name): a bare psn_no is not accepted for person information, "
        "registration, admission or settlement"
    )


class CredentialNameMissing(GongjiError):
    """A card number without its holder's name: the number alone is printed on too many papers
    (and was enough, with a masked answer, to rebuild it)."""

    code: ClassVar[str] = "psn_name_required"
    message_zh: ClassVar[str] = "凭身份证或社保卡号码识别参保人时，须同时提供参保人姓名"
    message_en: ClassVar[str] = "An ID or social-security card number needs the holder's name"


class PersonNotIdentified(GongjiError):
    """One answer for every way a presented credential can fail to name someone."""

    code: ClassVar[str] = "person_not_identified"
    message_zh: ClassVar[str] = "未能凭所出示的就诊凭证识别参保人，请核对凭证和姓名"
    message_en: ClassVar[str] = "The credential presented names no insured person; check it"


@dataclass(frozen=True, slots=True)
class Presented:
    """A credential as the patient presented it at the counter; ``name`` for cards."""

    cert_type: str | None
    cert_no: str
    name: str | None = None
    psn_no: str | None = None


def read_presented(
    cert_type: str | None, cert_no: str | None, name: str | None, psn_no: str | None
) -> Presented:
    """The credential as a door received it: ``mdtrt_cert_required`` without one (a person
    number alone is no credential), ``psn_name_required`` for a card without its holder's
    name. Nothing is looked up here."""
    if not cert_no:
        raise CredentialRequired()
    kind = _cert_type(cert_type)
    name = (name or "").strip() or None
    if kind is not CertType.E_VOUCHER and name is None:
        raise CredentialNameMissing()
    return Presented(kind.value, cert_no, name, psn_no or None)


def issue_ec_token(ctx: Context, psn_no: str, valid_s: int = EC_TOKEN_VALID_S) -> str:
    """An e-voucher token for ``psn_no`` (what the wallet app's QR code carries)."""
    expires_s = ctx.now_us() // _US_PER_S + valid_s
    payload = base64.urlsafe_b64encode(f"{psn_no}:{expires_s}".encode()).decode().rstrip("=")
    return f"{payload}.{_mac(ctx, payload)}"


def _cert_type(text: str | None) -> CertType:
    if text not in {kind.value for kind in CertType}:
        raise CredentialTypeUnknown(mdtrt_cert_type=str(text)[:8])
    return CertType(text)


def _by_id_number(ctx: Context, uow: UnitOfWork, number: str) -> PersonRecord:
    found = repo.person_by_id_hash(uow.connection, _id_hash(ctx, number))
    if found is None:
        raise NotFound(what="人员")
    return found


def _id_hash(ctx: Context, number: str) -> str:
    checked = parse_resident_id(number, today=ctx.today())
    return ctx.vault.id_number_hash(checked.number)


def _ec_holder(ctx: Context, token: str) -> tuple[str, bool]:
    """The token's person number and whether it has expired; a forged token is refused."""
    payload, _, mac = token.partition(".")
    if len(token) > EC_TOKEN_LENGTH_MAX or not token.isascii():
        raise CredentialInvalid()
    if not hmac.compare_digest(mac, _mac(ctx, payload)):
        raise CredentialInvalid()
    try:
        text = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
        psn_no, expires = text.rsplit(":", 1)
        expires_s = int(expires)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise CredentialInvalid() from None
    return psn_no, expires_s * _US_PER_S < ctx.now_us()


@dataclass(frozen=True, slots=True)
class HolderRead:
    """How to read the holder of a presented credential without reading anything first."""

    read: Read
    psn_no: str | None
    """Known already when the credential names it (an e-voucher); a card's comes with the read."""


def holder_read(ctx: Context, cert_type: str | None, cert_no: str | None) -> HolderRead | None:
    """The read that finds a presented credential's holder: the person by the e-voucher's
    number, once its seal checks (expired or not), or by the card number's hash. None for a
    credential that does not check, which identifying the patient refuses. For reading ahead
    only: it identifies no one."""
    if not cert_no:
        return None
    try:
        if cert_type == CertType.E_VOUCHER.value:
            psn_no = _ec_holder(ctx, cert_no)[0]
            return HolderRead(repo.person_read(psn_no), psn_no)
        if cert_type in (CertType.ID_CARD.value, CertType.SOCIAL_SECURITY_CARD.value):
            return HolderRead(repo.person_by_id_hash_read(_id_hash(ctx, cert_no)), None)
    except GongjiError:
        return None
    return None


def _mac(ctx: Context, payload: str) -> str:
    # 32 hex characters (128 bits) keep the token short enough for a QR code.
    return ctx.vault.lookup_hash(payload, context=_EC_CONTEXT)[:32]


def identify_presented(ctx: Context, uow: UnitOfWork, presented: Presented) -> PersonRecord:
    """The holder of a presented credential, or ``person_not_identified`` for every failure.

    A card needs the holder's name: the number alone is printed on too many papers (and was
    enough, with the masked answer, to rebuild the number). The name is hashed whether or not
    the number is found, so a miss costs what a hit costs.
    """
    kind = _cert_type(presented.cert_type)
    name_hash = ctx.vault.name_hash((presented.name or "").strip())
    try:
        found = _presented_holder(ctx, uow, kind, presented.cert_no)
    except GongjiError:
        raise PersonNotIdentified() from None
    if kind is not CertType.E_VOUCHER and not hmac.compare_digest(found.name_hash, name_hash):
        raise PersonNotIdentified()
    if presented.psn_no and presented.psn_no != found.psn_no:
        raise PersonNotIdentified()
    return found


def _presented_holder(ctx: Context, uow: UnitOfWork, kind: CertType, cert_no: str) -> PersonRecord:
    if kind is CertType.E_VOUCHER:
        holder, expired = _ec_holder(ctx, cert_no)
        if expired:
            raise CredentialInvalid()
        return require_person(uow, holder)
    return _by_id_number(ctx, uow, cert_no)
