"""The ledger's hot statements, sent straight through the DB-API cursor of the unit of work.

Why not SQLAlchemy Core here: on the 2-core bench machine a Core statement costs about 150 µs
of Python (cache key, parameter processing, result proxy, events) against about 10 µs for the
driver itself, and a single transfer runs four of them; that overhead, not the database, was
most of a transfer's cost. The SQL is fixed text per dialect and shape: SQLite ``?`` with
one placeholder per value; PostgreSQL scalar lists for small batches, and beyond them
``= ANY(array)`` and ``unnest``, so that one statement, prepared once by psycopg, serves any
large batch. Transfers name their accounts by row number (``num``) in the database and by id
everywhere else; the statements translate. Errors come back as SQLAlchemy's, as through Core
(see :mod:`gongji.store.raw`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from gongji.store.raw import DriverRead, Executor, query, query_read, query_together, run, run_many

IN_CLAUSE_CHUNK = 500  # stays under SQLite's bound-parameter limit and keeps plans cheap
PG_SCALAR_ROWS_MAX = 16
"""Up to this many rows a PostgreSQL statement takes scalar parameters (``IN`` and ``VALUES``
lists, one prepared statement per shape); beyond it, arrays. psycopg's list dumper inspects
every array's elements in Python, about 25 µs an array, and a written batch sends twenty:
for a single transfer, arrays would be a third of the client's time."""

ACCOUNT_COLUMNS = (
    "id, ledger, code, region, flags, debits_pending, debits_posted, credits_pending,"
    " credits_posted, ref, timestamp_us"
)
TRANSFER_COLUMNS = (
    "t.id, d.id, c.id, t.amount, t.pending_id, t.ledger, t.code, t.flags, t.expires_at_us,"
    " t.ref, t.timestamp_us"
)
"""A transfer as read: its accounts by id, through their numbers (see ``_TRANSFERS``)."""
TRANSFER_INSERT_COLUMNS = (
    "id, debit_num, credit_num, amount, pending_id, ledger, code, flags, expires_at_us, ref,"
    " timestamp_us"
)
"""A transfer as written: its accounts by number."""
BALANCE_COLUMNS = (
    "id, ledger, flags, debits_pending, debits_posted, credits_pending, credits_posted, num"
)
_TRANSFERS = (
    "ledger_transfers AS t JOIN ledger_accounts AS d ON d.num = t.debit_num"
    " JOIN ledger_accounts AS c ON c.num = t.credit_num"
)

# Data-modifying CTEs: all three writes in one statement. WITH ORDINALITY ... ORDER BY makes
# ``seq`` (the history order) follow the batch's order. (Small batches: _pg_small_write.)
_PG_WRITE_BATCH = (
    "WITH new_transfers AS ("
    f" INSERT INTO ledger_transfers ({TRANSFER_INSERT_COLUMNS})"
    " SELECT v.id, v.debit, v.credit, v.amount, v.pending_id, v.ledger, v.code, v.flags,"
    " v.expires_at_us, v.ref, v.timestamp_us"
    " FROM unnest(%s::text[], %s::bigint[], %s::bigint[], %s::bigint[], %s::text[], %s::int[],"
    " %s::int[], %s::int[], %s::bigint[], %s::text[], %s::bigint[]) WITH ORDINALITY"
    " AS v(id, debit, credit, amount, pending_id, ledger, code, flags, expires_at_us, ref,"
    " timestamp_us, n) ORDER BY v.n"
    "), new_resolutions AS ("
    " INSERT INTO ledger_pending_resolutions (pending_id, outcome, transfer_id, timestamp_us)"
    " SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::bigint[])"
    ")"
    " UPDATE ledger_accounts AS a SET debits_pending = v.dp, debits_posted = v.dpo,"
    " credits_pending = v.cp, credits_posted = v.cpo"
    " FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[])"
    " AS v(num, dp, dpo, cp, cpo) WHERE a.num = v.num"
)

_SQLITE_INSERT_TRANSFERS = (
    f"INSERT INTO ledger_transfers ({TRANSFER_INSERT_COLUMNS})"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_SQLITE_UPDATE_BALANCES = (  # numbered: the rows come as (num, balances...), unreordered
    "UPDATE ledger_accounts SET debits_pending = ?2, debits_posted = ?3, credits_pending = ?4,"
    " credits_posted = ?5 WHERE num = ?1"
)
_SQLITE_INSERT_RESOLUTIONS = (
    "INSERT INTO ledger_pending_resolutions (pending_id, outcome, transfer_id, timestamp_us)"
    " VALUES (?, ?, ?, ?)"
)


@dataclass(frozen=True, slots=True)
class _Select:
    """One kind of keyed read: which columns of which table, by which key."""

    columns: str
    source: str
    key: str
    ordered: bool = False  # accounts come back in id order: the order their locks are taken
    lock: bool = False


_SELECTS = {
    "accounts": _Select(ACCOUNT_COLUMNS, "ledger_accounts", "id", ordered=True),
    "accounts_locked": _Select(ACCOUNT_COLUMNS, "ledger_accounts", "id", ordered=True, lock=True),
    "balances": _Select(BALANCE_COLUMNS, "ledger_accounts", "id", ordered=True),
    "balances_locked": _Select(BALANCE_COLUMNS, "ledger_accounts", "id", ordered=True, lock=True),
    "transfers": _Select(TRANSFER_COLUMNS, _TRANSFERS, "t.id"),
    # Known ids (see select_known_ids): transfers marked 0, failed ids marked 1, with their
    # refusal where a transfer has its ref.
    "known_transfers": _Select(f"0, {TRANSFER_COLUMNS}", _TRANSFERS, "t.id"),
    "known_failures": _Select(
        "1, id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, result, NULL",
        "ledger_failed_transfers",
        "id",
    ),
    "resolutions": _Select("pending_id, outcome", "ledger_pending_resolutions", "pending_id"),
}


@lru_cache(maxsize=256)
def _select_statement(kind: str, count: int, sqlite: bool) -> str:
    """``count`` placeholders for SQLite and for a small PostgreSQL read; for a larger one,
    ``= ANY(array)``, which serves any size with one prepared statement."""
    select = _SELECTS[kind]
    if sqlite or count <= PG_SCALAR_ROWS_MAX:
        mark = "?" if sqlite else "%s"
        where = f"{select.key} IN ({', '.join([mark] * count)})"
    else:
        where = f"{select.key} = ANY(%s::text[])"
    order = f" ORDER BY {select.key}" if select.ordered else ""
    lock = " FOR UPDATE" if select.lock and not sqlite else ""
    return f"SELECT {select.columns} FROM {select.source} WHERE {where}{order}{lock}"


def _select_params(chunk: list[str], sqlite: bool) -> Sequence[Any]:
    return chunk if sqlite or len(chunk) <= PG_SCALAR_ROWS_MAX else (chunk,)


@lru_cache(maxsize=256)
def _known_statement(count: int, sqlite: bool) -> str:
    """Transfers and failed ids by id in one statement: what a batch must know of its ids."""
    return (
        f"{_select_statement('known_transfers', count, sqlite)}"
        f" UNION ALL {_select_statement('known_failures', count, sqlite)}"
    )


def _known_params(chunk: list[str], sqlite: bool) -> Sequence[Any]:
    params = _select_params(chunk, sqlite)
    return [*params, *params]


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    ordered = sorted(values)
    for start in range(0, len(ordered), IN_CLAUSE_CHUNK):
        yield ordered[start : start + IN_CLAUSE_CHUNK]


def is_sqlite_connection(connection: Executor) -> bool:
    return connection.dialect.name == "sqlite"


def _select_by_key(
    connection: Executor, kind: str, ids: Iterable[str]
) -> Iterator[tuple[Any, ...]]:
    """Rows whose key is in ``ids``, asked for in sorted chunks (accounts: in id order)."""
    sqlite = is_sqlite_connection(connection)
    for chunk in _chunks(ids):
        statement = _select_statement(kind, len(chunk), sqlite)
        yield from query_read(connection, statement, _select_params(chunk, sqlite))


def select_accounts_reads(ids: Iterable[str], *, lock: bool, sqlite: bool) -> list[DriverRead]:
    """The statements :func:`select_accounts` (not ``balances_only``) sends for ``ids``: to be
    read ahead (``uow.prefetch``) with a transaction's other reads."""
    return select_reads("accounts_locked" if lock else "accounts", ids, sqlite=sqlite)


def select_accounts(
    connection: Executor, ids: Iterable[str], *, lock: bool, balances_only: bool = False
) -> Iterator[tuple[Any, ...]]:
    """Account rows in id order; on PostgreSQL ``lock`` takes their row locks in that order
    (SQLite holds the database's write lock since ``BEGIN IMMEDIATE``)."""
    kind = "balances" if balances_only else "accounts"
    return _select_by_key(connection, f"{kind}_locked" if lock else kind, ids)


@lru_cache(maxsize=256)
def _balances_and_failures_statement(accounts: int, transfers: int, sqlite: bool) -> str:
    """Balance rows locked in id order, each ending with how many of the transfer ids were
    refused before: an uncorrelated subquery, evaluated once."""
    locked = _select_statement("balances_locked", accounts, sqlite)
    failed = _select_statement("known_failures", transfers, sqlite).split(" WHERE ", 1)[1]
    counted = f", (SELECT count(*) FROM ledger_failed_transfers WHERE {failed}) FROM "
    return locked.replace(" FROM ", counted, 1)


def lock_balances_counting_failures(
    connection: Executor, account_ids: Iterable[str], transfer_ids: Iterable[str]
) -> tuple[list[tuple[Any, ...]], int]:
    """Balance rows locked in id order (as :func:`select_accounts`), and how many of
    ``transfer_ids`` were refused before: a batch of ids assumed new learns that it must be
    decided knowing them, at no cost but an index probe in the statement it sends anyway.

    Counted with the first chunk of accounts; 0 when no account is found (every event of such
    a batch is refused, so it is decided again anyway)."""
    sqlite = is_sqlite_connection(connection)
    chunks = list(_chunks(account_ids))
    transfers = sorted(transfer_ids)
    if not chunks or not transfers:
        return list(select_accounts(connection, account_ids, lock=True, balances_only=True)), 0
    first = list(query_read(connection, *_balances_and_failures_read(chunks[0], transfers, sqlite)))
    rows = [row[:-1] for row in first]
    for chunk in chunks[1:]:
        locked = _select_statement("balances_locked", len(chunk), sqlite)
        rows += query(connection, locked, _select_params(chunk, sqlite))
    return rows, int(first[0][-1]) if first else 0


def balances_and_failures_reads(
    account_ids: Iterable[str], transfer_ids: Iterable[str], *, sqlite: bool
) -> list[DriverRead]:
    """The statement :func:`lock_balances_counting_failures` sends first, to be read ahead
    (``uow.prefetch``) with a transaction's other reads; none when it would send another."""
    chunks = list(_chunks(account_ids))
    transfers = sorted(transfer_ids)
    if not chunks or not transfers:
        return []
    return [_balances_and_failures_read(chunks[0], transfers, sqlite)]


def _balances_and_failures_read(
    accounts: list[str], transfers: list[str], sqlite: bool
) -> DriverRead:
    statement = _balances_and_failures_statement(len(accounts), len(transfers), sqlite)
    return statement, [*_select_params(transfers, sqlite), *_select_params(accounts, sqlite)]


def select_transfers_and_lock_balances(
    connection: Executor, transfer_ids: Iterable[str], account_ids: Iterable[str]
) -> tuple[Sequence[Any], Sequence[Any]]:
    """Both reads of a batch whose accounts are known without reading its transfers (it
    resolves no pending transfer): transfer rows, and balance rows locked in id order.

    The transfer rows are :func:`select_known_ids`'. PostgreSQL sends both reads pipelined,
    with the transaction's BEGIN: one round trip, not three.
    """
    transfer_ids, account_ids = sorted(transfer_ids), sorted(account_ids)
    small = max(len(transfer_ids), len(account_ids)) <= IN_CLAUSE_CHUNK
    if is_sqlite_connection(connection) or not small or not transfer_ids or not account_ids:
        return (
            list(select_known_ids(connection, transfer_ids)),
            list(select_accounts(connection, account_ids, lock=True, balances_only=True)),
        )
    lock_balances = _select_statement("balances_locked", len(account_ids), False)
    transfers, balances = query_together(  # with any writes the transaction deferred
        connection,
        [
            (_known_statement(len(transfer_ids), False), _known_params(transfer_ids, False)),
            (lock_balances, _select_params(account_ids, False)),
        ],
    )
    return transfers, balances


def select_transfers(connection: Executor, ids: Iterable[str]) -> Iterator[tuple[Any, ...]]:
    return _select_by_key(connection, "transfers", ids)


def select_known_ids(connection: Executor, ids: Iterable[str]) -> Iterator[tuple[Any, ...]]:
    """What the ledger knows of these transfer ids, in one read: ``(0, *transfer row)`` for a
    recorded transfer, ``(1, id, ..., result, None)`` (the result where a transfer row has its
    ref) for an id refused before and remembered."""
    for statement, params in known_ids_reads(ids, sqlite=is_sqlite_connection(connection)):
        yield from query_read(connection, statement, params)


def known_ids_reads(ids: Iterable[str], *, sqlite: bool) -> list[DriverRead]:
    """The statements :func:`select_known_ids` sends, to be read ahead (``uow.prefetch``)."""
    return [
        (_known_statement(len(chunk), sqlite), _known_params(chunk, sqlite))
        for chunk in _chunks(ids)
    ]


def select_reads(kind: str, ids: Iterable[str], *, sqlite: bool) -> list[DriverRead]:
    """The statements :func:`_select_by_key` sends for ``kind`` (``balances_locked``,
    ``resolutions``, …), to be read ahead (``uow.prefetch``)."""
    return [
        (_select_statement(kind, len(chunk), sqlite), _select_params(chunk, sqlite))
        for chunk in _chunks(ids)
    ]


def insert_failures(connection: Executor, failures: list[tuple[str, str, int]]) -> None:
    """Remember refused ids (id, result, timestamp_us). Rare, so one plain statement a row; a
    concurrent batch that remembered the same id first wins."""
    mark = "?" if is_sqlite_connection(connection) else "%s"
    statement = (
        "INSERT INTO ledger_failed_transfers (id, result, timestamp_us)"
        f" VALUES ({mark}, {mark}, {mark}) ON CONFLICT (id) DO NOTHING"
    )
    run_many(connection, statement, failures)


def select_resolutions(
    connection: Executor, pending_ids: Iterable[str]
) -> Iterator[tuple[Any, ...]]:
    return _select_by_key(connection, "resolutions", pending_ids)


def _columns(values: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows to one array per column, for ``unnest``; ``width`` empty arrays when no rows."""
    if not values:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*values, strict=True)]


@lru_cache(maxsize=256)
def _pg_small_write(transfers: int, resolutions: int, balances: int) -> str:
    """The array statement's counterpart for a small batch: ``VALUES`` lists, which PostgreSQL
    scans (and so numbers ``seq``) in the order written."""
    parts = []
    if transfers:
        row = "(" + ", ".join(["%s"] * 11) + ")"
        parts.append(
            f"new_transfers AS (INSERT INTO ledger_transfers ({TRANSFER_INSERT_COLUMNS})"
            f" VALUES {', '.join([row] * transfers)})"
        )
    if resolutions:
        row = "(%s, %s, %s, %s)"
        parts.append(
            "new_resolutions AS (INSERT INTO ledger_pending_resolutions"
            " (pending_id, outcome, transfer_id, timestamp_us)"
            f" VALUES {', '.join([row] * resolutions)})"
        )
    prefix = f"WITH {', '.join(parts)} " if parts else ""
    if not balances:
        return f"{prefix}SELECT 1"
    row = "(%s::bigint, %s::bigint, %s::bigint, %s::bigint, %s::bigint)"
    return (
        f"{prefix}UPDATE ledger_accounts AS a SET debits_pending = v.dp, debits_posted = v.dpo,"
        " credits_pending = v.cp, credits_posted = v.cpo"
        f" FROM (VALUES {', '.join([row] * balances)}) AS v(num, dp, dpo, cp, cpo)"
        " WHERE a.num = v.num"
    )


def write_batch(
    connection: Executor,
    transfers: list[tuple[Any, ...]],
    resolutions: list[tuple[Any, ...]],
    balances: list[tuple[int, int, int, int, int]],
) -> None:
    """A batch's writes: new transfers (``TRANSFER_INSERT_COLUMNS`` order, inserted in list
    order), resolutions (pending_id, outcome, transfer_id, timestamp_us) and final balances
    (num, debits_pending, debits_posted, credits_pending, credits_posted).

    PostgreSQL gets them as one statement (one round trip); SQLite as one ``executemany``
    each, which costs no round trip.
    """
    if not (transfers or resolutions or balances):
        return
    if not is_sqlite_connection(connection):
        if max(len(transfers), len(resolutions), len(balances)) <= PG_SCALAR_ROWS_MAX:
            statement = _pg_small_write(len(transfers), len(resolutions), len(balances))
            flat = [value for row in (*transfers, *resolutions, *balances) for value in row]
            run(connection, statement, flat)
            return
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
        run_many(connection, _SQLITE_UPDATE_BALANCES, balances)
