"""Whether a contributor's shared money may pay today (docs/rules.md §6, §10), asked by settlement
for each grant and authorization that could pay a bill.

A grant's money is already set aside, yet while its contributor is suspended it is not
spendable: a suspension stops everything the person does with their account (§10), and money
they earmarked is still theirs until it is spent. It becomes spendable again when the
suspension ends. An authorization draws straight from the contributor's account, so it needs
the contributor insured as an employee in normal status and their wallet open and not frozen:
a frozen or closed wallet stops giving in every form.
"""

from __future__ import annotations

from gongji.core.enrolment import INSUTYPE_EMPLOYEE, EnrolmentStatus, WalletStatus
from gongji.mutual_aid.store import mutual_aid_repo as aid_repo
from gongji.people.service.persons import governing_enrolment
from gongji.store.uow import UnitOfWork


def grant_spendable(uow: UnitOfWork, contributor: str) -> bool:
    enrolment = governing_enrolment(uow, contributor)
    return enrolment is None or enrolment.status != EnrolmentStatus.SUSPENDED


def authorization_drawable(uow: UnitOfWork, contributor: str) -> bool:
    enrolment = governing_enrolment(uow, contributor)
    if (
        enrolment is None
        or enrolment.status != EnrolmentStatus.NORMAL
        or enrolment.insutype != INSUTYPE_EMPLOYEE
    ):
        return False
    wallet = aid_repo.wallet(uow.connection, contributor)
    return wallet is not None and wallet.status == WalletStatus.OPEN
