"""A small world for scenario tests: people, wallets, kinship, in a few readable calls.

Everything goes through the real services and database; only the clock is in the test's hand.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from itertools import cycle
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from gongji.bootstrap import limiter_for
from gongji.core.clock import ManualClock
from gongji.core.enrolment import EnrolmentStatus
from gongji.core.ids import make_resident_id
from gongji.core.limits import Limits
from gongji.identity.service import payment_password
from gongji.kernel.context import Actor, ActorKind, Context, Role
from gongji.kernel.pii import Vault
from gongji.kernel.reference import load_policy_book, load_regions
from gongji.kernel.sms import LogSmsGateway
from gongji.ledger.book import Ledger
from gongji.mutual_aid.service import grants, mutual_aid_choice, relationships, wallets
from gongji.people.service.persons import PersonInput, register_person
from gongji.people.store import people_repo
from gongji.store.uow import UnitOfWork, run_in_transaction

T = TypeVar("T")
SHANGHAI = ZoneInfo("Asia/Shanghai")
TEST_SECRET_KEY = bytes(range(32))


TEST_LIMITS = Limits(
    door_requests_per_address_per_second=1_000,
    password_checks_per_second=1_000,
    payment_password_checks_per_second=1_000,
)
"""A test is one client doing everything at machine speed: the per-second limits, which no one
signing in by hand reaches, would refuse it. Tests of those limits set their own."""


def build_context(engine: Engine, clock: ManualClock) -> Context:
    """The Context bootstrap would build, on this engine: the test clock, the development SMS
    gateway (read codes back with ``ctx.sms.last_code(mobile)``) and a fixed vault key.
    """
    return Context(
        engine=engine,
        clock=clock,
        ledger=Ledger(engine, clock),
        vault=Vault(TEST_SECRET_KEY),
        policies=load_policy_book(None),
        regions={r.code: r for r in load_regions()},
        sms=LogSmsGateway(),
        limits=TEST_LIMITS,
        limiter=limiter_for(engine),
    )


def at(text: str) -> datetime:
    """A business time, e.g. at("2026-03-02 21:59:59")."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def run(ctx: Context, work: Callable[[UnitOfWork], T]) -> T:
    """One committed unit of work (a refusal rolls it back and propagates)."""

    def committed(uow: UnitOfWork) -> T:
        result = work(uow)
        uow.commit()
        return result

    return run_in_transaction(ctx.engine, committed)


def person_actor(psn_no: str) -> Actor:
    return Actor(ActorKind.PERSON, psn_no)


def operator(*roles: Role) -> Actor:
    return Actor(ActorKind.OPERATOR, "op-test", frozenset(roles or {Role.ADMIN}))


# Sequence digits of made-up ID numbers: each test has a fresh database, so cycling is safe
# while one test makes fewer than 899 persons.
_sequence = cycle(range(100, 999))


def insured(
    ctx: Context,
    psn_no: str,
    *,
    region: str = "620100",
    insutype: str = "310",
    current: int = 0,
    earlier: int = 0,
    name: str = "张三",
    wallet: bool = True,
    born: date = date(1970, 1, 1),
) -> str:
    id_number = make_resident_id(region, born, next(_sequence))
    data = PersonInput(
        psn_no=psn_no,
        id_number=id_number,
        name=name,
        mobile=f"138{abs(hash(psn_no)) % 10**8:08d}",
        insutype=insutype,
        region=region,
        status=EnrolmentStatus.NORMAL,
        employment="employed",
        start_date=date(2020, 1, 1),
        current_fen=current,
        earlier_fen=earlier,
    )
    run(ctx, lambda uow: register_person(ctx, uow, data))
    if wallet:
        request = wallets.OpenRequest(place_of_use=region)
        run(ctx, lambda uow: wallets.open_wallet(ctx, uow, person_actor(psn_no), request))
    IDS[psn_no] = (id_number, name)
    return psn_no


IDS: dict[str, tuple[str, str]] = {}
ELDER = date(1944, 2, 18)
"""A birth date for the parents of people born on the default date (docs/rules.md §5 checks it)."""
YOUNGER = date(1996, 5, 1)
"""A birth date for the children of people born on the default date."""


def relate(
    ctx: Context, proposer: str, relative: str, kind: str = "parent", *, registry: bool = True
) -> str:
    """An active, verified relationship: the registry knows it (or an operator approves it)."""
    if registry:
        record_kinship(ctx, proposer, relative, kind)
    id_number, name = IDS[relative]
    proposed = run(
        ctx,
        lambda uow: relationships.propose(ctx, uow, person_actor(proposer), id_number, name, kind),
    )
    confirmed = run(
        ctx, lambda uow: relationships.confirm(ctx, uow, person_actor(relative), proposed.id)
    )
    if confirmed.status == "pending_review":
        run(
            ctx,
            lambda uow: relationships.review(
                ctx, uow, operator(Role.REVIEWER), confirmed.id, True, "户口簿已核"
            ),
        )
    return proposed.id


PAYMENT_PIN = "258013"
"""The payment password the tests set (docs/rules.md §16): not easy to guess for anyone the
tests make (no birthday of theirs, no end of their ID numbers)."""


def set_payment_password(ctx: Context, psn_no: str, pin: str = PAYMENT_PIN) -> None:
    payment_password.set_pin(ctx, person_actor(psn_no), pin, pin)


def give(
    ctx: Context, contributor: str, recipient: str, amount_fen: int, *, choosing: bool = True
) -> str:
    """An accepted grant (offered and accepted at the clock's time); its id. The recipient
    accepts as a mother does who wants it to pay at the counter: choosing 就医时使用家庭共济 in
    the same step (docs/rules.md §6.2); ``choosing=False`` leaves her standing choice alone."""
    grant = run(
        ctx, lambda uow: grants.offer(ctx, uow, person_actor(contributor), recipient, amount_fen)
    )
    chosen = True if choosing else None
    actor = person_actor(recipient)
    run(ctx, lambda uow: mutual_aid_choice.accept(ctx, uow, actor, grant.id, chosen))
    return grant.id


def choose_mutual_aid(ctx: Context, psn_no: str, on: bool = True) -> None:
    """The patient's standing choice 就医时使用家庭共济 (docs/rules.md §6.2): shared money —
    quotas and authorizations alike — pays their care only once it is on."""
    run(ctx, lambda uow: mutual_aid_choice.choose(ctx, uow, person_actor(psn_no), on))


def record_kinship(ctx: Context, person: str, relative: str, kind: str) -> None:
    def work(uow: UnitOfWork) -> None:
        a = people_repo.person(uow.connection, person)
        b = people_repo.person(uow.connection, relative)
        assert a is not None and b is not None
        people_repo.insert_kinship_record(
            uow.connection,
            {
                "person_hash": a.id_hash,
                "relative_hash": b.id_hash,
                "kind": kind,
                "source": "test",
                "imported_at_us": 0,
            },
        )

    run(ctx, work)
