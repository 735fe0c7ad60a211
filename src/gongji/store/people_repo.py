"""SQL for persons, enrolments, wallets, relationships, grants and authorizations. No decisions.

``lock=True`` takes PostgreSQL row locks (``FOR UPDATE``); on SQLite the whole write transaction
already holds the database's write lock from ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import fields
from typing import Any, TypeVar

from sqlalchemy import Connection, Select, Table, and_, func, insert, or_, select, update

from gongji.store import raw
from gongji.store.engine import is_sqlite
from gongji.store.records import (
    AuthorizationRecord,
    EnrolmentRecord,
    GrantRecord,
    PersonRecord,
    RelationshipRecord,
    WalletRecord,
)
from gongji.store.tables_people import (
    authorizations,
    enrolments,
    grants,
    inheritance_payouts,
    kinship_records,
    person_events,
    persons,
    relationships,
    wallets,
)

R = TypeVar("R")


def _columns(table: Table, record: type[Any]) -> list[Any]:
    """The columns a record type reads, by its field names."""
    return [table.c[item.name] for item in fields(record)]


def _locked(connection: Connection, statement: Select[Any], lock: bool) -> Select[Any]:
    if lock and not is_sqlite(connection.engine):
        return statement.with_for_update()
    return statement


def _filters(**equal_to: str | None) -> tuple[list[str], dict[str, Any]]:
    """``column = :column`` for every given value (a column's name is its parameter's)."""
    given = {column: value for column, value in equal_to.items() if value is not None}
    return [f"{column} = :{column}" for column in given], dict(given)


def _one(connection: Connection, statement: Select[Any], record: type[R]) -> R | None:
    row = connection.execute(statement).mappings().first()
    return None if row is None else record(**dict(row))


def _all(connection: Connection, statement: Select[Any], record: type[R]) -> list[R]:
    return [record(**dict(row)) for row in connection.execute(statement).mappings()]


_PERSON_COLUMNS = _columns(persons, PersonRecord)


# --- persons -------------------------------------------------------------------------------


_PERSON = f"SELECT {raw.column_list(PersonRecord)} FROM persons WHERE psn_no = :psn_no"


def person(connection: Connection, psn_no: str) -> PersonRecord | None:
    found = raw.fetch(connection, _PERSON, {"psn_no": psn_no})
    return PersonRecord(*found[0]) if found else None


def person_by_id_hash(connection: Connection, id_hash: str) -> PersonRecord | None:
    statement = select(*_PERSON_COLUMNS).where(persons.c.id_hash == id_hash)
    return _one(connection, statement, PersonRecord)


def persons_by_mobile_hash(connection: Connection, mobile_hash: str) -> list[PersonRecord]:
    statement = select(*_PERSON_COLUMNS).where(persons.c.mobile_hash == mobile_hash)
    return _all(connection, statement.order_by(persons.c.psn_no), PersonRecord)


def persons_by_no(connection: Connection, psn_nos: Iterable[str]) -> dict[str, PersonRecord]:
    statement = select(*_PERSON_COLUMNS).where(persons.c.psn_no.in_(sorted(set(psn_nos))))
    return {p.psn_no: p for p in _all(connection, statement, PersonRecord)}


def insert_person(connection: Connection, values: dict[str, Any]) -> None:
    connection.execute(insert(persons), [values])


def set_death_date(connection: Connection, psn_no: str, death_date: str) -> None:
    connection.execute(
        update(persons).where(persons.c.psn_no == psn_no).values(death_date=death_date)
    )


# --- enrolments ----------------------------------------------------------------------------

_ENROLMENT_COLUMNS = _columns(enrolments, EnrolmentRecord)


_ENROLMENTS_OF = (
    f"SELECT {raw.column_list(EnrolmentRecord)} FROM enrolments WHERE psn_no = :psn_no"
    " ORDER BY start_date DESC, id DESC"
)


def enrolments_of(connection: Connection, psn_no: str) -> list[EnrolmentRecord]:
    return [
        EnrolmentRecord(*row) for row in raw.fetch(connection, _ENROLMENTS_OF, {"psn_no": psn_no})
    ]


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
    return _one(connection, statement, EnrolmentRecord)


def insert_enrolment(connection: Connection, values: dict[str, Any]) -> None:
    connection.execute(insert(enrolments), [values])


def update_enrolment(connection: Connection, enrolment_id: int, **values: Any) -> None:
    connection.execute(update(enrolments).where(enrolments.c.id == enrolment_id).values(**values))


# --- wallets -------------------------------------------------------------------------------


_WALLET = f"SELECT {raw.column_list(WalletRecord)} FROM wallets WHERE psn_no = :psn_no"


def wallet(connection: Connection, psn_no: str, *, lock: bool = False) -> WalletRecord | None:
    statement = _WALLET + raw.for_update(connection, lock)
    found = raw.fetch(connection, statement, {"psn_no": psn_no})
    return WalletRecord(*found[0]) if found else None


def lock_wallets(connection: Connection, psn_nos: Sequence[str]) -> None:
    """Lock several wallets in psn_no order: the one order every command uses, so no deadlock."""
    statement = select(wallets.c.psn_no).where(wallets.c.psn_no.in_(sorted(set(psn_nos))))
    connection.execute(_locked(connection, statement.order_by(wallets.c.psn_no), True)).all()


def insert_wallet(connection: Connection, values: dict[str, Any]) -> None:
    connection.execute(insert(wallets), [values])


def update_wallet(connection: Connection, psn_no: str, **values: Any) -> None:
    connection.execute(update(wallets).where(wallets.c.psn_no == psn_no).values(**values))


# --- relationships -------------------------------------------------------------------------

_RELATIONSHIP_COLUMNS = _columns(relationships, RelationshipRecord)


def relationship(
    connection: Connection, relationship_id: str, *, lock: bool = False
) -> RelationshipRecord | None:
    statement = select(*_RELATIONSHIP_COLUMNS).where(relationships.c.id == relationship_id)
    return _one(connection, _locked(connection, statement, lock), RelationshipRecord)


def relationships_of(
    connection: Connection, psn_no: str, statuses: Sequence[str] | None = None
) -> list[RelationshipRecord]:
    involves = or_(relationships.c.proposer == psn_no, relationships.c.relative == psn_no)
    statement = select(*_RELATIONSHIP_COLUMNS).where(involves)
    if statuses is not None:
        statement = statement.where(relationships.c.status.in_(statuses))
    return _all(connection, statement.order_by(relationships.c.created_at_us), RelationshipRecord)


def relationship_between(
    connection: Connection, a: str, b: str, statuses: Sequence[str]
) -> RelationshipRecord | None:
    pair = or_(
        and_(relationships.c.proposer == a, relationships.c.relative == b),
        and_(relationships.c.proposer == b, relationships.c.relative == a),
    )
    statement = select(*_RELATIONSHIP_COLUMNS).where(pair, relationships.c.status.in_(statuses))
    return _one(connection, statement, RelationshipRecord)


def relationships_with_status(
    connection: Connection, status: str, limit: int
) -> list[RelationshipRecord]:
    statement = select(*_RELATIONSHIP_COLUMNS).where(relationships.c.status == status)
    return _all(
        connection,
        statement.order_by(relationships.c.created_at_us).limit(limit),
        RelationshipRecord,
    )


def insert_relationship(connection: Connection, values: dict[str, Any]) -> None:
    connection.execute(insert(relationships), [values])


def update_relationship(connection: Connection, relationship_id: str, **values: Any) -> None:
    connection.execute(
        update(relationships).where(relationships.c.id == relationship_id).values(**values)
    )


def kinship_recorded(
    connection: Connection, person_hash: str, relative_hash: str, kind: str
) -> bool:
    statement = select(kinship_records.c.id).where(
        kinship_records.c.person_hash == person_hash,
        kinship_records.c.relative_hash == relative_hash,
        kinship_records.c.kind == kind,
    )
    return connection.execute(statement.limit(1)).first() is not None


def insert_kinship_record(connection: Connection, values: dict[str, Any]) -> bool:
    """False when the same record is already there (imports are idempotent)."""
    if kinship_recorded(connection, values["person_hash"], values["relative_hash"], values["kind"]):
        return False
    connection.execute(insert(kinship_records), [values])
    return True


# --- grants --------------------------------------------------------------------------------

_GRANT_COLUMNS = _columns(grants, GrantRecord)


def grant(connection: Connection, grant_id: str, *, lock: bool = False) -> GrantRecord | None:
    statement = select(*_GRANT_COLUMNS).where(grants.c.id == grant_id)
    return _one(connection, _locked(connection, statement, lock), GrantRecord)


def grants_by(
    connection: Connection,
    *,
    contributor: str | None = None,
    recipient: str | None = None,
    relationship_id: str | None = None,
    states: Sequence[str] | None = None,
    lock: bool = False,
    limit: int = 1000,
) -> list[GrantRecord]:
    """Grants matching every given filter, oldest offer first (the order shared money is used)."""
    where, params = _filters(
        contributor=contributor, recipient=recipient, relationship_id=relationship_id
    )
    if states is not None:
        where.append(raw.in_list("state", states, params))
    statement = (
        f"SELECT {raw.column_list(GrantRecord)} FROM grants WHERE {' AND '.join(where) or '1 = 1'}"
        f" ORDER BY offered_at_us, id LIMIT {int(limit)}{raw.for_update(connection, lock)}"
    )
    return [GrantRecord(*row) for row in raw.fetch(connection, statement, params)]


def count_offers_on(
    connection: Connection, contributor: str, business_date: str, states: Sequence[str] | None
) -> int:
    statement = select(func.count()).where(
        grants.c.contributor == contributor, grants.c.business_date == business_date
    )
    if states is not None:
        statement = statement.where(grants.c.state.in_(states))
    return int(connection.execute(statement).scalar_one())


def granted_between(connection: Connection, contributor: str, first: str, last: str) -> int:
    """Sum of amounts offered on business dates first..last inclusive, rejected/expired excluded."""
    statement = select(func.coalesce(func.sum(grants.c.amount_fen), 0)).where(
        grants.c.contributor == contributor,
        grants.c.business_date >= first,
        grants.c.business_date <= last,
        grants.c.state.not_in(("rejected", "expired")),
    )
    return int(connection.execute(statement).scalar_one())


def due_offers(connection: Connection, now_us: int, limit: int) -> list[GrantRecord]:
    statement = (
        select(*_GRANT_COLUMNS)
        .where(grants.c.state == "offered", grants.c.expires_at_us <= now_us)
        .order_by(grants.c.expires_at_us, grants.c.id)
        .limit(limit)
    )
    return _all(connection, _locked(connection, statement, True), GrantRecord)


def insert_grant(connection: Connection, values: dict[str, Any]) -> None:
    connection.execute(insert(grants), [values])


def update_grant(connection: Connection, grant_id: str, **values: Any) -> None:
    connection.execute(update(grants).where(grants.c.id == grant_id).values(**values))


# --- authorizations ------------------------------------------------------------------------

_AUTHORIZATION_COLUMNS = _columns(authorizations, AuthorizationRecord)


def authorization(
    connection: Connection, authorization_id: str, *, lock: bool = False
) -> AuthorizationRecord | None:
    statement = select(*_AUTHORIZATION_COLUMNS).where(authorizations.c.id == authorization_id)
    return _one(connection, _locked(connection, statement, lock), AuthorizationRecord)


def authorizations_by(
    connection: Connection,
    *,
    contributor: str | None = None,
    recipient: str | None = None,
    relationship_id: str | None = None,
    status: str | None = None,
    lock: bool = False,
) -> list[AuthorizationRecord]:
    """Matching authorizations in binding order (the order settlement draws them)."""
    where, params = _filters(
        contributor=contributor, recipient=recipient, relationship_id=relationship_id, status=status
    )
    statement = (
        f"SELECT {raw.column_list(AuthorizationRecord)} FROM authorizations"
        f" WHERE {' AND '.join(where) or '1 = 1'}"
        f" ORDER BY binding_seq, id{raw.for_update(connection, lock)}"
    )
    return [AuthorizationRecord(*row) for row in raw.fetch(connection, statement, params)]


def authorizations_of(connection: Connection, psn_no: str) -> list[AuthorizationRecord]:
    involves = or_(authorizations.c.contributor == psn_no, authorizations.c.recipient == psn_no)
    statement = select(*_AUTHORIZATION_COLUMNS).where(involves)
    statement = statement.order_by(authorizations.c.binding_seq, authorizations.c.id)
    return _all(connection, statement, AuthorizationRecord)


def next_binding_seq(connection: Connection, recipient: str) -> int:
    statement = select(func.coalesce(func.max(authorizations.c.binding_seq), 0)).where(
        authorizations.c.recipient == recipient
    )
    return int(connection.execute(statement).scalar_one()) + 1


def insert_authorization(connection: Connection, values: dict[str, Any]) -> None:
    connection.execute(insert(authorizations), [values])


def update_authorization(connection: Connection, authorization_id: str, **values: Any) -> None:
    connection.execute(
        update(authorizations).where(authorizations.c.id == authorization_id).values(**values)
    )


# --- inheritance ---------------------------------------------------------------------------


def inheritance_paid(connection: Connection, psn_no: str) -> bool:
    statement = select(inheritance_payouts.c.psn_no).where(inheritance_payouts.c.psn_no == psn_no)
    return connection.execute(statement).first() is not None


def insert_inheritance(connection: Connection, values: dict[str, Any]) -> None:
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


def events_of(
    connection: Connection, psn_no: str, after_seq: int, limit: int
) -> list[dict[str, Any]]:
    statement = (
        select(person_events)
        .where(person_events.c.psn_no == psn_no, person_events.c.seq > after_seq)
        .order_by(person_events.c.seq)
        .limit(limit)
    )
    return [dict(row) for row in connection.execute(statement).mappings()]
