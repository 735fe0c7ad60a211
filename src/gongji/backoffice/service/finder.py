"""Find, for an operator: a person by ID number, name with region, mobile or psn_no; a grant, a
settlement or an institution by its code (docs/backoffice.md §Find).

Personal data is looked up through the keyed blind indexes of the people area, never by
decrypting a table. Each search is recorded in the audit trail: what kinds of criteria were
used (never the ID number, name or mobile typed) and, when it found one person, whom.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from gongji.audit.service import log as audit
from gongji.core.errors import GongjiError
from gongji.institutions.service import institutions
from gongji.kernel.context import Actor, Context
from gongji.mutual_aid.service import records as aid_records
from gongji.people.service import registry, search
from gongji.settlement.service import records as setl_records
from gongji.store.records import GrantRecord, PersonRecord
from gongji.store.uow import UnitOfWork

if TYPE_CHECKING:  # the institutions area's record type, named for the annotation only
    from gongji.institutions.store.institutions_repo import InstitutionRecord

INSTITUTION_SETTLEMENTS_SHOWN = 50
PERSONAL_CRITERIA = ("id_number", "name", "mobile")


class SearchCriteriaRequired(GongjiError):
    code: ClassVar[str] = "search_criteria_required"
    message_zh: ClassVar[str] = "请至少填写一项查询条件"
    message_en: ClassVar[str] = "Give at least one thing to search by"


class NameNeedsRegion(GongjiError):
    code: ClassVar[str] = "name_needs_region"
    message_zh: ClassVar[str] = "按姓名查询须同时选择参保区划"
    message_en: ClassVar[str] = "A search by name needs the region too"


@dataclass(frozen=True, slots=True)
class FindQuery:
    id_number: str = ""
    name: str = ""
    region: str = ""
    mobile: str = ""
    psn_no: str = ""
    grant_id: str = ""
    setl_id: str = ""
    institution: str = ""

    def given(self) -> list[str]:
        return [name for name in self.__dataclass_fields__ if getattr(self, name).strip()]


@dataclass(frozen=True, slots=True)
class Found:
    persons: list[PersonRecord] = field(default_factory=list)
    grant: GrantRecord | None = None
    settlement: setl_records.SettlementRow | None = None
    institution: InstitutionRecord | None = None
    institution_settlements: list[setl_records.SettlementRow] = field(default_factory=list)


def find(ctx: Context, uow: UnitOfWork, actor: Actor, query: FindQuery) -> Found:
    given = query.given()
    if not given or given == ["region"]:
        raise SearchCriteriaRequired()
    if query.name.strip() and not query.region.strip():
        raise NameNeedsRegion()
    found = _find(ctx, uow, query)
    subject = found.persons[0].psn_no if len(found.persons) == 1 else None
    shown = {k: getattr(query, k).strip() for k in given if k not in PERSONAL_CRITERIA}
    audit.record(
        ctx,
        uow,
        actor,
        "backoffice.find",
        subject=subject,
        criteria=",".join(given),
        found=len(found.persons),
        **shown,
    )
    return found


def _find(ctx: Context, uow: UnitOfWork, query: FindQuery) -> Found:
    if query.grant_id.strip():
        grant = aid_records.grant(uow.connection, query.grant_id.strip())
        people = [grant.contributor, grant.recipient] if grant else []
        return Found(persons=_persons(uow, people), grant=grant)
    if query.setl_id.strip():
        row = setl_records.settlement(uow.connection, query.setl_id.strip())
        return Found(persons=_persons(uow, [row.psn_no] if row else []), settlement=row)
    if query.institution.strip():
        return _institution(ctx, uow, query.institution.strip())
    persons = search.find_persons(
        ctx,
        uow,
        id_number=query.id_number or None,
        name=query.name or None,
        region=query.region or None,
        mobile=query.mobile or None,
        psn_no=query.psn_no or None,
    )
    return Found(persons=persons)


def _persons(uow: UnitOfWork, psn_nos: list[str]) -> list[PersonRecord]:
    found = registry.persons_by_no(uow.connection, psn_nos)
    return [found[p] for p in psn_nos if p in found]


def _institution(ctx: Context, uow: UnitOfWork, code: str) -> Found:
    try:
        record = institutions.get_institution(ctx, uow, code)
    except GongjiError:
        return Found()
    rows = setl_records.recent_at_institution(
        uow.connection, record.code, INSTITUTION_SETTLEMENTS_SHOWN
    )
    return Found(institution=record, institution_settlements=rows)
