"""The audit chain without a database: every kind of tampering is found at its first record."""

from __future__ import annotations

from dataclasses import replace

from gongji.audit.domain.chain import (
    GENESIS_HASH,
    Anchor,
    AuditEntry,
    BreakKind,
    ChainBreak,
    LinkedEntry,
    check_anchors,
    first_break,
    link_hash,
)


def chain(n: int) -> list[LinkedEntry]:
    made, prev = [], GENESIS_HASH
    for seq in range(1, n + 1):
        entry = AuditEntry(
            seq * 1_000, "operator:li", "wallet.freeze", f"P{seq}", "核查", {"n": seq}
        )
        digest = link_hash(prev, entry)
        made.append(LinkedEntry(seq, entry, prev, digest))
        prev = digest
    return made


def test_an_untouched_chain_has_no_break() -> None:
    assert first_break(chain(6)) is None
    assert first_break([]) is None


def test_the_hash_covers_every_field_and_the_previous_hash() -> None:
    entry = chain(1)[0].entry
    base = link_hash(GENESIS_HASH, entry)
    assert link_hash("1" * 64, entry) != base
    for changed in (
        replace(entry, at_us=entry.at_us + 1),
        replace(entry, actor="operator:wang"),
        replace(entry, action="wallet.unfreeze"),
        replace(entry, subject="P9"),
        replace(entry, reason=None),
        replace(entry, detail={"n": 2}),
    ):
        assert link_hash(GENESIS_HASH, changed) != base


def test_an_edited_record_is_found_where_it_was_edited() -> None:
    records = chain(6)
    records[3] = replace(records[3], entry=replace(records[3].entry, subject="P99"))
    assert first_break(records) == ChainBreak(4, BreakKind.EDITED)


def test_an_edited_record_whose_hash_was_recomputed_breaks_the_next_link() -> None:
    records = chain(6)
    forged = replace(records[3].entry, subject="P99")
    records[3] = replace(records[3], entry=forged, hash=link_hash(records[3].prev_hash, forged))
    assert first_break(records) == ChainBreak(5, BreakKind.REORDERED)


def test_a_deleted_record_is_found_by_its_missing_number() -> None:
    records = chain(6)
    del records[2]
    assert first_break(records) == ChainBreak(3, BreakKind.DELETED)


def test_a_deleted_first_record_is_found_too() -> None:
    assert first_break(chain(4)[1:]) == ChainBreak(2, BreakKind.DELETED)


def test_reordered_records_are_found_at_the_first_out_of_place() -> None:
    records = chain(6)
    a, b = records[1], records[2]
    records[1], records[2] = replace(b, seq=2), replace(a, seq=3)
    assert first_break(records) == ChainBreak(2, BreakKind.REORDERED)


def test_a_cut_off_tail_is_found_by_the_days_anchor() -> None:
    records = chain(6)
    anchors = [Anchor("2026-12-03", 6, records[5].hash)]
    kept = {r.seq: r.hash for r in records[:4]}
    assert check_anchors(anchors, {r.seq: r.hash for r in records}) is None
    assert check_anchors(anchors, kept) == ChainBreak(6, BreakKind.ANCHOR_MISMATCH)
