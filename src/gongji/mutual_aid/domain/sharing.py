"""What shared money is, and who may spend it (docs/rules.md §6–§7). Pure.

Shared money reaches a patient two ways: the quota of a grant accepted (共济额度, §6.1), and the
personal account of a relative who authorized them (家庭共济授权, §6.2). Both settlements and
premiums paid from a grant draw on it, so the rules of who may spend it, and from which part
of a contributor's account it may come, live here once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from gongji.core.enrolment import EnrolmentStatus, WalletStatus
from gongji.core.money import allocate_in_order
from gongji.core.policy import Policy
from gongji.mutual_aid.domain import grant_errors


class AccountPart(StrEnum):
    """The two parts of a personal account: this year's money (当年) and earlier years' (历年)."""

    CURRENT = "current"
    EARLIER = "earlier"


def shareable_parts(policy: Policy) -> tuple[AccountPart, ...]:
    """The parts of a contributor's account mutual aid may draw on, in the order it draws.

    Earlier-years-only regions (``mutual_aid_earlier_years_only``) share 历年 money alone;
    elsewhere this year's money goes first, as in own spending, so older money stays for the
    holder's own care.
    """
    if policy.mutual_aid_earlier_years_only:
        return (AccountPart.EARLIER,)
    return (AccountPart.CURRENT, AccountPart.EARLIER)


@dataclass(frozen=True, slots=True)
class Source:
    """A place money may be drawn from, and its accounts in the order they are drawn."""

    kind: str  # own | grant | authorization
    source_id: str
    contributor: str
    contributor_region: str
    accounts: tuple[tuple[str, int], ...]  # (ledger account id, available fen)

    @property
    def available_fen(self) -> int:
        return sum(available for _, available in self.accounts)


def cap_accounts(
    accounts: tuple[tuple[str, int], ...], limit_fen: int | None
) -> tuple[tuple[str, int], ...]:
    """What can be drawn from each account when the whole source may give at most ``limit_fen``
    (an authorization's quota left); ``None`` means no cap."""
    if limit_fen is None:
        return accounts
    parts = allocate_in_order(max(limit_fen, 0), [max(a, 0) for _, a in accounts])
    return tuple((account, amount) for (account, _), amount in zip(accounts, parts, strict=False))


def check_spender(
    enrolment: EnrolmentStatus | None, wallet: WalletStatus | None, role: str
) -> None:
    """Who may spend shared money: a person enrolled normally whose wallet is open.

    A suspended person's spending waits for the suspension to end; a frozen wallet (a bureau's
    decision, §12) holds its shared money until it is unfrozen.
    """
    if enrolment is EnrolmentStatus.SUSPENDED:
        raise grant_errors.PersonSuspended(role=role)
    if enrolment is not EnrolmentStatus.NORMAL:
        raise grant_errors.EnrolmentNotActive(role=role)
    if wallet is None or wallet is WalletStatus.CLOSED:
        raise grant_errors.WalletNotOpen()
    if wallet is WalletStatus.FROZEN:
        raise grant_errors.WalletFrozen()
