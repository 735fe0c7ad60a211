"""Who the patient of a national-interface message is: the holder of the credential the patient
presented at the counter (docs/national-interface.md, "Who the patient is").

One reading for every transaction that names a patient anew, person information (1101), visit
registration (2201, 2401) and the settlements that are not a registered visit's (2101/2102, and
2206/2207, 2303/2304 with their lines inline): ``mdtrt_cert_type`` + ``mdtrt_cert_no`` (``01``
a live e-voucher; ``02``/``03`` an ID or social-security card number with the holder's name,
``psn_name``), or the platform's other form ``psn_cert_type`` ``01`` + ``certno`` + ``psn_name``.
A bare ``psn_no`` is refused (``mdtrt_cert_required``); every failure to identify is one
refusal, ``person_not_identified``, so no answer tells a known number or name from an unknown
one (people.service.credentials_lookup.identify_presented). A ``psn_no`` sent beside the
credential must name its holder.

Identifying is counted and recorded as at every door an institution uses (people.service.
patient_identity: one allowance per institution, ``Limits.fsi_identifications_per_minute``, over
the national interface, the REST settlement API and the desk together; a refusal recorded with
1101's look-ups after its transaction rolled back, by the interface's route). An answered one is
on record as the visit or settlement it opens.

The messages of a registered visit (2203–2207, 2301, 2303/2304 on the uploaded lines, 2402…)
name it by ``mdtrt_id`` and ``psn_no``: the visit carries the identity its registration
established from the presented credential, and ``mdtrt_id`` is the registering institution's
own, so no other institution can use it.
"""

from __future__ import annotations

from typing import Final

from gongji.fsi.domain import fields
from gongji.fsi.http.envelope import Envelope
from gongji.kernel.context import Context
from gongji.people.service.credentials_lookup import (
    CredentialNameMissing,
    CredentialRequired,
    Presented,
    read_presented,
)
from gongji.people.service.patient_identity import Asking, identify_patient
from gongji.store.records import PersonRecord
from gongji.store.uow import UnitOfWork

_ID_CARD: Final = "02"
_PSN_CERT_ID_CARD: Final = "01"  # psn_cert_type 01 = 居民身份证 (national code table)
_NAME_LENGTH_MAX: Final = 50


def presents_credential(data: fields.Node) -> bool:
    """Whether the message carries a credential at all (else it may only name a visit)."""
    return any(
        fields.text(data, name, required=False, length_max=128) is not None
        for name in ("mdtrt_cert_no", "certno")
    )


def presented_credential(data: fields.Node) -> Presented:
    """The credential in the message, read as every door reads one; the platform's other form
    (``psn_cert_type`` ``01`` + ``certno``) is an ID card."""
    psn_no = fields.text(data, "psn_no", required=False, length_max=40)
    cert_type = fields.text(data, "mdtrt_cert_type", required=False, length_max=8)
    cert_no = fields.text(data, "mdtrt_cert_no", required=False, length_max=128)
    if cert_no is None:
        certno = fields.text(data, "certno", required=False, length_max=32)
        psn_cert_type = fields.text(data, "psn_cert_type", required=False, length_max=8)
        if certno is None or psn_cert_type not in (None, _PSN_CERT_ID_CARD):
            raise CredentialRequired()
        cert_type, cert_no = _ID_CARD, certno
    name = fields.text(data, "psn_name", required=False, length_max=_NAME_LENGTH_MAX)
    try:
        return read_presented(cert_type, cert_no, name, psn_no)
    except CredentialNameMissing:
        raise fields.FsiFieldMissing(field="psn_name") from None  # the interface's own answer


def asking(env: Envelope, institution: str, purpose: str) -> Asking:
    """The institution and the operator of the envelope, as a look-up's record keeps them."""
    operator = f"{env.fields.get('opter') or ''} {env.fields.get('opter_name') or ''}".strip()
    return Asking(institution, purpose, env.msgid, operator)


def presented_patient(
    ctx: Context, uow: UnitOfWork, env: Envelope, institution: str, data: fields.Node
) -> PersonRecord:
    """The holder of the credential ``data`` presents (``mdtrt_cert_required`` without one,
    ``person_not_identified`` for every credential that names no one or someone else)."""
    presented = presented_credential(data)
    asked = asking(env, institution, f"{env.infno} 就诊人身份核验")
    return identify_patient(ctx, uow, asked, presented)
