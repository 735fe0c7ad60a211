"""1101 人员信息获取 as the platform defines it: the institution learns who the patient is from
the credential the patient presents at the counter, and nothing else.

- ``mdtrt_cert_type`` + ``mdtrt_cert_no``: ``01`` a live e-voucher token; ``02`` an ID card or
  ``03`` a social-security card number, each with the holder's name (``psn_name``). The
  platform's other form, ``psn_cert_type`` ``01`` + ``certno`` + ``psn_name``, is read as ``02``.
- A bare ``psn_no`` is refused (``mdtrt_cert_required``): person numbers are sequential, and
  answering them let any institution walk the register.
- Every failure to identify is one refusal, ``person_not_identified`` (people.service.
  credentials_lookup), so the answers do not tell known numbers from unknown ones.
- Each institution may look up ``Limits.fsi_lookups_per_minute`` persons a minute; the limiter
  is asked before anything is read (``rate_limited``).
- Every look-up, answered or refused for want of a match, is recorded (people.service.lookups)
  with the institution, its operator, the person, the credential's type and the outcome; the
  record of a refusal is committed before the refusal is answered.

Birth date and sex are in the answer because the institution has just read them off the
patient's own credential; they are never answered for a number alone. The credential is read
as every transaction that names a patient anew reads it (:mod:`gongji.fsi.http.patients`:
registration, settlements outside a registered visit).
"""

from __future__ import annotations

from typing import Any, Final

from gongji.core.enrolment import INSUTYPE_EMPLOYEE
from gongji.core.errors import GongjiError
from gongji.fsi.domain import fields
from gongji.fsi.http import settlement
from gongji.fsi.http.envelope import Envelope
from gongji.fsi.http.patients import asking, presented_credential
from gongji.kernel.context import Context
from gongji.mutual_aid.service.accounts import parts_available
from gongji.people.service import registry
from gongji.people.service.credentials_lookup import (
    PersonNotIdentified,
    holder_read,
    identify_presented,
)
from gongji.people.service.lookups import record_lookup
from gongji.people.service.patient_identity import ANSWERED, REFUSED, lookup_of
from gongji.people.service.persons import governing_enrolment_read
from gongji.store.raw import Read
from gongji.store.records import PersonRecord
from gongji.store.uow import UnitOfWork

PURPOSE: Final = "1101 人员信息获取"


def person_info(ctx: Context, uow: UnitOfWork, env: Envelope, institution: str) -> dict[str, Any]:
    """1101: who holds the presented credential, their enrolments and own-account balance."""
    ctx.limiter.admit(f"fsi lookup:{institution}", ctx.limits.fsi_lookups_per_minute)
    presented = presented_credential(fields.child(env.input, "data"))
    asked = asking(env, institution, PURPOSE)
    try:
        person = identify_presented(ctx, uow, presented)
    except PersonNotIdentified:
        record_lookup(ctx, uow, lookup_of(asked, presented, None, REFUSED))
        uow.commit()  # the refused look-up stays on record; nothing else was written
        raise
    answered = lookup_of(asked, presented, person.psn_no, ANSWERED)
    record_lookup(ctx, uow, answered)
    return {
        "baseinfo": settlement.person_fields(ctx, person, ctx.today()),
        "insuinfo": _insuinfo(ctx, uow, person),
        "idetinfo": [],
    }


def person_info_reads(ctx: Context, env: Envelope, institution: str) -> list[Read]:
    """What 1101 reads first, to make with the message's nonce check
    (``Transaction.reads_ahead``): an e-voucher names its holder, whose record and enrolments
    are then read in that trip; a card's holder is found by the read itself (nothing ahead),
    and a message that does not parse is refused by the handler, once the nonce is spent."""
    try:
        presented = presented_credential(fields.child(env.input, "data"))
    except GongjiError:
        return []
    holder = holder_read(ctx, presented.cert_type, presented.cert_no)
    if holder is None or holder.psn_no is None:
        return []
    return [holder.read, governing_enrolment_read(holder.psn_no)]


def _insuinfo(ctx: Context, uow: UnitOfWork, person: PersonRecord) -> list[dict[str, Any]]:
    insuinfo = []
    for enrolment in registry.enrolments_of(uow.connection, person.psn_no):
        balc = 0
        if enrolment.insutype == INSUTYPE_EMPLOYEE and enrolment.end_date is None:
            parts = parts_available(ctx, uow, enrolment.region, person.psn_no)
            balc = parts.current_fen + parts.earlier_fen
        insuinfo.append(
            {
                "insutype": enrolment.insutype,
                "psn_insu_stas": enrolment.status,
                "psn_insu_date": enrolment.start_date,
                "paus_insu_date": enrolment.end_date,
                "insuplc_admdvs": enrolment.region,
                **settlement.yuan({"balc": balc}),
            }
        )
    return insuinfo
