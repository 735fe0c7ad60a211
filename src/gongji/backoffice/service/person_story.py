"""A person's whole story for an operator (docs/backoffice.md): enrolments, the personal account
(also after death, until the heirs are paid), the wallet, relationships both ways with their
history, grants given and received with what each paid for, authorizations with quota used,
settlements with the money that paid them, premiums, freezes, inheritance and every event.

Read through each area's public face, ahead where it can be (:func:`person_story`). Personal
data stays masked here; the unmasked view is ``backoffice.service.unmask``, which needs a
permission and a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gongji.audit.service import log as audit
from gongji.core.enrolment import INSUTYPE_EMPLOYEE
from gongji.kernel import chart
from gongji.kernel.context import Actor, Context
from gongji.mutual_aid.domain.grants import GrantState
from gongji.mutual_aid.service import authorizations, premiums, relationships
from gongji.mutual_aid.service import records as aid_records
from gongji.mutual_aid.service.accounts import PersonalAccountView, account_view_of, own_accounts
from gongji.people.service import registry, search
from gongji.people.service.persons import require_person
from gongji.settlement.service import records as setl_records
from gongji.store.raw import DriverRead, Read
from gongji.store.records import (
    AuthorizationRecord,
    EnrolmentRecord,
    GrantRecord,
    PersonEvent,
    PersonRecord,
    RelationshipRecord,
    WalletRecord,
)
from gongji.store.uow import UnitOfWork

EVENTS_SHOWN_MAX = 500
FREEZE_EVENTS = frozenset({"wallet_frozen", "wallet_unfrozen"})


@dataclass(frozen=True, slots=True)
class RelationLine:
    record: RelationshipRecord
    proposed_by_me: bool  # else the other person proposed this person as their relative
    other: str
    other_name_masked: str


@dataclass(frozen=True, slots=True)
class Spend:
    """What a grant or authorization paid: one draw of one settlement."""

    setl_id: str
    business_date: str
    amount_fen: int
    reversed: bool


@dataclass(frozen=True, slots=True)
class GrantLine:
    grant: GrantRecord
    other: str
    other_name_masked: str
    spent: tuple[Spend, ...]

    @property
    def spent_fen(self) -> int:
        return sum(s.amount_fen for s in self.spent if not s.reversed)


@dataclass(frozen=True, slots=True)
class AuthorizationLine:
    record: AuthorizationRecord
    other: str
    other_name_masked: str
    spent: tuple[Spend, ...]


@dataclass(frozen=True, slots=True)
class SettlementLine:
    row: setl_records.SettlementRow
    draws: tuple[setl_records.DrawRow, ...]
    reversed: bool


@dataclass(frozen=True, slots=True)
class PersonStory:
    person: PersonRecord
    enrolments: list[EnrolmentRecord]
    account: PersonalAccountView | None
    wallet: WalletRecord | None
    relationships: list[RelationLine]
    grants_given: list[GrantLine]
    grants_received: list[GrantLine]
    authorizations: list[AuthorizationLine]
    settlements: list[SettlementLine]
    premiums: list[aid_records.PremiumRow]
    inheritance: search.InheritancePayout | None
    events: list[PersonEvent] = field(default_factory=list)

    @property
    def freezes(self) -> list[PersonEvent]:
        return [e for e in self.events if e.kind in FREEZE_EVENTS]

    @property
    def deceased(self) -> bool:
        return self.person.death_date is not None


def viewed_story(ctx: Context, uow: UnitOfWork, operator: Actor, psn_no: str) -> PersonStory:
    """The story as an operator opens it: the view is recorded (who looked at whom, when)."""
    story = person_story(ctx, uow, psn_no)
    audit.record(ctx, uow, operator, "backoffice.person.view", subject=psn_no)
    return story


def person_story(ctx: Context, uow: UnitOfWork, psn_no: str) -> PersonStory:
    """Read in two round trips on PostgreSQL: what depends on the person alone, made ahead
    together; then what depends on that (the other parties' names, what each of the person's
    grants, authorizations and settlements paid and which of those settlements were reversed,
    the accounts)."""
    uow.prefetch(_own_reads(psn_no))
    person = require_person(uow, psn_no)
    enrolments = registry.enrolments_of(uow.connection, psn_no)
    links = relationships.list_for(uow, psn_no)
    given = aid_records.grants_by(uow.connection, contributor=psn_no)
    received = aid_records.grants_by(uow.connection, recipient=psn_no)
    bound = authorizations.list_for(uow, psn_no)
    settled = setl_records.settlements_of(uow.connection, psn_no)
    others = {r.other(psn_no) for r in links} | {g.recipient for g in given}
    others |= {g.contributor for g in received} | {a.contributor for a in bound}
    others |= {a.recipient for a in bound}
    sources = [g.id for g in given + received] + [a.id for a in bound]
    region = _account_region(enrolments)
    active_given = [g for g in given if g.state == GrantState.ACTIVE]
    account_ids = _account_ids(region, psn_no, active_given)
    uow.prefetch(_related_reads(ctx, others, sources, [r.setl_id for r in settled], account_ids))
    names = {p: r.name_masked for p, r in registry.persons_by_no(uow.connection, others).items()}
    spends = _spends(uow, sources)
    accounts = ctx.ledger.accounts_in(uow, account_ids)
    return PersonStory(
        person=person,
        enrolments=enrolments,
        account=None if region is None else account_view_of(region, psn_no, accounts, active_given),
        wallet=aid_records.wallet(uow.connection, psn_no),
        relationships=[_relation(r, psn_no, names) for r in links],
        grants_given=[_grant(g, g.recipient, names, spends) for g in given],
        grants_received=[_grant(g, g.contributor, names, spends) for g in received],
        authorizations=[_authorization(a, psn_no, names, spends) for a in bound],
        settlements=_settlements(uow, settled),
        premiums=premiums.premiums_of(uow, psn_no),
        inheritance=search.inheritance_payout(uow, psn_no),
        events=_events(uow, psn_no),
    )


def _own_reads(psn_no: str) -> list[Read]:
    """Every read of the story that needs nothing but the person's number."""
    return [
        registry.person_read(psn_no),
        registry.enrolments_read(psn_no),
        aid_records.relationships_of_read(psn_no),
        aid_records.grants_read(contributor=psn_no),
        aid_records.grants_read(recipient=psn_no),
        aid_records.authorizations_of_read(psn_no),
        setl_records.settlements_of_read(psn_no),
        aid_records.wallet_read(psn_no),
        aid_records.premiums_involving_read(psn_no),
        search.inheritance_payout_read(psn_no),
        registry.events_read(psn_no, 0, EVENTS_SHOWN_MAX),
    ]


def _related_reads(
    ctx: Context,
    others: set[str],
    sources: list[str],
    setl_ids: list[str],
    account_ids: list[str],
) -> list[Read | DriverRead]:
    """What the story reads once it knows the other parties, the grants and authorizations,
    the settlements and the accounts (an empty list reads nothing: none is made)."""
    reads: list[Read | DriverRead] = [registry.persons_by_no_read(others)]
    if sources:
        reads.append(setl_records.draws_from_sources_read(sources))
        reads.append(setl_records.reversed_paid_by_read(sources))
    if setl_ids:
        reads.append(setl_records.draws_of_settlements_read(setl_ids))
        reads.append(setl_records.reversed_among_read(setl_ids))
    return [*reads, *ctx.ledger.accounts_reads(account_ids)]


def _account_region(enrolments: list[EnrolmentRecord]) -> str | None:
    """The region of the latest employee enrolment, where the personal account is: a deceased
    or terminated person's balance stays there until it is paid to the heirs."""
    employee = [e for e in enrolments if e.insutype == INSUTYPE_EMPLOYEE]
    if not employee:
        return None
    return max(employee, key=lambda e: (e.start_date, e.id)).region


def _account_ids(region: str | None, psn_no: str, active_given: list[GrantRecord]) -> list[str]:
    """The personal account's two parts and the quotas of the active grants given."""
    if region is None:
        return []
    return [*own_accounts(region, psn_no), *(chart.earmark(g.id) for g in active_given)]


def _relation(record: RelationshipRecord, psn_no: str, names: dict[str, str]) -> RelationLine:
    other = record.other(psn_no)
    return RelationLine(record, record.proposer == psn_no, other, names.get(other, ""))


def _spends(uow: UnitOfWork, source_ids: list[str]) -> dict[str, list[Spend]]:
    draws = setl_records.draws_from_sources(uow.connection, source_ids)
    undone = setl_records.reversed_paid_by(uow.connection, source_ids)
    found: dict[str, list[Spend]] = {}
    for draw in draws:
        spend = Spend(draw.setl_id, draw.business_date, draw.amount_fen, draw.setl_id in undone)
        found.setdefault(draw.source_id, []).append(spend)
    return found


def _grant(
    grant: GrantRecord, other: str, names: dict[str, str], spends: dict[str, list[Spend]]
) -> GrantLine:
    return GrantLine(grant, other, names.get(other, ""), tuple(spends.get(grant.id, ())))


def _authorization(
    record: AuthorizationRecord, psn_no: str, names: dict[str, str], spends: dict[str, list[Spend]]
) -> AuthorizationLine:
    other = record.recipient if record.contributor == psn_no else record.contributor
    return AuthorizationLine(record, other, names.get(other, ""), tuple(spends.get(record.id, ())))


def _settlements(uow: UnitOfWork, rows: list[setl_records.SettlementRow]) -> list[SettlementLine]:
    ids = [r.setl_id for r in rows]
    draws: dict[str, list[setl_records.DrawRow]] = {}
    for draw in setl_records.draws_of_settlements(uow.connection, ids):
        draws.setdefault(draw.setl_id, []).append(draw)
    undone = setl_records.reversed_among(uow.connection, ids)
    return [SettlementLine(r, tuple(draws.get(r.setl_id, ())), r.setl_id in undone) for r in rows]


def _events(uow: UnitOfWork, psn_no: str) -> list[PersonEvent]:
    return registry.events_of(uow.connection, psn_no, 0, EVENTS_SHOWN_MAX)
