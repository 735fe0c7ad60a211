"""The audit chain: a record's hash is SM3 over the previous hash and the record's canonical
JSON, so the chain can be checked from its first record alone, with no key.

A keyless hash is the point: an auditor with a copy of the database verifies it without any
secret of the bureau's. It proves the chain was not altered after a record was linked, not who
wrote it; the daily anchors, kept outside the database too (``gongji audit anchor`` prints the
head), stop a rewrite of the whole chain from the first changed record on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from gongji.core.sm3 import sm3_hex

GENESIS_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """What is recorded: when, who, what, about whom, why, and the action's own details."""

    at_us: int
    actor: str
    action: str
    subject: str | None
    reason: str | None
    detail: Mapping[str, Any]

    def canonical(self) -> bytes:
        """The bytes that are hashed: key-sorted compact JSON, the same on every machine."""
        body = {
            "action": self.action,
            "actor": self.actor,
            "at_us": self.at_us,
            "detail": self.detail,
            "reason": self.reason,
            "subject": self.subject,
        }
        text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return text.encode()


@dataclass(frozen=True, slots=True)
class LinkedEntry:
    """An entry as stored: its place in the chain and the two hashes that link it."""

    seq: int
    entry: AuditEntry
    prev_hash: str
    hash: str


class BreakKind(StrEnum):
    EDITED = "edited"  # the record no longer hashes to its stored hash
    DELETED = "deleted"  # a sequence number is missing
    REORDERED = "reordered"  # the record does not follow the one before it
    ANCHOR_MISMATCH = "anchor_mismatch"  # the chain no longer reaches a day's anchored head


@dataclass(frozen=True, slots=True)
class ChainBreak:
    seq: int
    kind: BreakKind


@dataclass(frozen=True, slots=True)
class Anchor:
    day: str
    last_seq: int
    hash: str


def link_hash(prev_hash: str, entry: AuditEntry) -> str:
    return sm3_hex(prev_hash.encode() + b"\n" + entry.canonical())


class ChainWalker:
    """Checks records one by one, in ``seq`` order, remembering only the last link: a chain of
    millions is verified in constant memory.
    """

    def __init__(self) -> None:
        self.last_seq = 0
        self.last_hash = GENESIS_HASH
        self.seen = 0

    def step(self, linked: LinkedEntry) -> ChainBreak | None:
        if link_hash(linked.prev_hash, linked.entry) != linked.hash:
            return ChainBreak(linked.seq, BreakKind.EDITED)
        if self.seen and linked.seq != self.last_seq + 1:
            return ChainBreak(self.last_seq + 1, BreakKind.DELETED)
        if linked.prev_hash != self.last_hash:
            kind = BreakKind.DELETED if self.seen == 0 else BreakKind.REORDERED
            return ChainBreak(linked.seq, kind)
        self.last_seq, self.last_hash, self.seen = linked.seq, linked.hash, self.seen + 1
        return None


def first_break(records: Iterable[LinkedEntry]) -> ChainBreak | None:
    """The first place the chain is broken, or ``None`` when every link holds."""
    walker = ChainWalker()
    for linked in records:
        found = walker.step(linked)
        if found is not None:
            return found
    return None


def check_anchors(anchors: Iterable[Anchor], hash_at: Mapping[int, str]) -> ChainBreak | None:
    """Each anchor's head must still be in the chain with the hash it had that day."""
    for anchor in anchors:
        if hash_at.get(anchor.last_seq) != anchor.hash:
            return ChainBreak(anchor.last_seq, BreakKind.ANCHOR_MISMATCH)
    return None
