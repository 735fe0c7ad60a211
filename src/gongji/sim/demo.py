"""Demo data: one family spread over four provinces, to try gongji by hand (`gongji demo seed`).

张建国 is a Lanzhou employee with a personal account; his wife and son are employees too, his
mother and his sister are residents. The kinship registry knows his mother, son and wife, so
those relationships verify by themselves; it does not know his sister, so that one goes to an
operator's review. Everything is written through the operators' imports (the same code a bureau
uses), so seeding twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

from gongji.core.errors import InvariantViolation
from gongji.core.ids import make_resident_id
from gongji.core.masking import mask_id_number
from gongji.core.money import format_yuan
from gongji.identity.service.identity_operators import DEMO_OPERATOR as DEMO_OPERATOR
from gongji.identity.service.identity_operators import (
    DEMO_OPERATOR_PASSWORD as DEMO_OPERATOR_PASSWORD,
)
from gongji.identity.service.identity_operators import create_operator
from gongji.identity.store import access_repo as operator_repo
from gongji.institutions.domain.institutions import (
    Institution,
    InstitutionKind,
    InstitutionLevel,
    InstitutionStatus,
)
from gongji.institutions.service.institutions import register_institution
from gongji.kernel.context import SYSTEM, Actor, ActorKind, Context
from gongji.notify.service import preferences
from gongji.people.domain.kinship import parse_kinship
from gongji.people.service.imports import ImportResult, import_kinship, import_persons
from gongji.people.store import scans_repo
from gongji.settlement.service.catalogue import seed_catalogue
from gongji.store.uow import UnitOfWork, run_in_transaction

KINSHIP_SOURCE: Final = "demo-kinship.csv"
START_DATE: Final = date(2020, 1, 1)


@dataclass(frozen=True, slots=True)
class DemoPerson:
    name: str
    role: str  # what the person is to 张建国
    psn_no: str
    id_number: str
    mobile: str
    insutype: str
    region: str
    employment: str
    current_fen: int = 0
    earlier_fen: int = 0
    kinship: str | None = None  # as the registry records it: "the person is 张建国's …"
    chose_mutual_aid: bool = False  # 就医时使用家庭共济 turned on, as on her wallet page (§6.2)

    @property
    def id_masked(self) -> str:
        return mask_id_number(self.id_number)


@dataclass(frozen=True, slots=True)
class SeedResult:
    persons: ImportResult
    kinship: ImportResult

    @property
    def created(self) -> int:
        return self.persons.created + self.kinship.created


def _id(born_in: str, born: date, sequence: int) -> str:
    return make_resident_id(born_in, born, sequence)


LANZHOU, JINAN, GUANGZHOU, CHENGDU = "620100", "370100", "440100", "510100"
DEMO_PEOPLE: Final = (
    DemoPerson("张建国", "本人", "P620100000001", _id("620102", date(1968, 5, 12), 131),
               "13919310001", "310", LANZHOU, "employed", 180_000, 620_000),
    DemoPerson("李秀英", "配偶", "P620100000002", _id("620102", date(1970, 9, 3), 242),
               "13919310002", "310", LANZHOU, "employed", 95_000, 340_000, "spouse"),
    DemoPerson("王桂兰", "母亲", "P370100000001", _id("370102", date(1944, 2, 18), 126),
               "13953110003", "390", JINAN, "retired", kinship="parent", chose_mutual_aid=True),
    DemoPerson("张伟", "儿子", "P440100000001", _id("620102", date(1994, 11, 27), 357),
               "13802010004", "310", GUANGZHOU, "employed", 60_000, 150_000, "child"),
    DemoPerson("张丽", "妹妹", "P510100000001", _id("620102", date(1972, 7, 8), 168),
               "13908010005", "390", CHENGDU, "employed"),
)  # fmt: skip
"""Who is who. 张丽 has no registry record on purpose: her relationship needs a review. 王桂兰
has chosen 就医时使用家庭共济, so what her son shares pays at the counter; nobody else has."""

DEMO_INSTITUTIONS: Final = (
    Institution("H62010000001", "兰州市示范第一人民医院", "620100", InstitutionKind.HOSPITAL,
                InstitutionLevel.TERTIARY, True, InstitutionStatus.ACTIVE),
    Institution("P37010000001", "济南市示范大药房", "370100", InstitutionKind.PHARMACY,
                InstitutionLevel.NONE, True, InstitutionStatus.ACTIVE),
    Institution("H44010000001", "广州市示范人民医院", "440100", InstitutionKind.HOSPITAL,
                InstitutionLevel.SECONDARY, True, InstitutionStatus.ACTIVE),
)  # fmt: skip
"""Designated institutions (定点医药机构) for the demo."""


HEAD: Final = DEMO_PEOPLE[0]


def persons_csv() -> str:
    lines = [
        "psn_no,id_number,name,mobile,insutype,region,status,employment,start_date,"
        "balance_current,balance_earlier"
    ]
    for p in DEMO_PEOPLE:
        lines.append(
            f"{p.psn_no},{p.id_number},{p.name},{p.mobile},{p.insutype},{p.region},1,"
            f"{p.employment},{START_DATE.isoformat()},{format_yuan(p.current_fen)},"
            f"{format_yuan(p.earlier_fen)}"
        )
    return "\n".join(lines) + "\n"


def kinship_csv() -> str:
    """Registry records "the relative is 张建国's KIND", with the kind in Chinese as registries
    write it."""
    lines = ["id_number,relative_id_number,kind"]
    for p in DEMO_PEOPLE:
        if p.kinship is not None:
            lines.append(f"{HEAD.id_number},{p.id_number},{parse_kinship(p.kinship).label_zh}")
    return "\n".join(lines) + "\n"


def seed(ctx: Context) -> SeedResult:
    """Write the demo family in one transaction; a second call finds everything unchanged."""

    def work(uow: UnitOfWork) -> SeedResult:
        return _seed_in(ctx, uow)

    return run_in_transaction(ctx.engine, work)


def seed_if_empty(ctx: Context) -> SeedResult | None:
    """Seed a database that has no person yet (``make run``); leave any other alone."""

    def work(uow: UnitOfWork) -> SeedResult | None:
        if scans_repo.any_person(uow.connection):
            return None
        return _seed_in(ctx, uow)

    return run_in_transaction(ctx.engine, work)


def _seed_in(ctx: Context, uow: UnitOfWork) -> SeedResult:
    persons = import_persons(ctx, uow, persons_csv())
    kinship = import_kinship(ctx, uow, kinship_csv(), source=KINSHIP_SOURCE)
    items = seed_catalogue(ctx, uow)
    refused = [*persons.errors, *kinship.errors, *items.errors]
    if refused:  # the demo data is ours: a refusal is a bug, never something to show a user
        raise InvariantViolation(f"demo data refused: {refused}")
    for institution in DEMO_INSTITUTIONS:
        register_institution(ctx, uow, SYSTEM, institution)
    for chooser in (p for p in DEMO_PEOPLE if p.chose_mutual_aid):
        if preferences.of(uow, chooser.psn_no).use_mutual_aid is None:  # her own later choice stays
            preferences.set_use_mutual_aid(ctx, uow, Actor(ActorKind.PERSON, chooser.psn_no), True)
    if operator_repo.operator(uow.connection, DEMO_OPERATOR) is None:
        create_operator(ctx, uow, DEMO_OPERATOR, ["admin"], DEMO_OPERATOR_PASSWORD)
    uow.commit()
    return SeedResult(persons, kinship)


def who_is_who() -> list[tuple[str, ...]]:
    """(name, role, psn_no, masked ID, mobile, insurance and region) of each demo person."""
    return [
        (p.name, p.role, p.psn_no, p.id_masked, p.mobile, f"{p.insutype} {p.region}")
        for p in DEMO_PEOPLE
    ]
