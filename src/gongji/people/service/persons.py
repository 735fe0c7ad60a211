"""Registering insured persons and their enrolments, and reading who a person is.

Registration is idempotent: the same person and enrolment registered again change nothing; the
same person number with a different ID number is refused. An employee enrolment (310) opens the
two personal-account parts in the ledger, and an opening balance is posted once per part.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from gongji.core.enrolment import INSUTYPE_EMPLOYEE, EnrolmentStatus
from gongji.core.ids import parse_resident_id
from gongji.kernel import chart
from gongji.kernel.context import Context
from gongji.kernel.errors import LedgerRefused, NotFound, PersonExists, RegionUnknown
from gongji.kernel.pii import Vault
from gongji.kernel.sealed import SealedColumn, SealedTable, fixed
from gongji.ledger.types import CreateTransferResult, Transfer
from gongji.people.store import people_repo as repo
from gongji.store.raw import Read
from gongji.store.records import EnrolmentRecord, PersonRecord
from gongji.store.tables_people import persons
from gongji.store.uow import UnitOfWork

OK_OR_EXISTS = {CreateTransferResult.OK, CreateTransferResult.EXISTS}


@dataclass(frozen=True, slots=True)
class PersonInput:
    psn_no: str
    id_number: str
    name: str
    mobile: str | None
    insutype: str
    region: str
    status: EnrolmentStatus
    employment: str  # employed | retired
    start_date: date
    current_fen: int = 0
    earlier_fen: int = 0


SEALED_PERSONS = SealedTable(
    persons,
    "psn_no",
    (
        SealedColumn("id_enc", fixed("id_number")),
        SealedColumn("name_enc", fixed("name")),
        SealedColumn("mobile_enc", fixed("mobile")),
    ),
)
"""The persons' encrypted columns, for the key's check and rotation (gongji.kernel.keys)."""


@dataclass(frozen=True, slots=True)
class Registered:
    psn_no: str
    created_person: bool
    created_enrolment: bool


def register_person(ctx: Context, uow: UnitOfWork, data: PersonInput) -> Registered:
    """Create (or find unchanged) the person, the enrolment and, for 310, the personal account."""
    if data.region not in ctx.regions:
        raise RegionUnknown(region=data.region)
    identity = parse_resident_id(data.id_number, today=ctx.today())
    created_person = _ensure_person(ctx, uow, data, identity.number, identity.sex.value)
    connection = uow.connection
    start = data.start_date.isoformat()
    existing = repo.find_enrolment(connection, data.psn_no, data.insutype, data.region, start)
    if existing is None:
        repo.insert_enrolment(
            connection,
            {
                "psn_no": data.psn_no,
                "insutype": data.insutype,
                "region": data.region,
                "status": data.status.value,
                "employment": data.employment,
                "start_date": start,
                "end_date": None,
                "updated_at_us": ctx.now_us(),
            },
        )
    if data.insutype == INSUTYPE_EMPLOYEE:
        open_personal_account(
            ctx, uow, data.region, data.psn_no, data.current_fen, data.earlier_fen
        )
    return Registered(data.psn_no, created_person, existing is None)


def _ensure_person(ctx: Context, uow: UnitOfWork, data: PersonInput, number: str, sex: str) -> bool:
    id_hash = ctx.vault.id_number_hash(number)
    known = repo.person(uow.connection, data.psn_no)
    if known is not None:
        if known.id_hash != id_hash:
            raise PersonExists(psn_no=data.psn_no)
        return False
    if repo.person_by_id_hash(uow.connection, id_hash) is not None:
        raise PersonExists(psn_no=data.psn_no)
    id_number, name = ctx.vault.id_number(number), ctx.vault.name(data.name)
    mobile = ctx.vault.mobile(data.mobile) if data.mobile else None
    repo.insert_person(
        uow.connection,
        {
            "psn_no": data.psn_no,
            "id_hash": id_number.hash,
            "id_enc": id_number.enc,
            "id_masked": id_number.masked,
            "name_hash": name.hash,
            "name_enc": name.enc,
            "name_masked": name.masked,
            "mobile_hash": mobile.hash if mobile else None,
            "mobile_enc": mobile.enc if mobile else None,
            "mobile_masked": mobile.masked if mobile else None,
            "sex": sex,
            "death_date": None,
            "created_at_us": ctx.now_us(),
        },
    )
    return True


def open_personal_account(
    ctx: Context, uow: UnitOfWork, region: str, psn_no: str, current_fen: int, earlier_fen: int
) -> None:
    """Ledger accounts of both parts and their opening balances, each posted at most once."""
    ctx.ledger.create_accounts_in(
        uow, [chart.injection_account(region), *chart.personal_accounts(region, psn_no)]
    )
    opening = [
        Transfer(
            f"open:{region}:{psn_no}:{part}",
            chart.injection_source(region),
            account,
            amount,
            chart.LEDGER_CNY,
            chart.TransferCode.OPENING_BALANCE,
            ref=psn_no,
        )
        for part, account, amount in (
            ("cur", chart.personal_current(region, psn_no), current_fen),
            ("old", chart.personal_earlier(region, psn_no), earlier_fen),
        )
        if amount > 0
    ]
    results = ctx.ledger.create_transfers_in(uow, opening)
    if not set(results) <= OK_OR_EXISTS:
        raise LedgerRefused("opening balances", results)


def birth_date_of(ctx: Context, person: PersonRecord) -> date:
    """The person's birth date, read from the encrypted ID number: it is stored nowhere in
    clear, since with the mask's region and last four digits it would give the whole number."""
    return birth_date_from_enc(ctx, person.id_enc)


def birth_date_from_enc(ctx: Context, id_enc: str) -> date:
    """The birth date in an encrypted ID number (``persons.id_enc``)."""
    return birth_date_sealed(ctx.vault, id_enc)


def birth_date_sealed(vault: Vault, id_enc: str) -> date:
    """The birth date in an encrypted ID number, with ``vault``'s key (a benchmark's database
    has a throw-away key of its own, not the bureau's)."""
    return parse_resident_id(vault.decrypt(id_enc, context="id_number")).birth_date


def require_person(uow: UnitOfWork, psn_no: str) -> PersonRecord:
    found = repo.person(uow.connection, psn_no)
    if found is None:
        raise NotFound(what="人员")
    return found


def mobile_number(ctx: Context, uow: UnitOfWork, psn_no: str) -> str | None:
    """The person's mobile number in clear, or None; only for handing to the SMS gateway."""
    sealed = repo.mobile_enc(uow.connection, psn_no)
    return ctx.vault.decrypt(sealed, context="mobile") if sealed else None


def insured_reads(psn_no: str, *, person_known: bool = False) -> list[Read]:
    """The reads of :func:`require_person` (unless the caller has the person) then
    :func:`governing_enrolment`, to make ahead with others (``uow.prefetch``)."""
    enrolments = governing_enrolment_read(psn_no)
    return [enrolments] if person_known else [person_read(psn_no), enrolments]


def person_read(psn_no: str) -> Read:
    """The read of :func:`require_person`, to make ahead with others (``uow.prefetch``)."""
    return repo.person_read(psn_no)


def governing_enrolment_read(psn_no: str) -> Read:
    """The read of :func:`governing_enrolment`, to make ahead with others (``uow.prefetch``)."""
    return repo.enrolments_read(psn_no)


def governing_enrolment(uow: UnitOfWork, psn_no: str) -> EnrolmentRecord | None:
    return repo.current_enrolment(uow.connection, psn_no)
