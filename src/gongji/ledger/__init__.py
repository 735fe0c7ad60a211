"""A small double-entry engine with TigerBeetle's semantics (0.16), in SQL.

It knows nothing of insurance: accounts with four balances (debits/credits × pending/posted) and
bound flags; transfers with client-chosen ids that are their idempotency keys, so that a retry
always answers as the first attempt did (a refusal that depended on the moment is remembered);
linked chains that succeed or fail together; two-phase transfers (pending, then post, void or
expiry); balancing transfers that move what is left, up to a cap. docs/ledger.md lists where it
differs from TigerBeetle, and why.

Invariants (checked by :func:`gongji.ledger.check.check_ledger` and the tests):
- transfers and pending resolutions are append-only (database triggers refuse UPDATE and DELETE);
- every transfer moves an amount of 0 or more between two different accounts of one ledger;
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
