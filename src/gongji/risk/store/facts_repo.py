"""The bulk read of the facts a rule run judges: grants, relationships, persons, settlements.

An inter-area read, read-only and named here (docs/architecture.md): a run over a window reads
a million grants, which a use case per row could not; so risk reads the other areas' tables in
a handful of plain SELECTs through the driver (``store.raw``, no per-row Core objects) and
turns each row into a fact at once. Nothing here writes outside the risk tables.

An incremental run names the persons whose facts changed; the read is then limited to their
rows (in chunks of ids, so the statements stay short on both databases). A full run reads
whole windows through :class:`WholeWindow`, the same statements sent to any ``Fetch``: the
operational connection, or DuckDB reading the same database (``facts_duckdb``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Container, Iterable, Sequence
from datetime import date
from functools import partial
from typing import Any, TypeAlias

from sqlalchemy import Connection

from gongji.risk.domain.facts import (
    BUSINESS_OFFSET_US,
    US_PER_DAY,
    GrantFact,
    InstitutionFact,
    PersonFact,
    RelationshipFact,
    SettlementFact,
)
from gongji.store import raw

CHUNK = 500
_GRANT = partial(tuple.__new__, GrantFact)
_SETTLEMENT = partial(tuple.__new__, SettlementFact)
"""A fact straight from a row with its columns in the fact's field order: the tuple is made in
C, without the named tuple's Python-level constructor (a full run makes a million)."""
EMPLOYEE = "310"
_EPOCH = date(1970, 1, 1)


def day_start_us(day: str) -> int:
    """Business midnight of an ISO date, in µs UTC."""
    return (date.fromisoformat(day) - _EPOCH).days * US_PER_DAY - BUSINESS_OFFSET_US


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for at in range(0, len(ids), CHUNK):
        yield ids[at : at + CHUNK]


def _where_parties(columns: Sequence[str], ids: Sequence[str], params: dict[str, Any]) -> str:
    """``(a IN (:id0, …) OR b IN (:id0, …))``: one set of parameters for every column."""
    names = [f"id{k}" for k in range(len(ids))]
    params.update(zip(names, ids, strict=True))
    listed = ", ".join(f":{name}" for name in names)
    return "(" + " OR ".join(f"{column} IN ({listed})" for column in columns) + ")"


GRANTS = (
    "SELECT id, contributor, recipient, amount_fen, offered_at_us, accepted_at_us "
    "FROM grants WHERE offered_at_us >= :start AND offered_at_us < :end"
)
RELATIONSHIPS = (
    "SELECT id, proposer, relative, kind, created_at_us FROM relationships "
    "WHERE created_at_us < :end"
)
"""Every relationship made before the window's end (a relation's age and the count of a kind
look back past the window's start)."""
SETTLEMENTS = (
    "SELECT s.setl_id, s.psn_no, s.institution_code, s.treatment_region, s.created_at_us, "
    "s.medfee_sumamt, "
    "(SELECT CAST(COALESCE(SUM(d.amount_fen), 0) AS BIGINT) FROM settlement_draws d "
    " WHERE d.setl_id = s.setl_id AND d.kind <> 'own'), "
    "(SELECT CAST(COALESCE(SUM(i.det_item_fee_sumamt), 0) AS BIGINT) FROM settlement_items i "
    " JOIN risk_resellable_items r ON r.item_code = i.item_code WHERE i.setl_id = s.setl_id), "
    "s.insured_region FROM settlements s "
    "WHERE s.kind = 'settlement' AND s.created_at_us >= :start AND s.created_at_us < :end "
    "AND NOT EXISTS (SELECT 1 FROM settlements r2 WHERE r2.reverses = s.setl_id)"
)
"""Settlements (not reversals, nor those reversed) with the part paid by shared money and the
part spent on items the bureau flags as resellable; each sum cast back to integer fen
(PostgreSQL sums a bigint as a numeric, which the driver hands over as a ``Decimal``)."""
PERSONS = (
    "SELECT p.psn_no, p.id_enc, p.death_date, e.region, e.insutype, e.status, e.end_date "
    "FROM persons p LEFT JOIN enrolments e ON e.psn_no = p.psn_no AND e.id = "
    "(SELECT MAX(e2.id) FROM enrolments e2 WHERE e2.psn_no = p.psn_no) WHERE 1 = 1"
)
MOVES = "SELECT psn_no, at_us, detail FROM person_events WHERE kind = 'moved'"
INSTITUTIONS = "SELECT code, region, kind FROM institutions"
_GRANT_PARTIES = ("contributor", "recipient")
_RELATIONSHIP_PARTIES = ("proposer", "relative")
_SETTLEMENT_PARTIES = ("s.psn_no",)
_PERSON_PARTIES = ("p.psn_no",)
_MOVE_PARTIES = ("psn_no",)
"""The columns that name a party of each statement's rows, for an incremental read."""

Rows: TypeAlias = Sequence[Sequence[Any]]
Fetch: TypeAlias = Callable[[str, dict[str, Any]], Rows]
"""Rows of a ``:name``-parameter statement."""


def grants(
    connection: Connection, start: int, end: int, persons: Sequence[str] | None
) -> list[GrantFact]:
    return list(map(_GRANT, _read(connection, GRANTS, start, end, persons, _GRANT_PARTIES)))


def relationships(
    connection: Connection, start: int, end: int, persons: Sequence[str] | None
) -> list[RelationshipFact]:
    rows = _read(connection, RELATIONSHIPS, start, end, persons, _RELATIONSHIP_PARTIES)
    return [RelationshipFact(*row) for row in rows]


def settlements(
    connection: Connection, start: int, end: int, persons: Sequence[str] | None
) -> list[SettlementFact]:
    rows = _read(connection, SETTLEMENTS, start, end, persons, _SETTLEMENT_PARTIES)
    return list(map(_SETTLEMENT, rows))


def relationships_reads(start: int, end: int, persons: Sequence[str]) -> list[raw.Read]:
    """What :func:`relationships` reads about ``persons``, to read ahead (``uow.prefetch``):
    none of these ``*_reads`` needs another's answer, so a write-time screen makes all of its
    reads in one round trip on PostgreSQL."""
    return _statements(RELATIONSHIPS, start, end, persons, _RELATIONSHIP_PARTIES)


def grants_reads(start: int, end: int, persons: Sequence[str]) -> list[raw.Read]:
    """What :func:`grants` reads about ``persons``, to read ahead."""
    return _statements(GRANTS, start, end, persons, _GRANT_PARTIES)


def settlements_reads(start: int, end: int, persons: Sequence[str]) -> list[raw.Read]:
    """What :func:`settlements` reads about ``persons``, to read ahead."""
    return _statements(SETTLEMENTS, start, end, persons, _SETTLEMENT_PARTIES)


def persons_reads(ids: Sequence[str]) -> list[raw.Read]:
    """What :func:`persons` reads about ``ids`` (their moves, then the persons), to read
    ahead."""
    return [
        *_statements(MOVES, 0, 0, ids, _MOVE_PARTIES),
        *_statements(PERSONS, 0, 0, ids, _PERSON_PARTIES),
    ]


def around_reads(end: int, ids: Sequence[str]) -> list[raw.Read]:
    """What :func:`persons_around` reads (the moves, then the persons), to read ahead: they
    need no earlier answer, so a write-time screen reads them with the window's own reads."""
    statements: list[raw.Read] = []
    for sql, column in ((MOVES, _MOVE_PARTIES[0]), (PERSONS, _PERSON_PARTIES[0])):
        params: dict[str, Any] = {"end": end}
        statements.append((f"{sql} AND {_around(column, ids, params)}", params))
    return statements


def persons_around(
    connection: Connection,
    end: int,
    ids: Sequence[str],
    born: Callable[[str], date],
    dated: Container[str],
) -> list[PersonFact]:
    """:func:`persons` of ``ids`` and of everyone in a relationship with one of them made before
    ``end``: those :func:`relationships` names (proposers and relatives), found by the
    database, so that a write-time screen reads its people without waiting for their relations
    first. ``ids`` are a write's parties: a few, in one statement."""
    moves_read, persons_read = around_reads(end, ids)
    moves = _moves(raw.fetch(connection, *moves_read))
    return _persons(raw.fetch(connection, *persons_read), moves, born, dated)


def _around(column: str, ids: Sequence[str], params: dict[str, Any]) -> str:
    """``column IN (the ids, and their relations' parties)``, in one list the database can look
    up by index: with ``column IN (:ids) OR column IN (…)`` PostgreSQL read every row."""
    parties = _where_parties(_RELATIONSHIP_PARTIES, ids, params)
    related = [
        f"SELECT {party} FROM relationships WHERE created_at_us < :end AND {parties}"
        for party in _RELATIONSHIP_PARTIES
    ]
    listed = f"SELECT psn_no FROM persons WHERE {_where_parties(('psn_no',), ids, params)}"
    return f"{column} IN ({' UNION '.join([listed, *related])})"


def persons(
    connection: Connection,
    ids: Sequence[str] | None,
    born: Callable[[str], date],
    dated: Container[str],
) -> list[PersonFact]:
    """Each person with their current enrolment's region and insutype, death, termination and
    last move; the birth date of those in ``dated`` only. It is stored nowhere in clear:
    ``born`` decrypts the ID number (``people.service.persons.birth_date_from_enc``), which is
    a full run's largest cost per person, so it is paid only where a rule reads the date
    (``risk.domain.rules_people.whose_birth_dates``)."""
    moves = _moves(_read(connection, MOVES, 0, 0, ids, _MOVE_PARTIES))
    return _persons(_read(connection, PERSONS, 0, 0, ids, _PERSON_PARTIES), moves, born, dated)


def _persons(
    rows: Rows,
    moves: dict[str, tuple[int, str]],
    born: Callable[[str], date],
    dated: Container[str],
) -> list[PersonFact]:
    found = []
    for psn_no, id_enc, died, region, insutype, status, ended in rows:
        moved_at, moved_from = moves.get(psn_no, (None, None))
        found.append(
            PersonFact(
                psn_no, region or "", born(id_enc) if psn_no in dated else None,
                insutype == EMPLOYEE, day_start_us(died) if died else None,
                day_start_us(ended) if status == "terminated" and ended else None,
                moved_at, moved_from,
            )
        )  # fmt: skip
    return found


def _moves(rows: Rows) -> dict[str, tuple[int, str]]:
    """Each person's last move: the rows come in no promised order (the statement has none)."""
    found: dict[str, tuple[int, str]] = {}
    for psn_no, at_us, detail in rows:
        if psn_no not in found or int(at_us) >= found[psn_no][0]:
            found[psn_no] = (int(at_us), str(json.loads(detail).get("old", "")))
    return found


def institutions(connection: Connection) -> list[InstitutionFact]:
    return _institutions(raw.fetch(connection, INSTITUTIONS, {}))


def _institutions(rows: Rows) -> list[InstitutionFact]:
    return [InstitutionFact(code, region, kind == "pharmacy") for code, region, kind in rows]


class WholeWindow:
    """A full run's reads: every fact of a window, the statements above sent through ``fetch``
    without a list of persons (``on_connection`` for the operational connection itself)."""

    def __init__(self, fetch: Fetch) -> None:
        self._fetch = fetch

    @classmethod
    def on_connection(cls, connection: Connection) -> WholeWindow:
        return cls(partial(raw.fetch, connection))

    def grants(self, start: int, end: int) -> list[GrantFact]:
        return list(map(_GRANT, self._fetch(GRANTS, {"start": start, "end": end})))

    def relationships(self, end: int) -> list[RelationshipFact]:
        return [RelationshipFact(*row) for row in self._fetch(RELATIONSHIPS, {"end": end})]

    def settlements(self, start: int, end: int) -> list[SettlementFact]:
        return list(map(_SETTLEMENT, self._fetch(SETTLEMENTS, {"start": start, "end": end})))

    def persons(self, born: Callable[[str], date], dated: Container[str]) -> list[PersonFact]:
        moves = _moves(self._fetch(MOVES, {}))
        return _persons(self._fetch(PERSONS, {}), moves, born, dated)

    def institutions(self) -> list[InstitutionFact]:
        return _institutions(self._fetch(INSTITUTIONS, {}))


def _read(
    connection: Connection,
    sql: str,
    start: int,
    end: int,
    ids: Sequence[str] | None,
    parties: Sequence[str],
) -> list[Sequence[Any]]:
    if ids is None:
        return list(raw.fetch(connection, sql, {"start": start, "end": end}))
    rows: list[Sequence[Any]] = []
    for statement, params in _statements(sql, start, end, ids, parties):
        rows.extend(raw.fetch(connection, statement, params))
    return rows


def _statements(
    sql: str, start: int, end: int, ids: Sequence[str], parties: Sequence[str]
) -> list[raw.Read]:
    """``sql`` limited to the rows of ``ids``, chunk by chunk, with its parameters."""
    statements: list[raw.Read] = []
    for chunk in _chunks(sorted(set(ids))):
        params: dict[str, Any] = {"start": start, "end": end}
        where = _where_parties(parties, chunk, params)
        statements.append((f"{sql} AND {where}", params))
    return statements


QUIET_US = 60_000_000
"""How old an event must be to count as committed for good on PostgreSQL (see changes)."""


def last_event(connection: Connection) -> int:
    """The newest ``person_events`` seq (its primary key: one index probe)."""
    found = raw.fetch(connection, "SELECT MAX(seq) FROM person_events", {})
    return int(found[0][0] or 0)


def changes(connection: Connection, after_seq: int, now_us: int) -> tuple[set[str], int]:
    """Who changed after event ``after_seq``, and the watermark for the next run.

    Every write risk judges leaves an event in the history of each person it touches (an offer
    or acceptance in both parties', a relationship, a settlement, a death, a move), so the
    events after the last run's watermark name exactly who changed, read by primary-key range:
    a run's cost follows the change, not the tables. On PostgreSQL a seq is drawn at insert, not
    at commit, so a slow transaction may commit a lower seq later; the watermark therefore stops
    before events younger than ``QUIET_US``, which the next run reads again (judging someone
    twice raises nothing twice: alerts are kept by fingerprint)."""
    sql = "SELECT seq, psn_no, at_us FROM person_events WHERE seq > :after"
    rows = raw.fetch(connection, sql, {"after": after_seq})
    settled = [int(seq) for seq, _, at_us in rows if at_us < now_us - QUIET_US]
    fresh = [int(seq) for seq, _, at_us in rows if at_us >= now_us - QUIET_US]
    watermark = min(fresh) - 1 if fresh else max(settled, default=after_seq)
    return {str(psn_no) for _, psn_no, _ in rows}, max(after_seq, watermark)


def counterparts(connection: Connection, ids: Sequence[str], start: int, end: int) -> set[str]:
    """Everyone who gave to or received from ``ids`` in the window: a changed person's loop or
    fan passes through them."""
    found: set[str] = set()
    for grant in grants(connection, start, end, ids):
        found.update((grant.contributor, grant.recipient))
    return found


def grants_by_id(connection: Connection, ids: Sequence[str]) -> list[GrantFact]:
    """The grants an alert names as its evidence."""
    found: list[GrantFact] = []
    for chunk in _chunks(sorted(set(ids))):
        params: dict[str, Any] = {}
        where = raw.in_list("id", chunk, params)
        sql = (
            "SELECT id, contributor, recipient, amount_fen, offered_at_us, accepted_at_us "
            f"FROM grants WHERE {where}"
        )
        found.extend(map(_GRANT, raw.fetch(connection, sql, params)))
    return found
