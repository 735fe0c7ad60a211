"""Finding persons for the back office: by ID number, mobile, name with region, or psn_no.

Every look-up goes through a keyed blind index (the HMAC hashes of ``kernel/pii.py``), never by
decrypting a table: the bureau's key is needed to search, and the search reveals nothing a
stolen table would not. Input is normalised the way it was when the hash was written (an ID
number parsed and upper-cased, a mobile trimmed, a name stripped), so an operator's typing
finds the same hash.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from gongji.core.errors import GongjiError
from gongji.core.ids import parse_resident_id
from gongji.core.masking import mask_name
from gongji.kernel.context import Context
from gongji.people.store import people_repo, search_repo
from gongji.people.store.search_repo import InheritancePayout, inheritance_payout_read
from gongji.store.records import PersonRecord
from gongji.store.uow import UnitOfWork

__all__ = [
    "InheritancePayout",
    "Unmasked",
    "find_persons",
    "inheritance_payout",
    "inheritance_payout_read",
    "inheritance_payouts",
    "unmasked",
]


def find_persons(
    ctx: Context,
    uow: UnitOfWork,
    *,
    id_number: str | None = None,
    name: str | None = None,
    region: str | None = None,
    mobile: str | None = None,
    psn_no: str | None = None,
) -> list[PersonRecord]:
    """Persons matching every criterion given (none given: nobody). A name needs a region."""
    found: list[PersonRecord] | None = None
    for candidates in _candidates(ctx, uow, id_number, name, region, mobile, psn_no):
        if found is None:
            found = candidates
        else:
            keep = {p.psn_no for p in candidates}
            found = [p for p in found if p.psn_no in keep]
    return found or []


def _candidates(
    ctx: Context,
    uow: UnitOfWork,
    id_number: str | None,
    name: str | None,
    region: str | None,
    mobile: str | None,
    psn_no: str | None,
) -> list[list[PersonRecord]]:
    connection = uow.connection
    lists: list[list[PersonRecord]] = []
    if psn_no:
        one = people_repo.person(connection, psn_no.strip())
        lists.append([one] if one else [])
    if id_number:
        lists.append(_by_id_number(ctx, uow, id_number))
    if mobile:
        mobile_hash = ctx.vault.mobile_hash(mobile.strip())
        lists.append(people_repo.persons_by_mobile_hash(connection, mobile_hash))
    if name and region:
        name_hash = ctx.vault.name_hash(name.strip())
        lists.append(search_repo.persons_by_name_in_region(connection, name_hash, region.strip()))
    return lists


def _by_id_number(ctx: Context, uow: UnitOfWork, text: str) -> list[PersonRecord]:
    try:
        number = parse_resident_id(text.strip().upper(), today=ctx.today()).number
    except GongjiError:
        return []
    id_hash = ctx.vault.id_number_hash(number)
    one = people_repo.person_by_id_hash(uow.connection, id_hash)
    return [one] if one else []


def inheritance_payout(uow: UnitOfWork, psn_no: str) -> InheritancePayout | None:
    """The payout, heirs' names masked: no screen or file of the back office needs them."""
    found = search_repo.inheritance_payout(uow.connection, psn_no)
    return None if found is None else _masked(found)


def _masked(payout: InheritancePayout) -> InheritancePayout:
    heirs = [{**heir, "name": mask_name(str(heir.get("name", "")))} for heir in payout.heirs]
    return replace(payout, heirs=heirs)


@dataclass(frozen=True, slots=True)
class Unmasked:
    id_number: str
    name: str
    mobile: str | None


def unmasked(ctx: Context, uow: UnitOfWork, person: PersonRecord) -> Unmasked:
    """The person's ID number, name and mobile in clear. The caller checks the permission and
    records the read in the audit trail in the same unit of work."""
    mobile = search_repo.mobile_enc(uow.connection, person.psn_no)
    return Unmasked(
        id_number=ctx.vault.decrypt(person.id_enc, context="id_number"),
        name=ctx.vault.decrypt(person.name_enc, context="name"),
        mobile=None if mobile is None else ctx.vault.decrypt(mobile, context="mobile"),
    )


def inheritance_payouts(uow: UnitOfWork, from_us: int, to_us: int) -> list[InheritancePayout]:
    return [_masked(p) for p in search_repo.payouts_between(uow.connection, from_us, to_us)]
