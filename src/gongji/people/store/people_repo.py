"""SQL for persons, enrolments, wallets, relationships, grants and authorizations. No decisions.

``lock=True`` takes PostgreSQL row locks (``FOR UPDATE``); on SQLite the whole write transaction
already holds the database's write lock from ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Unpack

from sqlalchemy import Connection, and_, insert, or_, select, update

from gongji.store import raw
from gongji.store.query import all_rows, one, record_columns
from gongji.store.records import (
    EnrolmentRecord,
    PersonEvent,
    PersonRecord,
)
from gongji.store.rows import (
    EnrolmentChanges,
    EnrolmentRow,
    InheritanceRow,
    KinshipRow,
    KinshipWithdrawalRow,
    PersonRow,
)
from gongji.store.tables_family import kinship_withdrawals
from gongji.store.tables_people import (
    enrolments,
    inheritance_payouts,
    kinship_records,
    person_events,
    persons,
)

_PERSON_COLUMNS = record_columns(persons, PersonRecord)


# --- persons -------------------------------------------------------------------------------


_PERSON = f"SELECT {raw.column_list(PersonRecord)} FROM persons WHERE psn_no = :psn_no"


def person_read(psn_no: str) -> raw.Read:
    return _PERSON, {"psn_no": psn_no}


def person(connection: Connection, psn_no: str) -> PersonRecord | None:
    found = raw.fetch(connection, *person_read(psn_no))
    return PersonRecord(*found[0]) if found else None


def mobile_enc(connection: Connection, psn_no: str) -> str | None:
    """The sealed mobile number, for the one use that needs it in clear: sending an SMS."""
    row = connection.execute(select(persons.c.mobile_enc).where(persons.c.psn_no == psn_no)).first()
    return str(row[0]) if row and row[0] else None


_PERSON_BY_ID_HASH = f"SELECT {raw.column_list(PersonRecord)} FROM persons WHERE id_hash = :id_hash"


def person_by_id_hash_read(id_hash: str) -> raw.Read:
    return _PERSON_BY_ID_HASH, {"id_hash": id_hash}


def person_by_id_hash(connection: Connection, id_hash: str) -> PersonRecord | None:
    """By text, not Core: a patient presenting a card is looked up by it at every counter."""
    found = raw.fetch(connection, *person_by_id_hash_read(id_hash))
    return PersonRecord(*found[0]) if found else None


def persons_by_mobile_hash(connection: Connection, mobile_hash: str) -> list[PersonRecord]:
    statement = select(*_PERSON_COLUMNS).where(persons.c.mobile_hash == mobile_hash)
    return all_rows(connection, statement.order_by(persons.c.psn_no), PersonRecord)


def persons_by_no_read(psn_nos: Iterable[str]) -> raw.Read:
    """The read of :func:`persons_by_no`, to make ahead with others (``uow.prefetch``)."""
    params: dict[str, Any] = {}
    where = raw.in_list("psn_no", sorted(set(psn_nos)), params)
    return f"SELECT {raw.column_list(PersonRecord)} FROM persons WHERE {where}", params


def persons_by_no(connection: Connection, psn_nos: Iterable[str]) -> dict[str, PersonRecord]:
    rows = raw.fetch(connection, *persons_by_no_read(psn_nos))
    return {person.psn_no: person for person in (PersonRecord(*row) for row in rows)}


def insert_person(connection: Connection, values: PersonRow) -> None:
    connection.execute(insert(persons), [values])


def set_death_date(connection: Connection, psn_no: str, death_date: str) -> None:
    connection.execute(
        update(persons).where(persons.c.psn_no == psn_no).values(death_date=death_date)
    )


# --- enrolments ----------------------------------------------------------------------------

_ENROLMENT_COLUMNS = record_columns(enrolments, EnrolmentRecord)


_ENROLMENTS_OF = (
    f"SELECT {raw.column_list(EnrolmentRecord)} FROM enrolments WHERE psn_no = :psn_no"
    " ORDER BY start_date DESC, id DESC"
)


def enrolments_read(psn_no: str) -> raw.Read:
    return _ENROLMENTS_OF, {"psn_no": psn_no}


def enrolments_of(connection: Connection, psn_no: str) -> list[EnrolmentRecord]:
    return [EnrolmentRecord(*row) for row in raw.fetch(connection, *enrolments_read(psn_no))]


def current_enrolment(connection: Connection, psn_no: str) -> EnrolmentRecord | None:
    """The enrolment that governs a person now: employee over resident, then the latest start."""
    found = [e for e in enrolments_of(connection, psn_no) if e.end_date is None]
    found.sort(key=lambda e: (e.insutype != "310", e.status != "1"))
    return found[0] if found else None


def find_enrolment(
    connection: Connection, psn_no: str, insutype: str, region: str, start_date: str
) -> EnrolmentRecord | None:
    statement = select(*_ENROLMENT_COLUMNS).where(
        enrolments.c.psn_no == psn_no,
        enrolments.c.insutype == insutype,
        enrolments.c.region == region,
        enrolments.c.start_date == start_date,
    )
    return one(connection, statement, EnrolmentRecord)


def insert_enrolment(connection: Connection, values: EnrolmentRow) -> None:
    connection.execute(insert(enrolments), [values])


def update_enrolment(
    connection: Connection, enrolment_id: int, **values: Unpack[EnrolmentChanges]
) -> None:
    connection.execute(update(enrolments).where(enrolments.c.id == enrolment_id).values(**values))


# --- wallets -------------------------------------------------------------------------------


# --- relationships -------------------------------------------------------------------------


def kinship_recorded(
    connection: Connection, person_hash: str, relative_hash: str, kind: str
) -> bool:
    """A record of this kinship that no operator has withdrawn between the two people."""
    if not _kinship_row_exists(connection, person_hash, relative_hash, kind):
        return False
    pair = [(person_hash, relative_hash), (relative_hash, person_hash)]
    withdrawn = select(kinship_withdrawals.c.id).where(
        or_(
            *(
                and_(
                    kinship_withdrawals.c.person_hash == a,
                    kinship_withdrawals.c.relative_hash == b,
                )
                for a, b in pair
            )
        )
    )
    return connection.execute(withdrawn.limit(1)).first() is None


def _kinship_row_exists(
    connection: Connection, person_hash: str, relative_hash: str, kind: str
) -> bool:
    statement = select(kinship_records.c.id).where(
        kinship_records.c.person_hash == person_hash,
        kinship_records.c.relative_hash == relative_hash,
        kinship_records.c.kind == kind,
    )
    return connection.execute(statement.limit(1)).first() is not None


def insert_kinship_record(connection: Connection, values: KinshipRow) -> bool:
    """False when the same record is already there (imports are idempotent); a withdrawn record
    imported again stays withdrawn."""
    if _kinship_row_exists(
        connection, values["person_hash"], values["relative_hash"], values["kind"]
    ):
        return False
    connection.execute(insert(kinship_records), [values])
    return True


def insert_kinship_withdrawal(connection: Connection, row: KinshipWithdrawalRow) -> None:
    connection.execute(insert(kinship_withdrawals), [row])


# --- grants --------------------------------------------------------------------------------


# --- authorizations ------------------------------------------------------------------------


# --- inheritance ---------------------------------------------------------------------------


def inheritance_paid(connection: Connection, psn_no: str) -> bool:
    statement = select(inheritance_payouts.c.psn_no).where(inheritance_payouts.c.psn_no == psn_no)
    return connection.execute(statement).first() is not None


def insert_inheritance(connection: Connection, values: InheritanceRow) -> None:
    connection.execute(insert(inheritance_payouts), [values])


# --- events --------------------------------------------------------------------------------


_RECORD_EVENT = (
    "INSERT INTO person_events (psn_no, kind, detail, actor, at_us)"
    " VALUES (:psn_no, :kind, :detail, :actor, :at_us)"
)
# The person's turn is taken inside the statement, before the row draws its seq (a subquery
# with a volatile function is evaluated first, never merged into the insert's projection).
_RECORD_EVENT_IN_TURN = (
    "INSERT INTO person_events (psn_no, kind, detail, actor, at_us)"
    " SELECT :psn_no, :kind, :detail, :actor, :at_us"
    " FROM (SELECT pg_advisory_xact_lock(:turn)) AS turn"
)


def record_event(
    connection: Connection, psn_no: str, kind: str, actor: str, at_us: int, **detail: Any
) -> None:
    """One event in the person's history, which readers page through by ``seq``.

    On PostgreSQL a ``seq`` is drawn at insert, not at commit: two transactions writing events
    for one person could commit in the other order, and a reader whose cursor had passed the
    later ``seq`` would never see the earlier. So the writers of one person's events take turns
    (a transaction-scoped advisory lock) from before the insert until they commit. SQLite has
    one writer at a time already.
    """
    values = {
        "psn_no": psn_no,
        "kind": kind,
        "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str),
        "actor": actor,
        "at_us": at_us,
    }
    if connection.dialect.name == "sqlite":
        raw.execute(connection, _RECORD_EVENT, values)
    else:
        turn = raw.advisory_key(f"person_events:{psn_no}")
        raw.execute(connection, _RECORD_EVENT_IN_TURN, {**values, "turn": turn})


_EVENTS = (
    "SELECT seq, kind, at_us, actor, detail FROM person_events"
    " WHERE psn_no = :psn_no AND seq > :after_seq ORDER BY seq LIMIT :limit"
)


def events_read(psn_no: str, after_seq: int, limit: int) -> raw.Read:
    """The read of :func:`events_of`, to make ahead (``raw.prefetch``)."""
    return _EVENTS, {"psn_no": psn_no, "after_seq": after_seq, "limit": limit}


def events_of(connection: Connection, psn_no: str, after_seq: int, limit: int) -> list[PersonEvent]:
    return [
        PersonEvent(int(seq), kind, int(at_us), actor, json.loads(detail))
        for seq, kind, at_us, actor, detail in raw.fetch(
            connection, *events_read(psn_no, after_seq, limit)
        )
    ]


def latest_events_of(connection: Connection, psn_no: str, limit: int) -> list[PersonEvent]:
    """The person's last ``limit`` events, newest first."""
    columns = person_events.c
    statement = (
        select(columns.seq, columns.kind, columns.at_us, columns.actor, columns.detail)
        .where(columns.psn_no == psn_no)
        .order_by(columns.seq.desc())
        .limit(limit)
    )
    return [
        PersonEvent(int(seq), kind, int(at_us), actor, json.loads(detail))
        for seq, kind, at_us, actor, detail in connection.execute(statement)
    ]
