"""Typed rows as use cases write them: a ``…Row`` is a new row (every column given, so a
forgotten column is a type error, not a NULL), a ``…Changes`` the columns an update may set.

Their keys are the columns of the ``Table``s in ``tables_people``, checked by a unit test, so the
schema stays the one source of truth.
"""

from __future__ import annotations

from typing import TypedDict


class PersonRow(TypedDict):
    """A new row of ``persons``, every column given."""

    psn_no: str
    id_hash: str
    id_enc: str
    id_masked: str
    name_hash: str
    name_enc: str
    name_masked: str
    mobile_hash: str | None
    mobile_enc: str | None
    mobile_masked: str | None
    sex: str
    death_date: str | None
    created_at_us: int


class EnrolmentRow(TypedDict):
    """A new row of ``enrolments``, every column given but the generated id."""

    psn_no: str
    insutype: str
    region: str
    status: str
    employment: str
    start_date: str
    end_date: str | None
    updated_at_us: int


class EnrolmentChanges(TypedDict, total=False):
    """The columns of ``enrolments`` an update may set (its key is never changed)."""

    psn_no: str
    insutype: str
    region: str
    status: str
    employment: str
    start_date: str
    end_date: str | None
    updated_at_us: int


class WalletRow(TypedDict):
    """A new row of ``wallets``, every column given."""

    psn_no: str
    status: str
    place_of_use: str
    opened_by: str
    opened_at_us: int
    status_reason: str | None
    updated_at_us: int


class WalletChanges(TypedDict, total=False):
    """The columns of ``wallets`` an update may set (its key is never changed)."""

    status: str
    place_of_use: str
    opened_by: str
    opened_at_us: int
    status_reason: str | None
    updated_at_us: int


class RelationshipRow(TypedDict):
    """A new row of ``relationships``, every column given."""

    id: str
    proposer: str
    relative: str
    kind: str
    status: str
    verification: str
    created_at_us: int
    updated_at_us: int
    end_reason: str | None


class RelationshipChanges(TypedDict, total=False):
    """The columns of ``relationships`` an update may set (its key is never changed)."""

    proposer: str
    relative: str
    kind: str
    status: str
    verification: str
    created_at_us: int
    updated_at_us: int
    end_reason: str | None


class GrantRow(TypedDict):
    """A new row of ``grants``, every column given."""

    id: str
    relationship_id: str
    contributor: str
    recipient: str
    contributor_region: str
    amount_fen: int
    from_current_fen: int
    from_earlier_fen: int
    state: str
    business_date: str
    offered_at_us: int
    expires_at_us: int
    accepted_at_us: int | None
    closed_at_us: int | None
    close_reason: str | None


class GrantChanges(TypedDict, total=False):
    """The columns of ``grants`` an update may set (its key is never changed)."""

    relationship_id: str
    contributor: str
    recipient: str
    contributor_region: str
    amount_fen: int
    from_current_fen: int
    from_earlier_fen: int
    state: str
    business_date: str
    offered_at_us: int
    expires_at_us: int
    accepted_at_us: int | None
    closed_at_us: int | None
    close_reason: str | None


class AuthorizationRow(TypedDict):
    """A new row of ``authorizations``, every column given."""

    id: str
    relationship_id: str
    contributor: str
    recipient: str
    quota_fen: int | None
    used_fen: int
    binding_seq: int
    status: str
    created_at_us: int
    ended_at_us: int | None


class AuthorizationChanges(TypedDict, total=False):
    """The columns of ``authorizations`` an update may set (its key is never changed)."""

    relationship_id: str
    contributor: str
    recipient: str
    quota_fen: int | None
    used_fen: int
    binding_seq: int
    status: str
    created_at_us: int
    ended_at_us: int | None


class KinshipRow(TypedDict):
    """A new row of ``kinship_records``, every column given but the generated id."""

    person_hash: str
    relative_hash: str
    kind: str
    source: str
    imported_at_us: int


class KinshipWithdrawalRow(TypedDict):
    """A new row of ``kinship_withdrawals``, every column given but the generated id."""

    person_hash: str
    relative_hash: str
    relationship_id: str
    reason: str
    operator: str
    withdrawn_at_us: int


class InheritanceRow(TypedDict):
    """A new row of ``inheritance_payouts``, every column given."""

    psn_no: str
    death_certificate_no: str
    heirs: str
    amount_fen: int
    operator: str
    paid_at_us: int
