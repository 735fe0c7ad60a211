"""Who the patient at an institution's counter is, whichever door the institution comes through:
the national interface (registrations, settlements outside a registered visit), the REST
settlement API (``/api/v1/settlements`` and its quote) and the desk's pages.

Each door reads the credential the patient presented (people.service.credentials_lookup.
read_presented) and asks :func:`identify_patient` for its holder. One rule for all of them:

- Identifications are counted per institution, over every door together, before anything is
  read (``Limits.fsi_identifications_per_minute``, ``rate_limited``): guessing card numbers and
  names through one door is no faster than through another, nor through two at once.
- Every failure is one refusal, ``person_not_identified``. It carries the record of the look-up
  that failed (:class:`PatientNotIdentified`): the refusing transaction rolls back (a
  registration's claim of its message id with it, so a corrected retry is answered), and the
  door writes the record in a transaction of its own before answering
  (:func:`recording_refusal`). A run of refusals from one institution is what an attempt to
  harvest the register looks like.
- An answered identification is on record as the visit or settlement it opens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TypeVar

from gongji.kernel.context import Context
from gongji.people.service.credentials_lookup import (
    PersonNotIdentified,
    Presented,
    identify_presented,
)
from gongji.people.service.lookups import Lookup, record_lookup
from gongji.store.records import PersonRecord
from gongji.store.uow import UnitOfWork, run_in_transaction

T = TypeVar("T")
REFUSED: Final = "person_not_identified"
ANSWERED: Final = "answered"


@dataclass(frozen=True, slots=True)
class Asking:
    """Who identifies a patient, why, under which message: what a look-up's record keeps."""

    institution_code: str
    purpose: str
    reference: str = ""
    """The message id (national interface) or request id (REST) it came under, if any."""
    operator: str = ""


class PatientNotIdentified(PersonNotIdentified):
    """The same refusal as every failed identification, with the look-up to put on record once
    the transaction that refused has ended."""

    def __init__(self, lookup: Lookup) -> None:
        super().__init__()
        self.lookup = lookup


def admit_identification(ctx: Context, institution_code: str) -> None:
    """Count one identification against the institution's allowance (``rate_limited`` once it
    is spent), before anything is read."""
    limit = ctx.limits.fsi_identifications_per_minute
    ctx.limiter.admit(f"identify:{institution_code}", limit)


def identify_patient(
    ctx: Context, uow: UnitOfWork, asking: Asking, presented: Presented
) -> PersonRecord:
    """The holder of the presented credential, counted against the institution's allowance;
    :class:`PatientNotIdentified` for every credential that names no one or someone else."""
    admit_identification(ctx, asking.institution_code)
    try:
        return identify_presented(ctx, uow, presented)
    except PersonNotIdentified:
        raise PatientNotIdentified(lookup_of(asking, presented, None, REFUSED)) from None


def lookup_of(asking: Asking, presented: Presented, psn_no: str | None, outcome: str) -> Lookup:
    """One look-up as the record keeps it: the institution, its operator, whom, why, outcome."""
    return Lookup(
        institution_code=asking.institution_code,
        psn_no=psn_no,
        cert_type=presented.cert_type or "",
        purpose=asking.purpose,
        msgid=asking.reference,
        operator=asking.operator,
        outcome=outcome,
    )


def recording_refusal(ctx: Context, action: Callable[[], T]) -> T:
    """``action()``, whose transaction has ended when it returns or raises; a refused
    identification's look-up is then recorded in a transaction of its own, and the refusal
    goes on."""
    try:
        return action()
    except PatientNotIdentified as refused:
        lookup = refused.lookup
        run_in_transaction(ctx.engine, lambda uow: _record(ctx, uow, lookup))
        raise


def _record(ctx: Context, uow: UnitOfWork, lookup: Lookup) -> None:
    record_lookup(ctx, uow, lookup)
    uow.commit()
