"""The ledger on a database: create accounts and transfers in batches, look them up, page an
account's history, and expire pending transfers whose deadline passed.

Each batch is one database transaction: load what the batch refers to, lock the accounts it
touches in id order (PostgreSQL ``FOR UPDATE``; SQLite holds its write lock from
``BEGIN IMMEDIATE``), decide in memory with :mod:`gongji.ledger.apply`, write back, commit.
A conflicting concurrent transaction makes the whole batch run again (bounded).

Batches sent concurrently to :meth:`Ledger.create_transfers` while a commit is in flight share
the next transaction (group commit, :mod:`gongji.ledger.group_commit`): one commit for all,
each batch applied in turn to the same in-memory state and answered with its own results.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Final

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from gongji.core.clock import Clock
from gongji.ledger import driver, rows
from gongji.ledger.apply import BatchState, apply_batch, expire
from gongji.ledger.group_commit import GroupCommit
from gongji.ledger.types import (
    ID_LENGTH_MAX,
    Account,
    AccountFlags,
    CreateAccountResult,
    CreateTransferResult,
    NewAccount,
    Transfer,
    TransferOutcome,
)
from gongji.store.engine import is_sqlite
from gongji.store.raw import DriverRead, Executor, defer_writes, prefetch
from gongji.store.tables import ledger_transfers
from gongji.store.uow import (
    UnitOfWork,
    in_transaction,
    is_retryable,
    run_in_transaction,
    run_on_driver_connection,
)

BATCH_SIZE_MAX = 8_190  # TigerBeetle's batch limit: bounds memory and lock time per transaction
PAGE_SIZE_MAX = 1_000
EXPIRY_BATCH_MAX = 1_000
ACCOUNTS_KNOWN_MAX = 100_000
"""Account ids a ledger remembers as existing (:meth:`Ledger.ensure_accounts_in`); past it,
it starts over."""


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """One page of an account's transfers, oldest first.

    ``next_cursor`` asks for the next page and is None on the last one. ``resume_cursor`` is
    where this page ended (the cursor it was asked with, when empty): a caller that polls for
    new transfers keeps it and asks again later, even after the last page.
    """

    transfers: list[Transfer]
    next_cursor: str | None
    resume_cursor: str | None = None


class BatchTooLarge(ValueError):
    pass


class _NotAllNew(Exception):
    """A batch applied as if its ids were new must be decided again knowing them: one of them
    is recorded or was refused before, or an event was refused where ``exists`` or
    ``id_already_failed`` might be the answer."""


_DECIDED_WITHOUT_RECORDED_IDS = frozenset({CreateTransferResult.OK, CreateTransferResult.EXISTS})
"""Results that stand if the insert then meets no known id (``exists``: a repeat within the
batch, whose first occurrence is inserted)."""


GROUPS_IN_FLIGHT_POSTGRES: Final = 2
"""Groups committing at once on PostgreSQL: while one waits for the server's log flush, the
next one's statements run, and the server locks the accounts they share row by row. At eight
clients, single transfers went from 3 412–3 557/s to 4 113–5 014/s (0.67–0.74× → 0.88–0.90×
pgbench, 2-core machine, docs/benchmarks.md, step 12); three or four groups did worse. SQLite
admits one writer: one group at a time."""


class Ledger:
    """The double-entry engine bound to one database and one clock."""

    def __init__(self, engine: Engine, clock: Clock, *, group_commit: bool = True) -> None:
        """``group_commit``: concurrent :meth:`create_transfers` calls share commits
        (:mod:`gongji.ledger.group_commit`); off, each call commits alone."""
        self._engine = engine
        self._clock = clock
        self.groups_in_flight = 1 if is_sqlite(engine) else GROUPS_IN_FLIGHT_POSTGRES
        """Groups that may commit at once."""
        self._groups: GroupCommit[Sequence[Transfer], list[CreateTransferResult]] | None = (
            GroupCommit(
                self._create_group, events_max=BATCH_SIZE_MAX, leaders_max=self.groups_in_flight
            )
            if group_commit
            else None
        )
        self._known_accounts: set[str] = set()

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def batches_waiting(self) -> int:
        """Batches queued for the next group commit (for tests and diagnostics)."""
        return 0 if self._groups is None else self._groups.waiting

    def create_accounts(self, accounts: Sequence[NewAccount]) -> list[CreateAccountResult]:
        _check_batch_size(len(accounts))

        def work(uow: UnitOfWork) -> list[CreateAccountResult]:
            results = self.create_accounts_in(uow, accounts)
            uow.commit()
            return results

        return run_in_transaction(self._engine, work)

    def create_accounts_in(
        self, uow: UnitOfWork, accounts: Sequence[NewAccount]
    ) -> list[CreateAccountResult]:
        """Inside a caller's unit of work (which commits); each account succeeds on its own."""
        return self._create_accounts(uow, accounts)[0]

    def ensure_accounts_in(self, uow: UnitOfWork, accounts: Sequence[NewAccount]) -> None:
        """Create, inside a caller's unit of work, those of ``accounts`` that do not exist yet
        (the others are left as they are, whatever they were opened with). Accounts are never
        deleted, so one this ledger has read back once is not asked for again: a settlement's
        institution and fund accounts cost no read after the first. One created here is not
        remembered, since the caller's transaction may still roll back; for the same reason a
        caller must not create, earlier in the same transaction, an account it ensures."""
        wanted = [new for new in accounts if new.id not in self._known_accounts]
        if not wanted:
            return
        found = self._create_accounts(uow, wanted)[1]
        if len(self._known_accounts) + len(found) > ACCOUNTS_KNOWN_MAX:
            self._known_accounts.clear()
        self._known_accounts.update(found)

    def _create_accounts(
        self, uow: UnitOfWork, accounts: Sequence[NewAccount]
    ) -> tuple[list[CreateAccountResult], set[str]]:
        """The results, and the ids that were there already (read, not created)."""
        connection = uow.connection
        known = rows.load_accounts(connection, {a.id for a in accounts if a.id}, lock=False)
        there = set(known)
        return self._open(connection, accounts, known), there

    def create_minted_accounts_in(
        self, uow: UnitOfWork, accounts: Sequence[NewAccount]
    ) -> list[CreateAccountResult]:
        """As :meth:`create_accounts_in`, for accounts whose ids the caller minted in this very
        transaction (a new grant's quota): no one can have created them, so they are not
        read, and on PostgreSQL the insert waits with the transaction's deferred writes. An id
        met at the insert is a broken promise and fails the transaction."""
        return self._open(uow.connection, accounts, {})

    def _open(
        self, connection: Executor, accounts: Sequence[NewAccount], known: dict[str, Account]
    ) -> list[CreateAccountResult]:
        """Insert those of ``accounts`` that may be opened, ``known`` being those that exist
        (by id; the ones opened here are added, so a repeated id answers ``exists``)."""
        now_us = self._clock.now_us()
        results: list[CreateAccountResult] = []
        fresh: list[Account] = []
        for new in accounts:
            result = _account_result(new, known.get(new.id))
            if result is CreateAccountResult.OK:
                account = rows.new_account(new, now_us)
                known[new.id] = account
                fresh.append(account)
            results.append(result)
        rows.insert_accounts(connection, fresh)
        return results

    def create_transfers(self, transfers: Sequence[Transfer]) -> list[CreateTransferResult]:
        """A batch in a transaction of the ledger's own, committed before this returns.

        With group commit, batches of concurrent callers that arrive while a commit is in
        flight share the next transaction: each is applied after the one before it, as if
        committed alone in that order, and answered with its own results (a refused transfer
        refuses alone; a linked chain never reaches into the next caller's batch). A caller
        already inside a unit of work commits alone: a group must never wait for locks that
        one of its own members holds.
        """
        _check_batch_size(len(transfers))
        if self._groups is None or in_transaction():
            return self._create_group([transfers])[0]
        return self._groups.submit(transfers, len(transfers))

    def _create_group(
        self, batches: Sequence[Sequence[Transfer]]
    ) -> list[list[CreateTransferResult]]:
        """Batches in one transaction, each batch's results apart.

        Batches that resolve no pending transfer are first applied as if none of their ids were
        known yet, without reading them. That stands when none of them was refused before (the
        statement that locks the accounts counts those), every event succeeds and the insert
        meets no recorded id (the unique index). Otherwise they run again, reading them: a
        retried request, or a refusal that an ``exists`` or ``id_already_failed`` must take
        precedence over (rare, and then one read more). The read it saves was an eighth of a
        single transfer's time on SQLite.

        Batches that read their ids can still meet one that a concurrent transaction recorded
        since (PostgreSQL); they run once more and read it.
        """
        if not any(t.pending_id for batch in batches for t in batch):
            try:
                return run_on_driver_connection(
                    self._engine,
                    lambda connection: self._create_new(connection, batches),
                    attempts_max=1,  # a conflict, or an id met at the COMMIT: read them
                )
            except _NotAllNew:
                pass
            except DBAPIError as error:
                if not is_retryable(error):
                    raise
        try:
            return run_on_driver_connection(
                self._engine, lambda connection: self._create(connection, batches)
            )
        except IntegrityError:
            return run_on_driver_connection(
                self._engine, lambda connection: self._create(connection, batches)
            )

    def create_transfers_in(
        self, uow: UnitOfWork, transfers: Sequence[Transfer]
    ) -> list[CreateTransferResult]:
        """Apply a batch inside a caller's unit of work; the caller commits with its own writes."""
        return self._create(uow.connection, [transfers])[0]

    def create_minted_transfers_in(
        self, uow: UnitOfWork, transfers: Sequence[Transfer]
    ) -> list[CreateTransferResult]:
        """As :meth:`create_transfers_in`, for a batch whose ids the caller minted in this very
        transaction (a settlement's ``{setl_id}:…``, its row written first): no one can have
        recorded them, so they are not read, one statement less. The batch is decided again
        reading them where a refusal might be ``exists`` or ``id_already_failed`` (as in
        :meth:`_create_group`); an id met at the insert is a broken promise and fails the
        transaction."""
        connection = uow.connection
        try:
            state, (results,) = self._applied_as_new(connection, [transfers])
        except _NotAllNew:
            return self._create(connection, [transfers])[0]
        _write_state(connection, state)
        return results

    def minted_transfers_reads(self, transfers: Sequence[Transfer]) -> list[DriverRead]:
        """What :meth:`create_minted_transfers_in` reads first for ``transfers`` (their
        accounts' balances, locked), for a caller to read ahead with its other reads
        (``uow.prefetch``); made once nothing before the batch in the transaction will write."""
        ids = {t.id for t in transfers if t.id}
        return driver.balances_and_failures_reads(
            _accounts_named(transfers), ids, sqlite=is_sqlite(self._engine)
        )

    def resolving_reads(self, transfers: Sequence[Transfer]) -> list[DriverRead]:
        """What :meth:`create_transfers_in` reads first for a batch that resolves pending
        transfers (the ids it must know, unlocked), for a caller to read ahead with its other
        reads (``uow.prefetch``)."""
        return driver.known_ids_reads(_ids_to_know(transfers), sqlite=is_sqlite(self._engine))

    def create_transfers_recorded_in(
        self, uow: UnitOfWork, transfers: Sequence[Transfer]
    ) -> list[TransferOutcome]:
        """As :meth:`create_transfers_in`, with each event's transfer as recorded (see
        :class:`TransferOutcome`): how much a balancing transfer moved, for a caller that must
        say so, comes from the transfer and not from a balance read before it."""
        state, (results,) = self._decide(uow.connection, [transfers])
        new_ids = {transfer.id for transfer in state.new_transfers}
        return [
            TransferOutcome(result, _recorded(state, new_ids, event.id, result))
            for event, result in zip(transfers, results, strict=True)
        ]

    def _create(
        self, connection: Executor, batches: Sequence[Sequence[Transfer]]
    ) -> list[list[CreateTransferResult]]:
        return self._decide(connection, batches)[1]

    def _decide(
        self, connection: Executor, batches: Sequence[Sequence[Transfer]]
    ) -> tuple[BatchState, list[list[CreateTransferResult]]]:
        """Load what the batches refer to, apply them one after the other, write what changed."""
        everything = [transfer for batch in batches for transfer in batch]
        state = _load_state(connection, everything, self._clock.now_us())
        results = [apply_batch(state, batch) for batch in batches]
        _write_state(connection, state)
        return state, results

    def _create_new(
        self, connection: Executor, batches: Sequence[Sequence[Transfer]]
    ) -> list[list[CreateTransferResult]]:
        """As :meth:`_create` for batches whose ids are assumed new (see _create_group)."""
        state, results = self._applied_as_new(connection, batches)
        defer_writes(connection)  # PostgreSQL: the write goes with the COMMIT, one trip less
        try:
            _write_state(connection, state)
        except IntegrityError as error:  # SQLite: met at once, not at the COMMIT
            raise _NotAllNew from error
        return results

    def _applied_as_new(
        self, connection: Executor, batches: Sequence[Sequence[Transfer]]
    ) -> tuple[BatchState, list[list[CreateTransferResult]]]:
        """The batches applied as if none of their ids were known, nothing written yet;
        :class:`_NotAllNew` when that cannot stand (see :meth:`_create_group`)."""
        everything = [transfer for batch in batches for transfer in batch]
        accounts, failures = rows.load_balances_counting_failures(
            connection, _accounts_named(everything), {t.id for t in everything if t.id}
        )
        if failures:
            raise _NotAllNew
        state = BatchState(
            now_us=self._clock.now_us(), accounts=accounts, transfers={}, resolutions={}
        )
        results = [apply_batch(state, batch) for batch in batches]
        if any(r not in _DECIDED_WITHOUT_RECORDED_IDS for batch in results for r in batch):
            raise _NotAllNew
        return state, results

    def lookup_accounts(self, ids: Iterable[str]) -> dict[str, Account]:
        return run_in_transaction(
            self._engine,
            lambda uow: rows.load_accounts(uow.connection, set(ids), lock=False),
            read_only=True,
        )

    def accounts_in(
        self, uow: UnitOfWork, ids: Iterable[str], *, lock: bool = False
    ) -> dict[str, Account]:
        """Accounts read inside a caller's unit of work (locked in id order when asked)."""
        return rows.load_accounts(uow.connection, set(ids), lock=lock)

    def accounts_reads(self, ids: Iterable[str], *, lock: bool = False) -> list[DriverRead]:
        """What :meth:`accounts_in` reads for ``ids``, for a caller to read ahead with its
        other reads (``uow.prefetch``: one round trip on PostgreSQL)."""
        return driver.select_accounts_reads(set(ids), lock=lock, sqlite=is_sqlite(self._engine))

    def transfers_in(self, uow: UnitOfWork, ids: Iterable[str]) -> dict[str, Transfer]:
        return rows.load_transfers(uow.connection, set(ids))

    def lookup_transfers(self, ids: Iterable[str]) -> dict[str, Transfer]:
        return run_in_transaction(
            self._engine,
            lambda uow: rows.load_transfers(uow.connection, set(ids)),
            read_only=True,
        )

    def account_history(
        self, account_id: str, *, cursor: str | None = None, limit: int = 50
    ) -> HistoryPage:
        """Transfers that touch the account, oldest first, ``limit`` at a time."""
        limit = max(1, min(limit, PAGE_SIZE_MAX))
        after_seq = _parse_cursor(cursor)

        def work(uow: UnitOfWork) -> HistoryPage:
            found = rows.account_transfers(uow.connection, account_id, after_seq, limit + 1)
            shown = found[:limit]
            page = [transfer for _, transfer in shown]
            resume_cursor = str(shown[-1][0]) if shown else cursor
            next_cursor = resume_cursor if len(found) > limit else None
            return HistoryPage(page, next_cursor, resume_cursor)

        return run_in_transaction(self._engine, work, read_only=True)

    def expire_pending(self, *, limit: int = EXPIRY_BATCH_MAX) -> int:
        """Release pending transfers whose ``expires_at`` has passed; returns how many expired.

        Safe to run concurrently with posts and voids: the pending rows' accounts are locked and
        the resolution's primary key admits one outcome only.
        """

        def work(uow: UnitOfWork) -> int:
            count = self.expire_pending_in(uow, limit=limit)
            uow.commit()
            return count

        return run_in_transaction(self._engine, work)

    def expire_pending_in(self, uow: UnitOfWork, *, limit: int = EXPIRY_BATCH_MAX) -> int:
        connection = uow.connection
        now_us = self._clock.now_us()
        due = rows.due_pending(connection, now_us, min(limit, EXPIRY_BATCH_MAX))
        if not due:
            return 0
        state = BatchState(
            now_us=now_us,
            accounts=rows.load_balances(connection, _accounts_named(due), lock=True),
            transfers={t.id: t for t in due},
            resolutions=rows.load_resolutions(connection, {t.id for t in due}),
        )
        expired = sum(1 for pending in due if expire(state, pending))
        _write_state(connection, state)
        return expired

    def set_account_closed(self, account_id: str, closed: bool) -> bool:
        """Close or reopen an account; a closed account takes no new transfers but voids."""

        def work(uow: UnitOfWork) -> bool:
            found = rows.load_accounts(uow.connection, {account_id}, lock=True).get(account_id)
            if found is None:
                return False
            flags = (
                found.flags | AccountFlags.CLOSED if closed else found.flags & ~AccountFlags.CLOSED
            )
            rows.update_flags(uow.connection, account_id, flags)
            uow.commit()
            return True

        return run_in_transaction(self._engine, work)

    def transfer_count(self) -> int:
        def work(uow: UnitOfWork) -> int:
            # count(*), not the last seq: a PostgreSQL sequence leaves gaps where a transaction
            # that inserted transfers rolled back (a retried batch, a caller's unit of work).
            statement = select(func.count()).select_from(ledger_transfers)
            return int(uow.connection.execute(statement).scalar_one())

        return run_in_transaction(self._engine, work, read_only=True)


def _check_batch_size(size: int) -> None:
    if size > BATCH_SIZE_MAX:
        raise BatchTooLarge(f"a batch holds at most {BATCH_SIZE_MAX} events, not {size}")


def _parse_cursor(cursor: str | None) -> int:
    if cursor is None or cursor == "":
        return 0
    if not cursor.isdigit() or len(cursor) > 19:
        raise ValueError(f"invalid cursor: {cursor!r}")
    return int(cursor)


def _account_result(new: NewAccount, known: Account | None) -> CreateAccountResult:
    """TigerBeetle's precedence: flags and id, then what the id is known as, then the rest."""
    R = CreateAccountResult
    refusal = _account_id_refusal(new)
    if refusal is not None:
        return refusal
    if known is not None:
        return _compare_account(new, known)
    return _account_shape(new) or R.OK


def _account_id_refusal(new: NewAccount) -> CreateAccountResult | None:
    R = CreateAccountResult
    if int(new.flags) & ~_KNOWN_ACCOUNT_FLAGS:  # int: ~ on an IntFlag drops unknown bits
        return R.FLAGS_INVALID
    if not new.id:
        return R.ID_MUST_NOT_BE_EMPTY
    if len(new.id) > ID_LENGTH_MAX:
        return R.ID_TOO_LONG
    return None


def _compare_account(new: NewAccount, known: Account) -> CreateAccountResult:
    """``closed`` is left out: it is the account's state, which closing and reopening change
    after its creation, not part of what was asked for."""
    R = CreateAccountResult
    comparisons = (
        (
            new.flags & ~AccountFlags.CLOSED,
            known.flags & ~AccountFlags.CLOSED,
            R.EXISTS_WITH_DIFFERENT_FLAGS,
        ),
        (new.ref, known.ref, R.EXISTS_WITH_DIFFERENT_REF),
        (new.region, known.region, R.EXISTS_WITH_DIFFERENT_REGION),
        (new.ledger, known.ledger, R.EXISTS_WITH_DIFFERENT_LEDGER),
        (new.code, known.code, R.EXISTS_WITH_DIFFERENT_CODE),
    )
    for asked, recorded, code in comparisons:
        if asked != recorded:
            return code
    return R.EXISTS


_BOUNDS = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS | AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS
_KNOWN_ACCOUNT_FLAGS = int(_BOUNDS | AccountFlags.CLOSED)


def _account_shape(new: NewAccount) -> CreateAccountResult | None:
    R = CreateAccountResult
    if new.flags & _BOUNDS == _BOUNDS:
        return R.FLAGS_ARE_MUTUALLY_EXCLUSIVE
    if new.ledger == 0:
        return R.LEDGER_MUST_NOT_BE_ZERO
    if new.code == 0:
        return R.CODE_MUST_NOT_BE_ZERO
    if len(new.region) > 6:
        return R.REGION_TOO_LONG
    if new.ref is not None and len(new.ref) > ID_LENGTH_MAX:
        return R.REF_TOO_LONG
    return None


def _load_state(connection: Executor, transfers: Sequence[Transfer], now_us: int) -> BatchState:
    pending_ids = {t.pending_id for t in transfers if t.pending_id}
    if not pending_ids:
        # Nothing resolves a pending transfer, so the accounts to lock are the events' own: both
        # reads go at once. (A known pending transfer that an event's id repeats is compared by
        # its fields only; its accounts are neither read nor changed.)
        (known, failed), accounts = rows.load_transfers_and_balances(
            connection, {t.id for t in transfers if t.id}, _accounts_named(transfers)
        )
        return BatchState(
            now_us=now_us, accounts=accounts, transfers=known, resolutions={}, failed=failed
        )
    known, failed = rows.load_known(connection, _ids_to_know(transfers))
    pending = [t for t in known.values() if t.is_pending]
    account_ids = _accounts_named([*transfers, *pending])
    # The resolutions are read once the accounts are locked, so that a resolution committed by
    # a transaction they waited for is seen; on PostgreSQL both go in one round trip.
    sqlite = rows.is_sqlite_connection(connection)
    prefetch(
        connection,
        [
            *driver.select_reads("balances_locked", account_ids, sqlite=sqlite),
            *driver.select_reads("resolutions", pending_ids, sqlite=sqlite),
        ],
    )
    accounts = rows.load_balances(connection, account_ids, lock=True)
    return BatchState(
        now_us=now_us,
        accounts=accounts,
        transfers=known,
        resolutions=rows.load_resolutions(connection, pending_ids),
        failed=failed,
    )


def _ids_to_know(transfers: Iterable[Transfer]) -> set[str]:
    """The batch's ids and the pending transfers it resolves: what it reads first."""
    return {t.id for t in transfers if t.id} | {t.pending_id for t in transfers if t.pending_id}


def _recorded(
    state: BatchState, new_ids: set[str], event_id: str, result: CreateTransferResult
) -> Transfer | None:
    """The transfer recorded under ``event_id`` when the event succeeded or repeated one; one
    this batch recorded carries the batch's time, which the writer stamped on it."""
    if result is not CreateTransferResult.OK and result is not CreateTransferResult.EXISTS:
        return None
    recorded = state.transfers[event_id]
    return replace(recorded, timestamp_us=state.now_us) if event_id in new_ids else recorded


def _accounts_named(transfers: Iterable[Transfer]) -> set[str]:
    """Every account the transfers debit or credit (a post or void may name none: ``""``)."""
    ids = {t.debit_account_id for t in transfers} | {t.credit_account_id for t in transfers}
    ids.discard("")
    return ids


def _write_state(connection: Executor, state: BatchState) -> None:
    rows.write_batch(
        connection,
        state.new_transfers,
        state.new_resolutions,
        state.now_us,
        state.accounts,
        sorted(state.touched),
        state.new_failures,
    )
