"""The world ``gongji bench settle`` settles in: institutions with keys, the demo catalogue, and
pairs of insured persons of whom one gives the other shared money (a grant).

Each pair is a Lanzhou employee (职工, a personal account with money in it) and a parent of
theirs insured as a resident (居民, no personal account of their own), related through the
kinship registry and holding one accepted grant from the employee. A bill for the employee is
paid from their own account; a bill for the parent draws on the grant (docs/rules.md §8, payment
order), so the load's share of shared-money settlements is simply its share of parents' bills.

Everything is written through the services (imports, relationships, wallets, grants), as an
operator and the people themselves would, with the persons and registry records in one import
each and every pair in one transaction: set-up of a thousand people takes seconds, not minutes.
The clock is held at business noon of today (or of yesterday before noon) so that no grant
falls into the policy's quiet hours whatever time the bench is run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Final, TypeVar

from gongji.core.clock import ManualClock
from gongji.core.errors import InvariantViolation
from gongji.core.ids import make_resident_id
from gongji.core.money import format_yuan
from gongji.institutions.domain.institutions import (
    Institution,
    InstitutionKind,
    InstitutionLevel,
    InstitutionStatus,
)
from gongji.institutions.service import institutions
from gongji.kernel.context import BUSINESS_TZ, SYSTEM, Actor, ActorKind, Context
from gongji.mutual_aid.service import grants, mutual_aid_choice, relationships, wallets
from gongji.people.domain.kinship import parse_kinship
from gongji.people.service.credentials_lookup import issue_ec_token
from gongji.people.service.imports import import_kinship, import_persons
from gongji.settlement.service.catalogue import seed_catalogue
from gongji.store.uow import UnitOfWork, run_in_transaction

T = TypeVar("T")
REGION: Final = "620100"  # 兰州: the demo's policy tables cover it
EMPLOYEE_CURRENT_FEN: Final = 500_000  # 5 000.00 this year's money
EMPLOYEE_EARLIER_FEN: Final = 2_000_000  # 20 000.00 earlier years'
PAIRS_PER_TRANSACTION: Final = 100
GRANT_FEN: Final = 200_000  # 2 000.00: the policy's largest single grant
PERSON_CSV_HEADER: Final = (
    "psn_no,id_number,name,mobile,insutype,region,status,employment,start_date,"
    "balance_current,balance_earlier"
)

INSTITUTIONS: Final = (
    Institution("P62010000101", "兰州压测大药房一店", REGION, InstitutionKind.PHARMACY,
                InstitutionLevel.NONE, True, InstitutionStatus.ACTIVE),
    Institution("P62010000102", "兰州压测大药房二店", REGION, InstitutionKind.PHARMACY,
                InstitutionLevel.NONE, True, InstitutionStatus.ACTIVE),
    Institution("H62010000101", "兰州压测第一医院", REGION, InstitutionKind.HOSPITAL,
                InstitutionLevel.TERTIARY, True, InstitutionStatus.ACTIVE),
    Institution("H62010000102", "兰州压测第二医院", REGION, InstitutionKind.HOSPITAL,
                InstitutionLevel.SECONDARY, True, InstitutionStatus.ACTIVE),
)  # fmt: skip


IDENTIFICATIONS_ALLOWED: Final = {"GONGJI_FSI_IDENTIFICATIONS_PER_MINUTE": "10000000"}
"""The bench server's setting: its four desks carry what a city's hundreds of counters would,
so each desk's allowance of identifications (core/limits.py, 300 a minute) is lifted; every
settlement still identifies its patient and is counted (on PostgreSQL in the shared table)."""

VOUCHER_VALID_S: Final = 7 * 86_400
"""A bench's e-vouchers outlive any run (a real one lasts one visit, four hours)."""


@dataclass(frozen=True, slots=True)
class Key:
    institution_code: str
    kind: InstitutionKind
    key_id: str
    secret: str


@dataclass(frozen=True, slots=True)
class World:
    keys: tuple[Key, ...]
    employees: tuple[str, ...]  # own-account payers, each a contributor
    parents: tuple[str, ...]  # grant recipients: their bills use shared money
    vouchers: Mapping[str, str] = field(default_factory=dict)
    """Each person's e-voucher token (the QR code a patient shows), valid for the whole run:
    an outpatient visit is registered on the credential presented, never on a bare psn_no."""

    @property
    def persons(self) -> int:
        return len(self.employees) + len(self.parents)

    def of_kind(self, kind: InstitutionKind) -> tuple[Key, ...]:
        return tuple(key for key in self.keys if key.kind is kind)


def seed_clock(now: datetime) -> ManualClock:
    """Business noon of ``now``'s day, or of the day before when ``now`` is before noon."""
    local = now.astimezone(BUSINESS_TZ)
    day = local.date() if local.time() >= time(12) else local.date() - timedelta(days=1)
    return ManualClock(datetime.combine(day, time(12), tzinfo=BUSINESS_TZ))


def seed_world(ctx: Context, pairs: int) -> World:
    """Institutions with a key each, the catalogue, and ``pairs`` employee–parent pairs."""
    if not 1 <= pairs <= 49_000:
        raise ValueError("pairs must be between 1 and 49 000")
    keys = _committed(ctx, lambda uow: _desks(ctx, uow))
    people = [(f"E{REGION}{n:07d}", f"R{REGION}{n:07d}") for n in range(pairs)]
    ids = {psn_no: _id_number(n, psn_no[0]) for n, pair in enumerate(people) for psn_no in pair}
    _committed(ctx, lambda uow: _people(ctx, uow, people, ids))
    for at in range(0, pairs, PAIRS_PER_TRANSACTION):
        chunk = people[at : at + PAIRS_PER_TRANSACTION]
        _committed(ctx, partial(_pairs, ctx, people=chunk, ids=ids))
    employees, parents = zip(*people, strict=True)
    vouchers = {
        psn_no: issue_ec_token(ctx, psn_no, valid_s=VOUCHER_VALID_S)
        for pair in people
        for psn_no in pair
    }
    return World(tuple(keys), tuple(employees), tuple(parents), vouchers)


def _committed(ctx: Context, work: Callable[[UnitOfWork], T]) -> T:
    def committed(uow: UnitOfWork) -> T:
        value = work(uow)
        uow.commit()
        return value

    return run_in_transaction(ctx.engine, committed)


def _desks(ctx: Context, uow: UnitOfWork) -> list[Key]:
    items = seed_catalogue(ctx, uow)
    if items.errors:
        raise InvariantViolation(f"bench catalogue refused: {items.errors}")
    keys = []
    for desk in INSTITUTIONS:
        institutions.register_institution(ctx, uow, SYSTEM, desk)
        issued = institutions.issue_credentials(ctx, uow, desk.code)
        keys.append(Key(desk.code, desk.kind, issued.key_id, issued.secret))
    return keys


def _id_number(n: int, kind: str) -> str:
    """A valid, unique resident ID: employees born in the 1970s–80s, parents in the 1940s–50s."""
    born = date(1970 if kind == "E" else 1945, 1, 1) + timedelta(days=n // 900)
    return make_resident_id(REGION[:4] + "02", born, n % 900 + 100)


def _people(
    ctx: Context, uow: UnitOfWork, people: list[tuple[str, str]], ids: dict[str, str]
) -> None:
    lines = [PERSON_CSV_HEADER]
    for n, (employee, parent) in enumerate(people):
        current, earlier = format_yuan(EMPLOYEE_CURRENT_FEN), format_yuan(EMPLOYEE_EARLIER_FEN)
        lines.append(
            f"{employee},{ids[employee]},压测职工{n},139{n:08d},310,{REGION},1,employed,"
            f"2020-01-01,{current},{earlier}"
        )
        lines.append(
            f"{parent},{ids[parent]},压测居民{n},138{n:08d},390,{REGION},1,retired,"
            "2020-01-01,0.00,0.00"
        )
    persons = import_persons(ctx, uow, "\n".join(lines) + "\n")
    label = parse_kinship("parent").label_zh
    kinship_lines = ["id_number,relative_id_number,kind"]
    kinship_lines += [f"{ids[employee]},{ids[parent]},{label}" for employee, parent in people]
    kinship = import_kinship(ctx, uow, "\n".join(kinship_lines) + "\n", source="bench.csv")
    refused = [*persons.errors, *kinship.errors]
    if refused:
        raise InvariantViolation(f"bench people refused: {refused[:3]}")


def _pairs(
    ctx: Context, uow: UnitOfWork, *, people: list[tuple[str, str]], ids: dict[str, str]
) -> None:
    for employee, parent in people:
        _pair(ctx, uow, employee, parent, ids)


def _pair(ctx: Context, uow: UnitOfWork, employee: str, parent: str, ids: dict[str, str]) -> None:
    """Wallets for both, the relationship (verified by the registry), one grant accepted with
    就医时使用家庭共济 chosen, so that it pays the parent's bills (docs/rules.md §6.2)."""
    giver, receiver = Actor(ActorKind.PERSON, employee), Actor(ActorKind.PERSON, parent)
    for actor in (giver, receiver):
        wallets.open_wallet(ctx, uow, actor, wallets.OpenRequest(place_of_use=REGION))
    number = int(employee[-7:])
    proposed = relationships.propose(ctx, uow, giver, ids[parent], f"压测居民{number}", "parent")
    relationships.confirm(ctx, uow, receiver, proposed.id)
    offered = grants.offer(ctx, uow, giver, parent, GRANT_FEN)
    mutual_aid_choice.accept(ctx, uow, receiver, offered.id, use_mutual_aid=True)
