"""The personal account as a person sees it: this year, earlier years, earmarked, available.

Earmarked money is what open offers reserve (pending debits) plus what accepted grants still
hold in their quota accounts: it is still the contributor's, but cannot be spent by them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gongji.core.policy import Policy
from gongji.kernel import chart
from gongji.kernel.context import Context
from gongji.ledger.types import Account
from gongji.mutual_aid.domain.sharing import AccountPart, shareable_parts
from gongji.mutual_aid.store import mutual_aid_repo as aid_repo
from gongji.store.raw import DriverRead, Read
from gongji.store.records import GrantRecord
from gongji.store.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class PersonalAccountView:
    region: str
    current_fen: int
    earlier_fen: int
    reserved_fen: int  # by offers not yet accepted
    quota_held_fen: int  # in accepted grants not yet spent

    @property
    def earmarked_fen(self) -> int:
        return self.reserved_fen + self.quota_held_fen

    @property
    def available_fen(self) -> int:
        return self.current_fen + self.earlier_fen - self.reserved_fen


@dataclass(frozen=True, slots=True)
class PartsAvailable:
    current_fen: int
    earlier_fen: int

    def for_mutual_aid(self, policy: Policy) -> int:
        """What mutual aid may take: the parts ``shareable_parts`` allows."""
        by_part = {AccountPart.CURRENT: self.current_fen, AccountPart.EARLIER: self.earlier_fen}
        return sum(by_part[part] for part in shareable_parts(policy))


def parts_available(
    ctx: Context, uow: UnitOfWork, region: str, psn_no: str, *, lock: bool = False
) -> PartsAvailable:
    found = ctx.ledger.accounts_in(uow, own_accounts(region, psn_no), lock=lock)
    return parts_of(region, psn_no, found)


def parts_reads(ctx: Context, region: str, psn_no: str, *, lock: bool = False) -> list[DriverRead]:
    """What :func:`parts_available` reads, for a caller to read it ahead (``uow.prefetch``)."""
    return ctx.ledger.accounts_reads(own_accounts(region, psn_no), lock=lock)


def own_accounts(region: str, psn_no: str) -> tuple[str, str]:
    """The ids of the person's personal account in ``region``: this year's, earlier years'."""
    return chart.personal_current(region, psn_no), chart.personal_earlier(region, psn_no)


def personal_account_view(
    ctx: Context, uow: UnitOfWork, region: str, psn_no: str
) -> PersonalAccountView:
    found = ctx.ledger.accounts_in(uow, own_accounts(region, psn_no))
    active = aid_repo.grants_by(uow.connection, contributor=psn_no, states=["active"])
    quotas = ctx.ledger.accounts_in(uow, [chart.earmark(g.id) for g in active])
    return account_view_of(region, psn_no, {**found, **quotas}, active)


def account_view_of(
    region: str, psn_no: str, accounts: Mapping[str, Account], active_given: Sequence[GrantRecord]
) -> PersonalAccountView:
    """:func:`personal_account_view` from accounts read already: the person's own two (by
    :func:`own_accounts`) and the quotas of ``active_given``, the active grants they gave."""
    current, earlier = (accounts.get(i) for i in own_accounts(region, psn_no))
    quotas = (accounts.get(chart.earmark(grant.id)) for grant in active_given)
    return PersonalAccountView(
        region=region,
        current_fen=current.credit_balance if current else 0,
        earlier_fen=earlier.credit_balance if earlier else 0,
        reserved_fen=(current.debits_pending if current else 0)
        + (earlier.debits_pending if earlier else 0),
        quota_held_fen=sum(quota.credit_balance for quota in quotas if quota is not None),
    )


def parts_of(region: str, psn_no: str, accounts: Mapping[str, Account]) -> PartsAvailable:
    """:func:`parts_available` from the person's own accounts read already."""
    current, earlier = (accounts.get(i) for i in own_accounts(region, psn_no))
    return PartsAvailable(
        current.credit_available if current else 0,
        earlier.credit_available if earlier else 0,
    )


def quotas_received_fen(
    ctx: Context, uow: UnitOfWork, psn_no: str, active: Sequence[GrantRecord] | None = None
) -> int:
    """What the quotas of the person's active grants received hold. ``active``: those grants,
    when the caller read them (:func:`grants_received_read`)."""
    if active is None:
        active = aid_repo.grants_by(uow.connection, recipient=psn_no, states=["active"])
    quotas = ctx.ledger.accounts_in(uow, _quotas(active))
    return sum(a.credit_balance for a in quotas.values())


def grants_received_read(psn_no: str) -> Read:
    """The person's active grants received, as :func:`quotas_received_fen` reads them."""
    return aid_repo.grants_read(recipient=psn_no, states=["active"])


def quotas_received_reads(ctx: Context, active: Sequence[GrantRecord]) -> list[DriverRead]:
    """What :func:`quotas_received_fen` reads once the grants are known, to make ahead."""
    return ctx.ledger.accounts_reads(_quotas(active))


def _quotas(grants: Sequence[GrantRecord]) -> list[str]:
    return [chart.earmark(g.id) for g in grants]
