"""Typed rows of the people tables, as services read them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PersonRecord:
    psn_no: str
    id_hash: str
    id_enc: str
    id_masked: str
    name_hash: str
    name_enc: str
    name_masked: str
    mobile_hash: str | None
    mobile_masked: str | None
    sex: str
    death_date: str | None


@dataclass(frozen=True, slots=True)
class EnrolmentRecord:
    id: int
    psn_no: str
    insutype: str
    region: str
    status: str
    employment: str
    start_date: str
    end_date: str | None


@dataclass(frozen=True, slots=True)
class WalletRecord:
    psn_no: str
    status: str
    place_of_use: str
    opened_by: str
    opened_at_us: int
    status_reason: str | None


@dataclass(frozen=True, slots=True)
class RelationshipRecord:
    id: str
    proposer: str
    relative: str
    kind: str
    status: str
    verification: str
    created_at_us: int
    updated_at_us: int
    end_reason: str | None

    def other(self, psn_no: str) -> str:
        return self.relative if psn_no == self.proposer else self.proposer

    def involves(self, psn_no: str) -> bool:
        return psn_no in (self.proposer, self.relative)


@dataclass(frozen=True, slots=True)
class GrantRecord:
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


@dataclass(frozen=True, slots=True)
class AuthorizationRecord:
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


@dataclass(frozen=True, slots=True)
class PersonEvent:
    """One entry of a person's event history, its detail parsed from the stored JSON."""

    seq: int
    kind: str
    at_us: int
    actor: str
    detail: dict[str, object]
