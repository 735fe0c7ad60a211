"""What the wallet page and ``GET /wallet`` show a person (docs/rules.md §4): the own personal
account, quotas received and given, open offers, what may still be done today, and history.

Read-only; every figure comes from the ledger or the grant rows in one snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from gongji.core.errors import GongjiError
from gongji.kernel import chart
from gongji.kernel.context import Context
from gongji.mutual_aid.domain.grants import GrantState
from gongji.mutual_aid.service.accounts import (
    PersonalAccountView,
    parts_available,
    personal_account_view,
)
from gongji.mutual_aid.store import mutual_aid_repo as aid_repo
from gongji.notify.service.preferences import MutualAidChoice, mutual_aid_choice
from gongji.people.service import registry
from gongji.people.service.persons import governing_enrolment, require_person
from gongji.store.records import GrantRecord, PersonEvent, WalletRecord
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
    person = require_person(uow, psn_no)
    enrolment = governing_enrolment(uow, psn_no)
    has_account = enrolment is not None and enrolment.insutype == "310"
    account = (
        personal_account_view(ctx, uow, enrolment.region, psn_no)
        if enrolment and has_account
        else None
    )
    open_states = [GrantState.OFFERED.value, GrantState.HELD.value, GrantState.ACTIVE.value]
    received = _lines(
        ctx,
        uow,
        aid_repo.grants_by(uow.connection, recipient=psn_no, states=open_states),
        mine="recipient",
    )
    given = _lines(
        ctx,
        uow,
        aid_repo.grants_by(uow.connection, contributor=psn_no, states=open_states),
        mine="contributor",
    )
    return WalletView(
        psn_no=psn_no,
        name_masked=person.name_masked,
        insutype=enrolment.insutype if enrolment else None,
        region=enrolment.region if enrolment else None,
        wallet=aid_repo.wallet(uow.connection, psn_no),
        account=account,
        received=[line for line in received if line.grant.state == GrantState.ACTIVE],
        given=given,
        offers_to_me=[line for line in received if line.grant.state == GrantState.OFFERED],
        today=_today(ctx, uow, psn_no, enrolment.region) if enrolment and has_account else None,
        mutual_aid=mutual_aid_choice(ctx, uow, psn_no),
    )


def _lines(
    ctx: Context, uow: UnitOfWork, grants: list[GrantRecord], *, mine: str
) -> list[GrantLine]:
    others = registry.persons_by_no(
        uow.connection, [g.recipient if mine == "contributor" else g.contributor for g in grants]
    )
    quotas = ctx.ledger.accounts_in(uow, [chart.earmark(g.id) for g in grants])
    lines = []
    for grant in grants:
        other = grant.recipient if mine == "contributor" else grant.contributor
        quota = quotas.get(chart.earmark(grant.id))
        left = (
            quota.credit_available
            if quota and grant.state == GrantState.ACTIVE
            else grant.amount_fen
        )
        person = others.get(other)
        lines.append(GrantLine(grant, other, person.name_masked if person else "", left))
    return lines


def _today(ctx: Context, uow: UnitOfWork, psn_no: str, region: str) -> Today:
    local_now = ctx.local_now()
    policy = ctx.policy(region, local_now.date())
    made = sum(aid_repo.offers_on(uow.connection, psn_no, local_now.date().isoformat()).values())
    available = parts_available(ctx, uow, region, psn_no).for_mutual_aid(policy)
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
