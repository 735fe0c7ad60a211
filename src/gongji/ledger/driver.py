"""The ledger's hot statements, sent straight through the DB-API cursor of the unit of work.

Why not SQLAlchemy Core here: on the 2-core bench machine a Core statement costs about 150 µs
of Python (cache key, parameter processing, result proxy, events) against about 10 µs for the
driver itself, and a single transfer runs four of them; that overhead, not the database, was
most of a transfer's cost. The SQL is fixed text per dialect (SQLite ``?`` with one
placeholder per id; PostgreSQL ``= ANY(array)`` and ``unnest`` so that one statement, prepared
once by psycopg, serves any batch size). Errors come back as SQLAlchemy's, as through Core
(see :mod:`gongji.store.raw`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection

from gongji.store.raw import run, run_many, wrapped

IN_CLAUSE_CHUNK = 500  # stays under SQLite's bound-parameter limit and keeps plans cheap

ACCOUNT_COLUMNS = (
    "id, ledger, code, region, flags, debits_pending, debits_posted, credits_pending,"
    " credits_posted, ref, timestamp_us"
)
TRANSFER_COLUMNS = (
    "id, debit_account_id, credit_account_id, amount, pending_id, ledger, code, flags,"
    " expires_at_us, ref, timestamp_us"
)
BALANCE_COLUMNS = (
    "id, ledger, flags, debits_pending, debits_posted, credits_pending, credits_posted"
)

_PG_SELECT_ACCOUNTS = (
    f"SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE id = ANY(%s::text[]) ORDER BY id"
)
_PG_SELECT_BALANCES = (
    f"SELECT {BALANCE_COLUMNS} FROM ledger_accounts WHERE id = ANY(%s::text[]) ORDER BY id"
)
_PG_SELECT_TRANSFERS = f"SELECT {TRANSFER_COLUMNS} FROM ledger_transfers WHERE id = ANY(%s::text[])"
_PG_SELECT_RESOLUTIONS = (
    "SELECT pending_id, outcome FROM ledger_pending_resolutions WHERE pending_id = ANY(%s::text[])"
)
# Data-modifying CTEs: all three writes in one statement. WITH ORDINALITY ... ORDER BY makes
# ``seq`` (the history order) follow the batch's order.
_PG_WRITE_BATCH = (
    "WITH new_transfers AS ("
    f" INSERT INTO ledger_transfers ({TRANSFER_COLUMNS})"
    " SELECT v.id, v.debit, v.credit, v.amount, v.pending_id, v.ledger, v.code, v.flags,"
    " v.expires_at_us, v.ref, v.timestamp_us"
    " FROM unnest(%s::text[], %s::text[], %s::text[], %s::bigint[], %s::text[], %s::int[],"
    " %s::int[], %s::int[], %s::bigint[], %s::text[], %s::bigint[]) WITH ORDINALITY"
    " AS v(id, debit, credit, amount, pending_id, ledger, code, flags, expires_at_us, ref,"
    " timestamp_us, n) ORDER BY v.n"
    "), new_resolutions AS ("
    " INSERT INTO ledger_pending_resolutions (pending_id, outcome, transfer_id, timestamp_us)"
    " SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::bigint[])"
    ")"
    " UPDATE ledger_accounts AS a SET debits_pending = v.dp, debits_posted = v.dpo,"
    " credits_pending = v.cp, credits_posted = v.cpo"
    " FROM unnest(%s::text[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[])"
    " AS v(id, dp, dpo, cp, cpo) WHERE a.id = v.id"
)

_SQLITE_INSERT_TRANSFERS = (
    f"INSERT INTO ledger_transfers ({TRANSFER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_SQLITE_UPDATE_BALANCES = (
    "UPDATE ledger_accounts SET debits_pending = ?, debits_posted = ?, credits_pending = ?,"
    " credits_posted = ? WHERE id = ?"
)
_SQLITE_INSERT_RESOLUTIONS = (
    "INSERT INTO ledger_pending_resolutions (pending_id, outcome, transfer_id, timestamp_us)"
    " VALUES (?, ?, ?, ?)"
)


@lru_cache(maxsize=64)
def _sqlite_select(columns: str, table: str, key: str, count: int, ordered: bool) -> str:
    marks = ", ".join("?" * count)
    order = f" ORDER BY {key}" if ordered else ""
    return f"SELECT {columns} FROM {table} WHERE {key} IN ({marks}){order}"


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    ordered = sorted(values)
    for start in range(0, len(ordered), IN_CLAUSE_CHUNK):
        yield ordered[start : start + IN_CLAUSE_CHUNK]


def is_sqlite_connection(connection: Connection) -> bool:
    return connection.dialect.name == "sqlite"


def _select_by_key(
    connection: Connection, kind: str, ids: Iterable[str]
) -> Iterator[tuple[Any, ...]]:
    """Rows whose key is in ``ids``, asked for in sorted chunks (accounts: in id order)."""
    columns, table, key, pg_statement = _SELECTS[kind]
    ordered = table == "ledger_accounts"
    sqlite = is_sqlite_connection(connection)
    for chunk in _chunks(ids):
        if sqlite:
            statement = _sqlite_select(columns, table, key, len(chunk), ordered)
            yield from run(connection, statement, chunk)
        else:
            yield from run(connection, pg_statement, (chunk,))


_SELECTS = {
    "accounts": (ACCOUNT_COLUMNS, "ledger_accounts", "id", _PG_SELECT_ACCOUNTS),
    "accounts_locked": (
        ACCOUNT_COLUMNS,
        "ledger_accounts",
        "id",
        _PG_SELECT_ACCOUNTS + " FOR UPDATE",
    ),
    "balances": (BALANCE_COLUMNS, "ledger_accounts", "id", _PG_SELECT_BALANCES),
    "balances_locked": (
        BALANCE_COLUMNS,
        "ledger_accounts",
        "id",
        _PG_SELECT_BALANCES + " FOR UPDATE",
    ),
    "transfers": (TRANSFER_COLUMNS, "ledger_transfers", "id", _PG_SELECT_TRANSFERS),
    "resolutions": (
        "pending_id, outcome",
        "ledger_pending_resolutions",
        "pending_id",
        _PG_SELECT_RESOLUTIONS,
    ),
}


def select_accounts(
    connection: Connection, ids: Iterable[str], *, lock: bool, balances_only: bool = False
) -> Iterator[tuple[Any, ...]]:
    """Account rows in id order; on PostgreSQL ``lock`` takes their row locks in that order
    (SQLite holds the database's write lock since ``BEGIN IMMEDIATE``)."""
    kind = "balances" if balances_only else "accounts"
    return _select_by_key(connection, f"{kind}_locked" if lock else kind, ids)


def select_transfers_and_lock_balances(
    connection: Connection, transfer_ids: Iterable[str], account_ids: Iterable[str]
) -> tuple[Sequence[Any], Sequence[Any]]:
    """Both reads of a batch whose accounts are known without reading its transfers (it
    resolves no pending transfer): transfer rows, and balance rows locked in id order.

    PostgreSQL sends them pipelined, with the transaction's BEGIN: one round trip, not three.
    """
    transfer_ids, account_ids = sorted(transfer_ids), sorted(account_ids)
    small = max(len(transfer_ids), len(account_ids)) <= IN_CLAUSE_CHUNK
    if is_sqlite_connection(connection) or not small:
        return (
            list(select_transfers(connection, transfer_ids)),
            list(select_accounts(connection, account_ids, lock=True, balances_only=True)),
        )
    dbapi_connection = connection.connection.dbapi_connection
    lock_balances = _SELECTS["balances_locked"][3]
    try:
        with dbapi_connection.pipeline():  # type: ignore[union-attr]
            transfers = dbapi_connection.cursor()  # type: ignore[union-attr]
            transfers.execute(_PG_SELECT_TRANSFERS, (transfer_ids,))
            balances = dbapi_connection.cursor()  # type: ignore[union-attr]
            balances.execute(lock_balances, (account_ids,))
            return transfers.fetchall(), balances.fetchall()
    except connection.dialect.loaded_dbapi.Error as error:
        raise wrapped(connection, lock_balances, error) from error


def select_transfers(connection: Connection, ids: Iterable[str]) -> Iterator[tuple[Any, ...]]:
    return _select_by_key(connection, "transfers", ids)


def select_resolutions(
    connection: Connection, pending_ids: Iterable[str]
) -> Iterator[tuple[Any, ...]]:
    return _select_by_key(connection, "resolutions", pending_ids)


def _columns(values: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows to one array per column, for ``unnest``; ``width`` empty arrays when no rows."""
    if not values:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*values, strict=True)]


def write_batch(
    connection: Connection,
    transfers: list[tuple[Any, ...]],
    resolutions: list[tuple[Any, ...]],
    balances: list[tuple[str, int, int, int, int]],
) -> None:
    """A batch's writes: new transfers (``TRANSFER_COLUMNS`` order, inserted in list order),
    resolutions (pending_id, outcome, transfer_id, timestamp_us) and final balances (id,
    debits_pending, debits_posted, credits_pending, credits_posted).

    PostgreSQL gets them as one statement (one round trip); SQLite as one ``executemany``
    each, which costs no round trip.
    """
    if not (transfers or resolutions or balances):
        return
    if not is_sqlite_connection(connection):
        params = [
            *_columns(transfers, 11),
            *_columns(resolutions, 4),
            *_columns(balances, 5),
        ]
        run(connection, _PG_WRITE_BATCH, params)
        return
    if transfers:
        run_many(connection, _SQLITE_INSERT_TRANSFERS, transfers)
    if resolutions:
        run_many(connection, _SQLITE_INSERT_RESOLUTIONS, resolutions)
    if balances:
        run_many(connection, _SQLITE_UPDATE_BALANCES, [(*v[1:], v[0]) for v in balances])
