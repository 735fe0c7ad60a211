"""A small double-entry engine modelled on TigerBeetle's semantics, in SQL.

It knows nothing of insurance: accounts with four balances (debits/credits × pending/posted) and
bound flags; transfers with client-chosen ids that are their idempotency keys; linked chains that
succeed or fail together; two-phase transfers (pending, then post, void or expiry).

Invariants (checked by :func:`gongji.ledger.check.check_ledger` and the tests):
- transfers and pending resolutions are append-only (database triggers refuse UPDATE and DELETE);
- every transfer moves a positive amount between two different accounts of one ledger;
- each account's four balances equal the sums of its transfers;
- no account breaks the bound its flags set;
- total debits equal total credits, posted and pending alike;
- each pending transfer resolves at most once (posted, voided or expired).
"""

from gongji.ledger.types import (
    Account,
    AccountFlags,
    CreateAccountResult,
    CreateTransferResult,
    NewAccount,
    Transfer,
    TransferFlags,
)

__all__ = [
    "Account",
    "AccountFlags",
    "CreateAccountResult",
    "CreateTransferResult",
    "NewAccount",
    "Transfer",
    "TransferFlags",
]
