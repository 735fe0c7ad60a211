"""The shared money a person may spend now: the quotas of their accepted grants and what their
authorizing relatives' accounts may still give (docs/rules.md §6–§7).

Read in the caller's unit of work; with ``lock=True`` the quota and account rows are locked
(PostgreSQL ``FOR UPDATE``), so what a settlement or a premium plans against cannot change
before it is drawn.

Whether a contributor's money may pay today (§6, §10): a grant's money is already set aside,
yet while its contributor is suspended it is not spendable — a suspension stops everything the
person does with their account, and money they earmarked is still theirs until it is spent; it
becomes spendable again when the suspension ends. An authorization draws straight from the
contributor's account, so it needs the contributor insured as an employee in normal status and
their wallet open: a frozen or closed wallet stops giving in every form.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from gongji.core.enrolment import INSUTYPE_EMPLOYEE, EnrolmentStatus, WalletStatus
from gongji.kernel import chart
from gongji.kernel.context import Context
from gongji.mutual_aid.domain.sharing import (
    AccountPart,
    Source,
    cap_accounts,
    check_spender,
    shareable_parts,
)
from gongji.mutual_aid.service.accounts import PartsAvailable, parts_available
from gongji.mutual_aid.store import mutual_aid_repo as aid_repo
from gongji.people.service.persons import governing_enrolment, governing_enrolment_read
from gongji.store.raw import DriverRead, Read, fetch
from gongji.store.records import AuthorizationRecord, EnrolmentRecord, GrantRecord, WalletRecord
from gongji.store.uow import UnitOfWork

PATIENT = "就医人"


def spendable_reads(psn_no: str) -> list[Read]:
    """The first reads of :func:`spendable_sources` (the wallet, the active grants; neither
    locked), to make ahead with others (``uow.prefetch``)."""
    return [aid_repo.wallet_read(psn_no), _active_grants_read(psn_no)]


def _active_grants_read(psn_no: str) -> Read:
    return aid_repo.grants_read(recipient=psn_no, states=["active"])


@dataclass(frozen=True, slots=True)
class Spendable:
    """What :func:`spendable_sources` reads before it locks anything: the spender's wallet and
    active grants, which name the rows its locks take (:meth:`lock_reads`). A caller that reads
    them early can lock those rows with its own, in one round trip on PostgreSQL."""

    psn_no: str
    wallet: WalletRecord | None
    grants: tuple[GrantRecord, ...]

    @property
    def may_have_money(self) -> bool:
        """An open or frozen wallet (a frozen one is refused once money is found)."""
        return self.wallet is not None and self.wallet.status != WalletStatus.CLOSED

    def lock_reads(self, ctx: Context, *, lock: bool) -> list[Read | DriverRead]:
        """What :func:`spendable_sources` reads next, in its order: the grants' quotas (locked),
        their contributors' enrolments and the active authorizations (locked)."""
        if not self.may_have_money:
            return []
        authorizations = aid_repo.authorizations_read(
            recipient=self.psn_no, status="active", lock=lock
        )
        return _grant_reads(ctx, self.grants, lock=lock, read_with=[authorizations])


def spendable(uow: UnitOfWork, psn_no: str) -> Spendable:
    """The spender's wallet and active grants (:class:`Spendable`), neither locked."""
    wallet = aid_repo.wallet(uow.connection, psn_no)
    active = [GrantRecord(*row) for row in fetch(uow.connection, *_active_grants_read(psn_no))]
    return Spendable(psn_no, wallet, tuple(active))


def spendable_sources(
    ctx: Context,
    uow: UnitOfWork,
    psn_no: str,
    on: date,
    *,
    lock: bool,
    spender: EnrolmentRecord,
    known: Spendable | None = None,
) -> list[Source]:
    """The patient's shared money, grants first (oldest first), then authorizations (binding
    order); none without an open wallet, a refusal when there is some and it may not be spent.
    ``spender``: the patient's governing enrolment, which the caller (quoting a bill) has read;
    ``known``: their wallet and grants, when the caller read them (:func:`spendable`).
    """
    known = known if known is not None else spendable(uow, psn_no)
    wallet = known.wallet
    if wallet is None or wallet.status == WalletStatus.CLOSED:
        return []
    if uow.reads_ahead:  # nothing sent when the caller read them ahead
        uow.prefetch(known.lock_reads(ctx, lock=lock))
    sources = grant_sources(ctx, uow, psn_no, lock=lock, active=known.grants)
    sources += authorization_sources(ctx, uow, psn_no, on, lock=lock)
    if sources:
        check_spender(EnrolmentStatus(spender.status), WalletStatus(wallet.status), PATIENT)
    return sources


def grant_sources(
    ctx: Context,
    uow: UnitOfWork,
    psn_no: str,
    *,
    lock: bool,
    read_with: Sequence[Read] = (),
    active: Sequence[GrantRecord] | None = None,
) -> list[Source]:
    """The quotas of the person's accepted grants that still hold money, oldest grant first; a
    suspended contributor's grants wait for the suspension to end (docs/rules.md §10).
    ``active``: the person's active grants, when the caller read them.

    Once the grants are known, their quotas, their contributors' enrolments and ``read_with``
    (what the caller reads next) are read in one round trip on PostgreSQL, in that order, the
    order they are asked for below: the quotas' row locks are taken where they always were."""
    if active is None:
        active = [GrantRecord(*row) for row in fetch(uow.connection, *_active_grants_read(psn_no))]
    if uow.reads_ahead:
        uow.prefetch(_grant_reads(ctx, active, lock=lock, read_with=read_with))
    quotas = ctx.ledger.accounts_in(uow, [chart.earmark(g.id) for g in active], lock=lock)
    spendable: dict[str, bool] = {}  # one enrolment read per contributor, not per grant
    sources = []
    for grant in active:
        quota = quotas.get(chart.earmark(grant.id))
        if quota is None or quota.credit_available <= 0:
            continue
        if grant.contributor not in spendable:
            spendable[grant.contributor] = _grant_spendable(uow, grant.contributor)
        if not spendable[grant.contributor]:
            continue
        account = ((quota.id, quota.credit_available),)
        sources.append(
            Source("grant", grant.id, grant.contributor, grant.contributor_region, account)
        )
    return sources


def _grant_reads(
    ctx: Context, active: Sequence[GrantRecord], *, lock: bool, read_with: Sequence[Read]
) -> list[Read | DriverRead]:
    """The grants' quotas, their contributors' enrolments, then ``read_with``: what
    :func:`grant_sources` reads once the grants are known."""
    earmarks = [chart.earmark(g.id) for g in active]
    contributors = dict.fromkeys(g.contributor for g in active)
    return [
        *ctx.ledger.accounts_reads(earmarks, lock=lock),
        *(governing_enrolment_read(c) for c in contributors),
        *read_with,
    ]


def authorization_sources(
    ctx: Context, uow: UnitOfWork, psn_no: str, on: date, *, lock: bool
) -> list[Source]:
    """What each active authorization may still give: the contributor's shareable money, up to
    the quota left; a contributor no longer enrolled normally as an employee, or whose wallet is
    not open, gives nothing."""
    found = aid_repo.authorizations_by(uow.connection, recipient=psn_no, status="active", lock=lock)
    # Each contributor's enrolment and wallet in one round trip (PostgreSQL): neither is locked.
    contributors = dict.fromkeys(a.contributor for a in found)
    uow.prefetch(
        [r for c in contributors for r in (governing_enrolment_read(c), aid_repo.wallet_read(c))]
    )
    sources = []
    for authorization in found:
        source = _authorization_source(ctx, uow, authorization, on, lock)
        if source is not None and source.available_fen > 0:
            sources.append(source)
    return sources


def _authorization_source(
    ctx: Context, uow: UnitOfWork, authorization: AuthorizationRecord, on: date, lock: bool
) -> Source | None:
    contributor = authorization.contributor
    enrolment = governing_enrolment(uow, contributor)
    if enrolment is None or not _authorization_drawable(uow, contributor, enrolment):
        return None
    parts = parts_available(ctx, uow, enrolment.region, contributor, lock=lock)
    accounts = tuple(
        _account(enrolment.region, contributor, part, parts)
        for part in shareable_parts(ctx.policy(enrolment.region, on))
    )
    quota_left = (
        None
        if authorization.quota_fen is None
        else authorization.quota_fen - authorization.used_fen
    )
    capped = cap_accounts(accounts, quota_left)
    return Source("authorization", authorization.id, contributor, enrolment.region, capped)


def _account(region: str, psn_no: str, part: AccountPart, parts: PartsAvailable) -> tuple[str, int]:
    if part is AccountPart.CURRENT:
        return chart.personal_current(region, psn_no), parts.current_fen
    return chart.personal_earlier(region, psn_no), parts.earlier_fen


def _grant_spendable(uow: UnitOfWork, contributor: str) -> bool:
    enrolment = governing_enrolment(uow, contributor)
    return enrolment is None or enrolment.status != EnrolmentStatus.SUSPENDED


def _authorization_drawable(uow: UnitOfWork, contributor: str, enrolment: EnrolmentRecord) -> bool:
    if enrolment.status != EnrolmentStatus.NORMAL or enrolment.insutype != INSUTYPE_EMPLOYEE:
        return False
    wallet = aid_repo.wallet(uow.connection, contributor)
    return wallet is not None and wallet.status == WalletStatus.OPEN
