"""SQL for wallets, relationships, grants and authorizations. No decisions.

``lock=True`` takes PostgreSQL row locks (``FOR UPDATE``); on SQLite the whole write transaction
already holds the database's write lock from ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Unpack

from sqlalchemy import Connection, func, insert, select, update

from gongji.store import raw
from gongji.store.query import all_rows, equal_filters, locked, one, record_columns
from gongji.store.records import (
    AuthorizationRecord,
    GrantRecord,
    RelationshipRecord,
    WalletRecord,
)
from gongji.store.rows import (
    AuthorizationChanges,
    AuthorizationRow,
    GrantChanges,
    GrantRow,
    RelationshipChanges,
    RelationshipRow,
    WalletChanges,
    WalletRow,
)
from gongji.store.tables_people import (
    authorizations,
    grants,
    relationships,
    wallets,
)

_WALLET = f"SELECT {raw.column_list(WalletRecord)} FROM wallets WHERE psn_no = :psn_no"


def wallet_read(psn_no: str) -> raw.Read:
    """The unlocked read of :func:`wallet`, to make ahead (``raw.prefetch``)."""
    return _WALLET, {"psn_no": psn_no}


def wallet(connection: Connection, psn_no: str, *, lock: bool = False) -> WalletRecord | None:
    statement = _WALLET + raw.for_update(connection, lock)
    found = raw.fetch(connection, statement, {"psn_no": psn_no})
    return WalletRecord(*found[0]) if found else None


def lock_wallets(connection: Connection, psn_nos: Sequence[str]) -> None:
    """Lock several wallets in psn_no order: the one order every command uses, so no deadlock."""
    statement, params = _wallets_locked(psn_nos, raw.for_update(connection))
    raw.fetch(connection, statement, params)


def lock_wallets_read(psn_nos: Sequence[str]) -> raw.Read:
    """What :func:`lock_wallets` sends on PostgreSQL, to make ahead (``raw.prefetch``) before
    the reads that must follow the locks."""
    return _wallets_locked(psn_nos, raw.lock_clause(True))


def _wallets_locked(psn_nos: Sequence[str], lock_clause: str) -> raw.Read:
    params: dict[str, object] = {}
    where = raw.in_list("psn_no", sorted(set(psn_nos)), params)
    return f"SELECT psn_no FROM wallets WHERE {where} ORDER BY psn_no{lock_clause}", params


def insert_wallet(connection: Connection, values: WalletRow) -> None:
    connection.execute(insert(wallets), [values])


def update_wallet(connection: Connection, psn_no: str, **values: Unpack[WalletChanges]) -> None:
    connection.execute(update(wallets).where(wallets.c.psn_no == psn_no).values(**values))


_RELATIONSHIP_COLUMNS = record_columns(relationships, RelationshipRecord)


_RELATIONSHIP = f"SELECT {raw.column_list(RelationshipRecord)} FROM relationships"


def relationship(
    connection: Connection, relationship_id: str, *, lock: bool = False
) -> RelationshipRecord | None:
    statement = f"{_RELATIONSHIP} WHERE id = :id{raw.for_update(connection, lock)}"
    found = raw.fetch(connection, statement, {"id": relationship_id})
    return RelationshipRecord(*found[0]) if found else None


def relationship_read(relationship_id: str) -> raw.Read:
    """The unlocked read of :func:`relationship`, to make ahead (``raw.prefetch``)."""
    return f"{_RELATIONSHIP} WHERE id = :id", {"id": relationship_id}


def relationships_of(
    connection: Connection, psn_no: str, statuses: Sequence[str] | None = None
) -> list[RelationshipRecord]:
    found = raw.fetch(connection, *relationships_of_read(psn_no, statuses))
    return [RelationshipRecord(*row) for row in found]


def relationships_of_read(psn_no: str, statuses: Sequence[str] | None = None) -> raw.Read:
    """The read of :func:`relationships_of`, to make ahead (``raw.prefetch``)."""
    params: dict[str, object] = {"psn_no": psn_no}
    where = "(proposer = :psn_no OR relative = :psn_no)"
    if statuses is not None:
        where += f" AND {raw.in_list('status', statuses, params)}"
    return f"{_RELATIONSHIP} WHERE {where} ORDER BY created_at_us", params


def relationship_between(
    connection: Connection, a: str, b: str, statuses: Sequence[str]
) -> RelationshipRecord | None:
    found = raw.fetch(connection, *relationship_between_read(a, b, statuses))
    return RelationshipRecord(*found[0]) if found else None


def relationship_between_read(a: str, b: str, statuses: Sequence[str]) -> raw.Read:
    """The read of :func:`relationship_between`, to make ahead (``raw.prefetch``)."""
    params: dict[str, object] = {"a": a, "b": b}
    pair = "((proposer = :a AND relative = :b) OR (proposer = :b AND relative = :a))"
    statement = f"{_RELATIONSHIP} WHERE {pair} AND {raw.in_list('status', statuses, params)}"
    return f"{statement} ORDER BY created_at_us, id LIMIT 1", params


def relationships_with_status(
    connection: Connection, status: str, limit: int
) -> list[RelationshipRecord]:
    statement = select(*_RELATIONSHIP_COLUMNS).where(relationships.c.status == status)
    return all_rows(
        connection,
        statement.order_by(relationships.c.created_at_us).limit(limit),
        RelationshipRecord,
    )


def insert_relationship(connection: Connection, values: RelationshipRow) -> None:
    connection.execute(insert(relationships), [values])


def update_relationship(
    connection: Connection, relationship_id: str, **values: Unpack[RelationshipChanges]
) -> None:
    connection.execute(
        update(relationships).where(relationships.c.id == relationship_id).values(**values)
    )


_GRANT_COLUMNS = record_columns(grants, GrantRecord)
_GRANT = f"SELECT {raw.column_list(GrantRecord)} FROM grants WHERE id = :id"


def grant(connection: Connection, grant_id: str, *, lock: bool = False) -> GrantRecord | None:
    found = raw.fetch(connection, _GRANT + raw.for_update(connection, lock), {"id": grant_id})
    return GrantRecord(*found[0]) if found else None


def grant_read(grant_id: str, *, lock: bool = False) -> raw.Read:
    """What :func:`grant` sends on PostgreSQL, to make ahead (``raw.prefetch``)."""
    return _GRANT + raw.lock_clause(lock), {"id": grant_id}


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
    statement, params = grants_read(
        contributor=contributor,
        recipient=recipient,
        relationship_id=relationship_id,
        states=states,
        limit=limit,
    )
    statement += raw.for_update(connection, lock)
    return [GrantRecord(*row) for row in raw.fetch(connection, statement, params)]


def grants_read(
    *,
    contributor: str | None = None,
    recipient: str | None = None,
    relationship_id: str | None = None,
    states: Sequence[str] | None = None,
    limit: int = 1000,
) -> raw.Read:
    """The unlocked read of :func:`grants_by` with the same filters (``raw.prefetch``)."""
    where, params = equal_filters(
        contributor=contributor, recipient=recipient, relationship_id=relationship_id
    )
    if states is not None:
        where.append(raw.in_list("state", states, params))
    statement = (
        f"SELECT {raw.column_list(GrantRecord)} FROM grants WHERE {' AND '.join(where) or '1 = 1'}"
        f" ORDER BY offered_at_us, id LIMIT {int(limit)}"
    )
    return statement, params


def offers_on(connection: Connection, contributor: str, business_date: str) -> dict[str, int]:
    """How many grants the contributor offered on the business date, by their state now."""
    return {
        str(state): int(n)
        for state, n in raw.fetch(connection, *offers_on_read(contributor, business_date))
    }


def offers_on_read(contributor: str, business_date: str) -> raw.Read:
    """The read of :func:`offers_on`, to make ahead (``raw.prefetch``)."""
    statement = (
        "SELECT state, count(*) FROM grants"
        " WHERE contributor = :contributor AND business_date = :business_date GROUP BY state"
    )
    return statement, {"contributor": contributor, "business_date": business_date}


def granted_between(connection: Connection, contributor: str, first: str, last: str) -> int:
    """Sum of amounts offered on business dates first..last inclusive, rejected/expired excluded."""
    return int(raw.fetch(connection, *granted_between_read(contributor, first, last))[0][0])


def granted_between_read(contributor: str, first: str, last: str) -> raw.Read:
    """The read of :func:`granted_between`, to make ahead (``raw.prefetch``)."""
    statement = (
        "SELECT coalesce(sum(amount_fen), 0) FROM grants WHERE contributor = :contributor"
        " AND business_date >= :first AND business_date <= :last"
        " AND state NOT IN ('rejected', 'expired')"
    )
    return statement, {"contributor": contributor, "first": first, "last": last}


def due_offers(connection: Connection, now_us: int, limit: int) -> list[GrantRecord]:
    statement = (
        select(*_GRANT_COLUMNS)
        .where(grants.c.state == "offered", grants.c.expires_at_us <= now_us)
        .order_by(grants.c.expires_at_us, grants.c.id)
        .limit(limit)
    )
    return all_rows(connection, locked(connection, statement, True), GrantRecord)


_INSERT_GRANT = raw.insert_statement("grants", raw.field_names(GrantRecord))


def insert_grant(connection: Connection, values: GrantRow) -> None:
    """A new grant, by text: a write that waits with the others when the transaction defers
    them (``uow.defer_writes``)."""
    raw.execute(connection, _INSERT_GRANT, values)


def update_grant(connection: Connection, grant_id: str, **values: Unpack[GrantChanges]) -> None:
    """By text, as :func:`insert_grant`."""
    assignments = ", ".join(f"{column} = :{column}" for column in values)
    statement = f"UPDATE grants SET {assignments} WHERE id = :id"
    raw.execute(connection, statement, {**values, "id": grant_id})


_AUTHORIZATION_COLUMNS = record_columns(authorizations, AuthorizationRecord)


def authorization(
    connection: Connection, authorization_id: str, *, lock: bool = False
) -> AuthorizationRecord | None:
    statement = select(*_AUTHORIZATION_COLUMNS).where(authorizations.c.id == authorization_id)
    return one(connection, locked(connection, statement, lock), AuthorizationRecord)


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
    statement, params = _authorizations_select(
        raw.for_update(connection, lock),
        contributor=contributor,
        recipient=recipient,
        relationship_id=relationship_id,
        status=status,
    )
    return [AuthorizationRecord(*row) for row in raw.fetch(connection, statement, params)]


def authorizations_read(*, recipient: str, status: str, lock: bool) -> raw.Read:
    """What :func:`authorizations_by` sends on PostgreSQL for these filters, to make ahead
    (``raw.prefetch``, which only PostgreSQL makes: hence its row lock as PostgreSQL writes it)."""
    return _authorizations_select(raw.lock_clause(lock), recipient=recipient, status=status)


def _authorizations_select(lock_clause: str, **equal_to: str | None) -> raw.Read:
    where, params = equal_filters(**equal_to)
    statement = (
        f"SELECT {raw.column_list(AuthorizationRecord)} FROM authorizations"
        f" WHERE {' AND '.join(where) or '1 = 1'}"
        f" ORDER BY binding_seq, id{lock_clause}"
    )
    return statement, params


def authorizations_of(connection: Connection, psn_no: str) -> list[AuthorizationRecord]:
    found = raw.fetch(connection, *authorizations_of_read(psn_no))
    return [AuthorizationRecord(*row) for row in found]


def authorizations_of_read(psn_no: str) -> raw.Read:
    """The read of :func:`authorizations_of`, to make ahead (``raw.prefetch``)."""
    statement = (
        f"SELECT {raw.column_list(AuthorizationRecord)} FROM authorizations"
        " WHERE contributor = :psn_no OR recipient = :psn_no ORDER BY binding_seq, id"
    )
    return statement, {"psn_no": psn_no}


def next_binding_seq(connection: Connection, recipient: str) -> int:
    statement = select(func.coalesce(func.max(authorizations.c.binding_seq), 0)).where(
        authorizations.c.recipient == recipient
    )
    return int(connection.execute(statement).scalar_one()) + 1


def insert_authorization(connection: Connection, values: AuthorizationRow) -> None:
    connection.execute(insert(authorizations), [values])


def update_authorization(
    connection: Connection, authorization_id: str, **values: Unpack[AuthorizationChanges]
) -> None:
    connection.execute(
        update(authorizations).where(authorizations.c.id == authorization_id).values(**values)
    )
