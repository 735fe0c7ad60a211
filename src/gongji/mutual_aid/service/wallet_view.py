"""What the wallet page and ``GET /wallet`` show a person (docs/rules.md §4): the own personal
account, quotas received and given, open offers, what may still be done today, and history.

Read-only; every figure comes from the ledger or the grant rows (on PostgreSQL in two round
trips, each statement seeing what was committed before it, as under READ COMMITTED).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from gongji.core.enrolment import INSUTYPE_EMPLOYEE
from gongji.core.errors import GongjiError
from gongji.kernel import chart
from gongji.kernel.context import Context
from gongji.ledger.types import Account
from gongji.mutual_aid.domain.grants import GrantState
from gongji.mutual_aid.service.accounts import (
    PartsAvailable,
    PersonalAccountView,
    account_view_of,
    own_accounts,
    parts_of,
)
from gongji.mutual_aid.store import mutual_aid_repo as aid_repo
from gongji.notify.service import preferences
from gongji.notify.service.preferences import MutualAidChoice
from gongji.people.service import registry
from gongji.people.service.persons import governing_enrolment, insured_reads, require_person
from gongji.store.records import GrantRecord, PersonEvent, PersonRecord, WalletRecord
from gongji.store.uow import UnitOfWork

HISTORY_PAGE_MAX = 100
CURSOR_MAX = 2**63 - 1
"""An event's sequence is a signed 64-bit column: a larger cursor names no event and would not
even fit the query's parameter."""


class HistoryCursorInvalid(GongjiError):
    code: ClassVar[str] = "cursor_invalid"
    message_zh: ClassVar[str] = "翻页游标无效，请从第一页重新查看"
    message_en: ClassVar[str] = "The page cursor is invalid; start again from the first page"


@dataclass(frozen=True, slots=True)
class GrantLine:
    grant: GrantRecord
    counterpart: str
    counterpart_name_masked: str
    left_fen: int  # what the quota still holds (active grants); the amount for offers


@dataclass(frozen=True, slots=True)
class Today:
    grants_left: int
    largest_amount_fen: int
    quiet_hours_now: bool
    quiet_hours: str
    offer_expiry: str


@dataclass(frozen=True, slots=True)
class WalletView:
    psn_no: str
    name_masked: str
    insutype: str | None
    region: str | None
    wallet: WalletRecord | None
    account: PersonalAccountView | None
    received: list[GrantLine]
    given: list[GrantLine]
    offers_to_me: list[GrantLine]
    today: Today | None
    mutual_aid: MutualAidChoice
    """就医时使用家庭共济: whether quotas and authorizations pay the person's care (§6.2)."""

    @property
    def received_total_fen(self) -> int:
        return sum(line.left_fen for line in self.received)


def wallet_view(ctx: Context, uow: UnitOfWork, psn_no: str) -> WalletView:
    """Read in two round trips on PostgreSQL: what depends on the person alone, made ahead
    together; then the accounts (their own and every quota of the grants shown) and the other
    parties' names."""
    today = ctx.local_now().date()
    uow.prefetch(
        [
            *insured_reads(psn_no),
            aid_repo.grants_read(recipient=psn_no, states=_OPEN_STATES),
            aid_repo.grants_read(contributor=psn_no, states=_OPEN_STATES),
            aid_repo.wallet_read(psn_no),
            aid_repo.offers_on_read(psn_no, today.isoformat()),
            *preferences.reads_of(psn_no),
        ]
    )
    person = require_person(uow, psn_no)
    enrolment = governing_enrolment(uow, psn_no)
    account_region = (  # an employee's personal account, where they are enrolled
        enrolment.region
        if enrolment is not None and enrolment.insutype == INSUTYPE_EMPLOYEE
        else None
    )
    received = aid_repo.grants_by(uow.connection, recipient=psn_no, states=_OPEN_STATES)
    given = aid_repo.grants_by(uow.connection, contributor=psn_no, states=_OPEN_STATES)
    wallet = aid_repo.wallet(uow.connection, psn_no)
    made = sum(aid_repo.offers_on(uow.connection, psn_no, today.isoformat()).values())
    account_ids = [
        *(own_accounts(account_region, psn_no) if account_region is not None else ()),
        *(chart.earmark(grant.id) for grant in (*received, *given)),
    ]
    others = [*(g.contributor for g in received), *(g.recipient for g in given)]
    uow.prefetch([*ctx.ledger.accounts_reads(account_ids), registry.persons_by_no_read(others)])
    accounts = ctx.ledger.accounts_in(uow, account_ids)
    names = registry.persons_by_no(uow.connection, others)
    received_lines = _lines(received, accounts, names, mine="recipient")
    active_given = [grant for grant in given if grant.state == GrantState.ACTIVE]
    return WalletView(
        psn_no=psn_no,
        name_masked=person.name_masked,
        insutype=enrolment.insutype if enrolment else None,
        region=enrolment.region if enrolment else None,
        wallet=wallet,
        account=(
            account_view_of(account_region, psn_no, accounts, active_given)
            if account_region
            else None
        ),
        received=[line for line in received_lines if line.grant.state == GrantState.ACTIVE],
        given=_lines(given, accounts, names, mine="contributor"),
        offers_to_me=[line for line in received_lines if line.grant.state == GrantState.OFFERED],
        today=(
            _today(ctx, made, parts_of(account_region, psn_no, accounts), account_region)
            if account_region
            else None
        ),
        mutual_aid=preferences.choice_of(ctx, preferences.of(uow, psn_no), enrolment),
    )


_OPEN_STATES = (GrantState.OFFERED.value, GrantState.HELD.value, GrantState.ACTIVE.value)


def _lines(
    grants: list[GrantRecord],
    accounts: Mapping[str, Account],
    names: Mapping[str, PersonRecord],
    *,
    mine: str,
) -> list[GrantLine]:
    lines = []
    for grant in grants:
        other = grant.recipient if mine == "contributor" else grant.contributor
        quota = accounts.get(chart.earmark(grant.id))
        left = (
            quota.credit_available
            if quota and grant.state == GrantState.ACTIVE
            else grant.amount_fen
        )
        person = names.get(other)
        lines.append(GrantLine(grant, other, person.name_masked if person else "", left))
    return lines


def _today(ctx: Context, made: int, parts: PartsAvailable, region: str) -> Today:
    """What may still be done today, given the offers ``made`` today and the account's parts."""
    local_now = ctx.local_now()
    policy = ctx.policy(region, local_now.date())
    available = parts.for_mutual_aid(policy)
    return Today(
        grants_left=max(policy.grants_per_day_max - made, 0),
        largest_amount_fen=max(min(policy.grant_amount_max_fen, available), 0),
        quiet_hours_now=policy.in_quiet_hours(local_now.time()),
        quiet_hours=f"{policy.quiet_hours_start:%H:%M}–{policy.quiet_hours_end:%H:%M}",
        offer_expiry=f"{policy.offer_expiry_time:%H:%M}",
    )


def history(
    uow: UnitOfWork, psn_no: str, cursor: str | None, limit: int
) -> tuple[list[PersonEvent], str | None]:
    """The person's events, oldest first, with an opaque cursor for the next page."""
    after = _cursor(cursor)
    limit = max(1, min(limit, HISTORY_PAGE_MAX))
    rows = registry.events_of(uow.connection, psn_no, after, limit + 1)
    page = rows[:limit]
    next_cursor = str(page[-1].seq) if len(rows) > limit else None
    return page, next_cursor


def latest(uow: UnitOfWork, psn_no: str, limit: int) -> list[PersonEvent]:
    """The person's last ``limit`` events, newest first (a guardian's glance, §17)."""
    return registry.latest_events_of(uow.connection, psn_no, max(1, min(limit, HISTORY_PAGE_MAX)))


def _cursor(cursor: str | None) -> int:
    """The sequence after which a page starts; anything but a cursor this code gave is refused."""
    if not cursor:
        return 0
    if not (cursor.isascii() and cursor.isdigit()) or int(cursor) > CURSOR_MAX:
        raise HistoryCursorInvalid()
    return int(cursor)
