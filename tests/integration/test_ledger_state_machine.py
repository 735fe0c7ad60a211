"""The ledger on a real database against a plain-Python model of the rule book, side by side.

A Hypothesis state machine (TigerBeetle's seeded VOPR and auditor, adapted) creates accounts,
sends batches of transfers (plain, pending, balancing, posts and voids, duplicates and retries of
refused ids, linked chains that fail or stay open, unknown accounts, amounts of zero, amounts that
break bounds or overflow), closes accounts, moves the
clock and expires pending transfers, and reopens the database. After every step the results, the
balances and the recorded transfers must equal the model's and ``check_ledger`` must pass.

The model below is written from the rules, not from :mod:`gongji.ledger.apply`: two
implementations that must agree. Each example starts from a fresh database (a new SQLite file, a
new PostgreSQL schema), since transfers are append-only and cannot be cleared.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, Protocol

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine

from gongji.core.clock import ManualClock, to_us
from gongji.ledger.book import Ledger
from gongji.ledger.check import check_ledger
from gongji.ledger.types import AccountFlags, NewAccount, Transfer, TransferFlags
from gongji.store.engine import make_engine
from gongji.store.migrate import upgrade
from support.soak import scaled

# Sized so that each database's run stays under a minute on a 2-core machine (`make soak`: more).
SETTINGS = settings(
    max_examples=scaled(30),
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
ACCOUNT_IDS = ("A0", "A1", "A2", "A3", "A4", "A5")
OPENED_FIRST = ACCOUNT_IDS[:5]  # A5 is unknown until a step creates it
UNKNOWN_ACCOUNT = "Z9"

# The rule book's numbers, restated rather than imported: the model is an independent reading.
ID_MAX = 64
AMOUNT_LIMIT = 2**62
BALANCE_LIMIT = 2**63 - 1
LINKED, PENDING, POST, VOID, BALANCING_DEBIT, BALANCING_CREDIT = 1, 2, 4, 8, 16, 32
BALANCING = BALANCING_DEBIT | BALANCING_CREDIT
DEBITS_BOUNDED, CREDITS_BOUNDED, CLOSED = 1, 2, 4
# Refusals that depend on the moment: the id is refused for good (id_already_failed).
TRANSIENT = {
    "debit_account_not_found",
    "credit_account_not_found",
    "pending_transfer_not_found",
    "debit_account_closed",
    "credit_account_closed",
    "exceeds_credits",
    "exceeds_debits",
}


# --- the model ------------------------------------------------------------------------------


@dataclass
class ModelAccount:
    ledger: int
    code: int
    region: str
    flags: int
    ref: str | None
    debits_pending: int = 0
    debits_posted: int = 0
    credits_pending: int = 0
    credits_posted: int = 0

    def row(self) -> tuple[Any, ...]:
        return (
            self.ledger,
            self.code,
            self.region,
            self.flags,
            self.ref,
            self.debits_pending,
            self.debits_posted,
            self.credits_pending,
            self.credits_posted,
        )


@dataclass(frozen=True)
class Recorded:
    debit: str
    credit: str
    amount: int
    ledger: int
    code: int
    flags: int
    pending_id: str | None
    expires_at: int | None
    ref: str | None
    timestamp: int


OK = ("ok", "exists")


class Model:
    """The ledger's rules as plainly as they can be written, on dictionaries."""

    def __init__(self) -> None:
        self.accounts: dict[str, ModelAccount] = {}
        self.transfers: dict[str, Recorded] = {}
        self.outcomes: dict[str, str] = {}  # pending id → posted | voided | expired
        self.failed: set[str] = set()  # ids refused for a reason of the moment

    # accounts

    def create_accounts(self, batch: Sequence[NewAccount]) -> list[str]:
        return [self._create_account(new) for new in batch]

    def _create_account(self, new: NewAccount) -> str:
        flags = int(new.flags)
        for refused, code in (
            (flags & ~(DEBITS_BOUNDED | CREDITS_BOUNDED | CLOSED) != 0, "flags_invalid"),
            (not new.id, "id_must_not_be_empty"),
            (len(new.id) > ID_MAX, "id_too_long"),
        ):
            if refused:
                return code
        known = self.accounts.get(new.id)
        if known is not None:
            differences = (
                (flags & ~CLOSED, known.flags & ~CLOSED, "flags"),
                (new.ref, known.ref, "ref"),
                (new.region, known.region, "region"),
                (new.ledger, known.ledger, "ledger"),
                (new.code, known.code, "code"),
            )
            for asked, held, name in differences:
                if asked != held:
                    return f"exists_with_different_{name}"
            return "exists"
        for refused, code in (
            (flags & 3 == 3, "flags_are_mutually_exclusive"),
            (new.ledger == 0, "ledger_must_not_be_zero"),
            (new.code == 0, "code_must_not_be_zero"),
            (len(new.region) > 6, "region_too_long"),
            (len(new.ref or "") > ID_MAX, "ref_too_long"),
        ):
            if refused:
                return code
        self.accounts[new.id] = ModelAccount(new.ledger, new.code, new.region, flags, new.ref)
        return "ok"

    def set_closed(self, account_id: str, closed: bool) -> bool:
        account = self.accounts.get(account_id)
        if account is None:
            return False
        account.flags = account.flags | CLOSED if closed else account.flags & ~CLOSED
        return True

    # transfers

    def create_transfers(self, batch: Sequence[Transfer], now: int) -> list[str]:
        """Chains: a LINKED event joins the next one; the batch's last event closes or leaves
        open the last chain. A chain's events all stand, or none does."""
        results: list[str] = []
        chain: list[Transfer] = []
        for position, event in enumerate(batch):
            chain.append(event)
            last = position == len(batch) - 1
            if int(event.flags) & LINKED and not last:
                continue
            results += self._chain(chain, now, open_=bool(int(event.flags) & LINKED))
            chain = []
        return results

    def _chain(self, chain: list[Transfer], now: int, *, open_: bool) -> list[str]:
        saved = (
            {k: replace(v) for k, v in self.accounts.items()},
            dict(self.transfers),
            dict(self.outcomes),
        )
        codes: list[str] = []
        for event in chain:
            codes.append(self._transfer(event, now))
            if codes[-1] not in OK:
                break
        if codes[-1] in TRANSIENT:  # remembered even though the chain is undone
            self.failed.add(chain[len(codes) - 1].id)
        if codes[-1] in OK and not open_:
            return codes
        self.accounts, self.transfers, self.outcomes = saved
        if len(chain) == 1 and not open_:
            return codes
        out = ["linked_event_failed"] * len(chain)
        out[len(codes) - 1] = codes[-1]
        if open_:
            out[-1] = "linked_event_chain_open"
        return out

    def _transfer(self, event: Transfer, now: int) -> str:
        refusal = _id_refusal(event)
        if refusal:
            return refusal
        if event.id in self.transfers:
            return self._compare(event, self.transfers[event.id])
        if event.id in self.failed:
            return "id_already_failed"
        refusal = _shape_refusal(event)
        if refusal:
            return refusal
        if int(event.flags) & (POST | VOID):
            return self._resolve(event, now)
        return self._create(event, now)

    def _defaults(self, event: Transfer) -> tuple[str, str, int, int, int, str | None]:
        """A post or void takes what it leaves empty (zero, no ref) from its pending transfer; a
        post of AMOUNT_LIMIT posts the pending amount, a void of 0 voids it."""
        d, c, amount, ledger, code, ref = (
            event.debit_account_id,
            event.credit_account_id,
            event.amount,
            event.ledger,
            event.code,
            event.ref,
        )
        if int(event.flags) & (POST | VOID):
            p = self.transfers.get(event.pending_id or "")
            if p is not None:
                d, c, ledger, code = d or p.debit, c or p.credit, ledger or p.ledger, code or p.code
                ref = p.ref if ref is None else ref
                if int(event.flags) & VOID and amount == 0:
                    amount = p.amount
                if int(event.flags) & POST and amount == AMOUNT_LIMIT:
                    amount = p.amount
        return d, c, amount, ledger, code, ref

    def _compare(self, event: Transfer, held: Recorded) -> str:
        if int(event.flags) != held.flags:
            return "exists_with_different_flags"
        if event.pending_id != held.pending_id:
            return "exists_with_different_pending_id"
        if event.expires_at_us != held.expires_at:
            return "exists_with_different_expires_at"
        d, c, amount, ledger, code, ref = self._defaults(event)
        if int(event.flags) & BALANCING and amount > held.amount:
            amount = held.amount  # a cap above what it moved: the same balancing transfer
        differences = (
            (d, held.debit, "debit_account_id"),
            (c, held.credit, "credit_account_id"),
            (amount, held.amount, "amount"),
            (ref, held.ref, "ref"),
            (ledger, held.ledger, "ledger"),
            (code, held.code, "code"),
        )
        for asked, recorded, name in differences:
            if asked != recorded:
                return f"exists_with_different_{name}"
        return "exists"

    def _create(self, event: Transfer, now: int) -> str:
        refusal = self._creation_refusal(event, now)
        if refusal:
            return refusal
        debit = self.accounts[event.debit_account_id]
        credit = self.accounts[event.credit_account_id]
        amount = self._balanced(event)
        if int(event.flags) & PENDING:
            debit.debits_pending += amount
            credit.credits_pending += amount
        else:
            debit.debits_posted += amount
            credit.credits_posted += amount
        self._record(event, event.debit_account_id, event.credit_account_id, amount, now)
        return "ok"

    def _balanced(self, event: Transfer) -> int:
        """A balancing transfer moves what is left to balance, at most its amount."""
        amount = event.amount
        debit = self.accounts[event.debit_account_id]
        credit = self.accounts[event.credit_account_id]
        if int(event.flags) & BALANCING_DEBIT:
            left = debit.credits_posted - debit.debits_posted - debit.debits_pending
            amount = min(amount, max(left, 0))
        if int(event.flags) & BALANCING_CREDIT:
            left = credit.debits_posted - credit.credits_posted - credit.credits_pending
            amount = min(amount, max(left, 0))
        return amount

    def _creation_refusal(self, event: Transfer, now: int) -> str | None:
        debit = self.accounts.get(event.debit_account_id)
        credit = self.accounts.get(event.credit_account_id)
        if debit is None:
            return "debit_account_not_found"
        if credit is None:
            return "credit_account_not_found"
        deadline_passed = (
            int(event.flags) & PENDING
            and event.expires_at_us is not None
            and event.expires_at_us <= now
        )
        amount = self._balanced(event) if debit.ledger == credit.ledger else event.amount
        debits_after = debit.debits_pending + debit.debits_posted + amount
        credits_after = credit.credits_pending + credit.credits_posted + amount
        checks = (
            (debit.ledger != credit.ledger, "accounts_must_have_the_same_ledger"),
            (event.ledger != debit.ledger, "transfer_must_have_the_same_ledger_as_accounts"),
            (debit.flags & CLOSED, "debit_account_closed"),
            (credit.flags & CLOSED, "credit_account_closed"),
            (deadline_passed, "expires_at_must_be_in_the_future"),
            (max(debits_after, credits_after) > BALANCE_LIMIT, "overflows_balance"),
            (
                debit.flags & DEBITS_BOUNDED and debits_after > debit.credits_posted,
                "exceeds_credits",
            ),
            (
                credit.flags & CREDITS_BOUNDED and credits_after > credit.debits_posted,
                "exceeds_debits",
            ),
        )
        return next((code for refused, code in checks if refused), None)

    def _resolve(self, event: Transfer, now: int) -> str:
        p = self.transfers.get(event.pending_id or "")
        if p is None:
            return "pending_transfer_not_found"
        refusal = self._resolution_refusal(event, p, now)
        if refusal:
            return refusal
        posting = bool(int(event.flags) & POST)
        debit, credit = self.accounts[p.debit], self.accounts[p.credit]
        debit.debits_pending -= p.amount
        credit.credits_pending -= p.amount
        amount = self._defaults(event)[2]
        if posting:
            debit.debits_posted += amount
            credit.credits_posted += amount
        self.outcomes[event.pending_id or ""] = "posted" if posting else "voided"
        self._record(event, p.debit, p.credit, amount, now, ledger=p.ledger, code=p.code, ref=p.ref)
        return "ok"

    def _resolution_refusal(self, event: Transfer, p: Recorded, now: int) -> str | None:
        if not p.flags & PENDING:
            return "pending_transfer_not_pending"
        for asked, held, name in (
            (event.debit_account_id, p.debit, "debit_account_id"),
            (event.credit_account_id, p.credit, "credit_account_id"),
            (event.ledger, p.ledger, "ledger"),
            (event.code, p.code, "code"),
        ):
            if asked and asked != held:
                return f"pending_transfer_has_different_{name}"
        posting = bool(int(event.flags) & POST)
        outcome = self.outcomes.get(event.pending_id or "")
        amount = self._defaults(event)[2]
        checks = (
            (amount > p.amount, "exceeds_pending_transfer_amount"),
            (not posting and amount < p.amount, "pending_transfer_has_different_amount"),
            (outcome == "posted", "pending_transfer_already_posted"),
            (outcome == "voided", "pending_transfer_already_voided"),
            (outcome == "expired", "pending_transfer_expired"),
            (p.expires_at is not None and p.expires_at <= now, "pending_transfer_expired"),
            (posting and self.accounts[p.debit].flags & CLOSED, "debit_account_closed"),
            (posting and self.accounts[p.credit].flags & CLOSED, "credit_account_closed"),
        )
        return next((code for refused, code in checks if refused), None)

    def _record(
        self,
        event: Transfer,
        debit: str,
        credit: str,
        amount: int,
        now: int,
        *,
        ledger: int | None = None,
        code: int | None = None,
        ref: str | None = None,
    ) -> None:
        self.transfers[event.id] = Recorded(
            debit=debit,
            credit=credit,
            amount=amount,
            ledger=ledger if ledger is not None else event.ledger,
            code=code if code is not None else event.code,
            flags=int(event.flags),
            pending_id=event.pending_id,
            expires_at=event.expires_at_us,
            ref=event.ref if event.ref is not None else ref,
            timestamp=now,
        )

    def expire(self, now: int) -> int:
        expired = 0
        for transfer_id, p in self.transfers.items():
            due = p.flags & PENDING and p.expires_at is not None and p.expires_at <= now
            if due and transfer_id not in self.outcomes:
                self.accounts[p.debit].debits_pending -= p.amount
                self.accounts[p.credit].credits_pending -= p.amount
                self.outcomes[transfer_id] = "expired"
                expired += 1
        return expired


def _id_refusal(event: Transfer) -> str | None:
    checks = (
        (int(event.flags) & ~(LINKED | PENDING | POST | VOID | BALANCING) != 0, "flags_invalid"),
        (not event.id, "id_must_not_be_empty"),
        (len(event.id) > ID_MAX, "id_too_long"),
    )
    return next((code for refused, code in checks if refused), None)


def _shape_refusal(event: Transfer) -> str | None:
    flags = int(event.flags)
    resolving = flags & (POST | VOID) != 0
    checks: list[tuple[bool, str]] = [
        (len(event.ref or "") > ID_MAX, "ref_too_long"),
        (
            resolving and bin(flags & (PENDING | POST | VOID | BALANCING)).count("1") > 1,
            "flags_are_mutually_exclusive",
        ),
        (event.amount < 0, "amount_must_not_be_negative"),
        (event.amount > AMOUNT_LIMIT, "amount_too_large"),
    ]
    if resolving:
        checks += [
            (not event.pending_id, "pending_id_required"),
            (event.pending_id == event.id, "pending_id_must_be_different"),
            (event.expires_at_us is not None, "expires_at_reserved_for_pending_transfer"),
        ]
    else:
        checks += [
            (not event.debit_account_id, "debit_account_id_must_not_be_empty"),
            (not event.credit_account_id, "credit_account_id_must_not_be_empty"),
            (event.debit_account_id == event.credit_account_id, "accounts_must_be_different"),
            (bool(event.pending_id), "pending_id_must_be_empty"),
            (
                event.expires_at_us is not None and not flags & PENDING,
                "expires_at_reserved_for_pending_transfer",
            ),
            (event.ledger == 0, "ledger_must_not_be_zero"),
            (event.code == 0, "code_must_not_be_zero"),
        ]
    return next((code for refused, code in checks if refused), None)


# --- databases, fresh per example -----------------------------------------------------------


class Database(Protocol):
    def connect(self) -> Engine: ...

    def drop(self) -> None: ...


class SqliteDatabase:
    def __init__(self, root: Path) -> None:
        self.directory = root / uuid.uuid4().hex[:12]
        self.url = f"sqlite:///{self.directory / 'gongji.db'}"

    def connect(self) -> Engine:
        return make_engine(self.url)

    def drop(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


class PostgresDatabase:
    def __init__(self, schema_class: Callable[[], Any]) -> None:
        self.schema = schema_class()

    def connect(self) -> Engine:
        engine: Engine = self.schema.engine(pool_size=2)
        return engine

    def drop(self) -> None:
        self.schema.drop()


# --- drawing events -------------------------------------------------------------------------

accounts_or_unknown = st.sampled_from([*ACCOUNT_IDS * 4, UNKNOWN_ACCOUNT])
balancing = st.sampled_from([0] * 6 + [BALANCING_DEBIT, BALANCING_CREDIT, BALANCING])
small_or_large = st.sampled_from(["small"] * 5 + ["medium"] * 2 + ["largest", "zero"])


KINDS = {
    "mixed": [
        *["plain"] * 5,
        *["pending"] * 2,
        *["post", "void", "duplicate", "duplicate", "malformed"],
    ],
    "two_phase": [*["pending"] * 3, *["post"] * 3, *["void"] * 2, "duplicate", "plain"],
    "chain": [*["plain"] * 8, *["pending"] * 2, "post", "void", "duplicate"],
}


def draw_amount(data: st.DataObject) -> int:
    """Mostly small amounts; some that break bounds; sometimes the largest, which overflows (or,
    balancing, moves what is left); now and then zero."""
    size = data.draw(small_or_large)
    if size == "largest":
        return AMOUNT_LIMIT
    if size == "zero":
        return 0
    return data.draw(st.integers(1, 40) if size == "small" else st.integers(41, 400))


class LedgerMachine(RuleBasedStateMachine):
    """Subclassed per database with ``open_database`` set (see the tests at the end)."""

    open_database: ClassVar[Callable[[], Database]]

    def __init__(self) -> None:
        super().__init__()
        self.database = type(self).open_database()
        self.engine = self.database.connect()
        upgrade(self.engine)
        self.clock = ManualClock(START)
        self.ledger = Ledger(self.engine, self.clock)
        self.model = Model()
        self.sent: list[Transfer] = []
        self.ids: set[str] = set()
        self.counter = 0

    def teardown(self) -> None:
        self.engine.dispose()
        self.database.drop()

    @property
    def now(self) -> int:
        return to_us(self.clock.now())

    # drawing

    def fresh_id(self) -> str:
        self.counter += 1
        return f"T{self.counter}"

    def ledger_of(self, account_id: str) -> int:
        account = self.model.accounts.get(account_id)
        return account.ledger if account is not None else 1

    def draw_plain(self, data: st.DataObject, flags: int) -> Transfer:
        # Mostly accounts that exist; now and then one not created yet, or never.
        known = sorted(self.model.accounts)
        accounts = st.sampled_from([*known * 4, ACCOUNT_IDS[-1], UNKNOWN_ACCOUNT])
        debit = data.draw(accounts)
        credit = data.draw(accounts.filter(lambda c: c != debit))
        expires = None
        if flags & PENDING and data.draw(st.sampled_from([True, True, False])):
            expires = self.now + data.draw(st.sampled_from([-1, 0, *range(1, 61, 3)])) * 10**6
        return Transfer(
            id=self.fresh_id(),
            debit_account_id=debit,
            credit_account_id=credit,
            amount=draw_amount(data),
            ledger=data.draw(st.sampled_from([self.ledger_of(debit)] * 19 + [2])),
            code=data.draw(st.sampled_from([1, 1, 1, 7])),
            flags=TransferFlags(flags | data.draw(balancing)),
            expires_at_us=expires,
            ref=data.draw(st.sampled_from([None, None, None, "r1"])),
        )

    def pick_pending(self, data: st.DataObject, batch: Sequence[Transfer]) -> Transfer:
        """Mostly a pending transfer still open; else any pending, a plain one, or none."""
        earlier = [*self.sent, *batch]
        open_ = [
            e
            for e in earlier
            if int(e.flags) & PENDING
            and e.id in {*self.model.transfers, *(b.id for b in batch)}
            and e.id not in self.model.outcomes
        ]
        any_pending = [e for e in earlier if int(e.flags) & PENDING]
        plain = [e for e in earlier if not int(e.flags) & PENDING]
        choice = data.draw(st.sampled_from(["open"] * 12 + ["pending"] * 2 + ["plain", "none"]))
        nowhere = Transfer("NOPE", "A0", "A1", 10, 1, 1, TransferFlags.PENDING)
        pools = {
            "open": [open_, any_pending],
            "pending": [any_pending],
            "plain": [plain],
            "none": [],
        }[choice]
        pool = next((pool for pool in pools if pool), [nowhere])
        return data.draw(st.sampled_from(pool))

    def draw_resolution(
        self, data: st.DataObject, flags: int, batch: Sequence[Transfer]
    ) -> Transfer:
        p = self.pick_pending(data, batch)
        if flags & POST:
            size = data.draw(
                st.sampled_from(["all"] * 3 + ["part"] * 2 + ["exact", "more", "zero"])
            )
        else:
            size = data.draw(st.sampled_from(["zero"] * 3 + ["exact", "less", "all"]))
        amount = {
            "all": AMOUNT_LIMIT,
            "zero": 0,
            "exact": p.amount,
            "more": p.amount + 1,
            "less": max(1, p.amount - 1),
            "part": data.draw(st.integers(1, max(1, p.amount))) if size == "part" else 0,
        }[size]
        debit, credit, ledger, code = "", "", 0, 0
        spelled = data.draw(st.sampled_from(["blank"] * 6 + ["as_pending", "debit", "code"]))
        if spelled == "as_pending":
            debit, credit = p.debit_account_id, p.credit_account_id
            ledger, code = p.ledger, p.code
        elif spelled == "debit":
            debit = data.draw(accounts_or_unknown)
        elif spelled == "code":
            code = data.draw(st.sampled_from([p.code, p.code + 1]))
        return Transfer(
            id=self.fresh_id(),
            debit_account_id=debit,
            credit_account_id=credit,
            amount=amount,
            ledger=ledger,
            code=code,
            flags=TransferFlags(flags),
            pending_id=p.id,
        )

    def draw_duplicate(self, data: st.DataObject) -> Transfer:
        recorded = [e for e in self.sent if e.id in self.model.transfers]
        if recorded and data.draw(st.sampled_from([True, True, True, False])):
            earlier = data.draw(st.sampled_from(recorded))
        else:
            earlier = data.draw(st.sampled_from(self.sent))
        changes: list[dict[str, Any]] = [
            {},
            {},
            {},
            {"amount": earlier.amount + 1},
            {"debit_account_id": data.draw(accounts_or_unknown)},
            {"credit_account_id": data.draw(accounts_or_unknown)},
            {"ledger": earlier.ledger + 1},
            {"code": earlier.code + 1},
            {"ref": "r2"},
            {"flags": earlier.flags ^ TransferFlags.PENDING},
            {"expires_at_us": (earlier.expires_at_us or self.now) + 1},
            {"pending_id": (earlier.pending_id or "") + "x"},
        ]
        return replace(earlier, **data.draw(st.sampled_from(changes)))

    def draw_malformed(self, data: st.DataObject) -> Transfer:
        base = Transfer(self.fresh_id(), "A0", "A1", 5, 1, 1)
        flaw = data.draw(
            st.sampled_from(
                [
                    {"id": ""},
                    {"id": "L" * (ID_MAX + 1)},
                    {"ref": "R" * (ID_MAX + 1)},
                    {"flags": TransferFlags(64)},
                    {"flags": TransferFlags.POST_PENDING | TransferFlags.BALANCING_DEBIT},
                    {"flags": TransferFlags.PENDING | TransferFlags.VOID_PENDING},
                    {"amount": -1},
                    {"amount": AMOUNT_LIMIT + 1},
                    {"amount": 0},
                    {"ledger": 0},
                    {"code": 0},
                    {"debit_account_id": ""},
                    {"credit_account_id": ""},
                    {"credit_account_id": "A0"},
                    {"pending_id": "T1"},
                    {"expires_at_us": self.now + 10},
                    {"flags": TransferFlags.POST_PENDING},
                    {"flags": TransferFlags.POST_PENDING, "pending_id": base.id},
                ]
            )
        )
        return replace(base, **flaw)

    def draw_event(self, data: st.DataObject, batch: Sequence[Transfer], kinds: str) -> Transfer:
        kind = data.draw(st.sampled_from(KINDS[kinds]))
        if kind == "duplicate" and self.sent:
            return self.draw_duplicate(data)
        if kind == "malformed":
            return self.draw_malformed(data)
        if kind in ("post", "void") and any(int(e.flags) & PENDING for e in (*self.sent, *batch)):
            return self.draw_resolution(data, POST if kind == "post" else VOID, batch)
        if kind in ("post", "void"):
            kind = "pending"  # nothing to resolve yet
        return self.draw_plain(data, PENDING if kind == "pending" else 0)

    def draw_accounts(self, data: st.DataObject) -> list[NewAccount]:
        ids = st.sampled_from([*ACCOUNT_IDS] * 3 + ["", "L" * (ID_MAX + 1)])
        return [
            NewAccount(
                id=data.draw(ids),
                ledger=data.draw(st.sampled_from([1] * 8 + [2, 0])),
                code=data.draw(st.sampled_from([1] * 6 + [2, 0])),
                region=data.draw(st.sampled_from(["", "", "", "110000", "1100001"])),
                flags=AccountFlags(data.draw(st.sampled_from([0, 0, 1, 1, 2, 2, 3, 8]))),
                ref=data.draw(st.sampled_from([None, None, None, "r", "R" * (ID_MAX + 1)])),
            )
            for _ in range(data.draw(st.integers(1, 3)))
        ]

    # rules

    @initialize(flags=st.lists(st.sampled_from([0, 0, 0, 1, 2]), min_size=5, max_size=5))
    def open_accounts(self, flags: list[int]) -> None:
        batch = [
            NewAccount(id=account_id, ledger=1, code=1, flags=AccountFlags(f))
            for account_id, f in zip(OPENED_FIRST, flags, strict=True)
        ]
        results = self.ledger.create_accounts(batch)
        assert [r.value for r in results] == self.model.create_accounts(batch) == ["ok"] * 5

    @rule(data=st.data())
    def create_accounts(self, data: st.DataObject) -> None:
        batch = self.draw_accounts(data)
        results = self.ledger.create_accounts(batch)
        assert [r.value for r in results] == self.model.create_accounts(batch)

    def send(
        self, data: st.DataObject, kinds: str, linking: Sequence[str], sizes: Sequence[int]
    ) -> None:
        size = data.draw(st.sampled_from(sizes))
        batch: list[Transfer] = []
        for _ in range(size):
            batch.append(self.draw_event(data, batch, kinds))
        how = data.draw(st.sampled_from(linking))
        for i, event in enumerate(batch):
            link = {
                "none": False,
                "chain": i < size - 1,
                "open": True,
                "any": data.draw(st.booleans()),
            }[how]
            if link and event.id not in self.ids:  # a duplicate keeps its flags
                batch[i] = replace(event, flags=event.flags | TransferFlags.LINKED)
        now = self.now
        results = self.ledger.create_transfers(batch)
        expected = self.model.create_transfers(batch, now)
        assert [r.value for r in results] == expected, list(zip(batch, expected, strict=True))
        self.sent += batch
        self.ids |= {e.id for e in batch}

    @rule(data=st.data())
    def send_a_mixed_batch(self, data: st.DataObject) -> None:
        self.send(data, "mixed", ["none"] * 3 + ["chain", "any"], [1, 1, 2, 2, 3, 3, 4, 5, 6])

    @rule(data=st.data())
    def send_a_two_phase_batch(self, data: st.DataObject) -> None:
        self.send(data, "two_phase", ["none"] * 3 + ["chain"], [1, 2, 3, 4, 5, 6])

    @rule(data=st.data())
    def send_linked_chains(self, data: st.DataObject) -> None:
        self.send(data, "chain", ["chain"] * 4 + ["open", "any"], [2, 2, 3, 3, 4, 6])

    @rule(seconds=st.integers(0, 90))
    def advance_clock_and_expire(self, seconds: int) -> None:
        self.clock.advance(timedelta(seconds=seconds))
        expired = self.ledger.expire_pending()
        assert expired == self.model.expire(self.now)

    @rule(
        account_id=st.sampled_from([*ACCOUNT_IDS, UNKNOWN_ACCOUNT]),
        closed=st.sampled_from([True, False, False]),
    )
    def close_or_reopen_account(self, account_id: str, closed: bool) -> None:
        found = self.ledger.set_account_closed(account_id, closed)
        assert found == self.model.set_closed(account_id, closed)

    @rule()
    def reopen_database(self) -> None:
        self.engine.dispose()
        self.engine = self.database.connect()
        self.ledger = Ledger(self.engine, self.clock)

    # invariants, after every step

    @invariant()
    def accounts_agree(self) -> None:
        found = self.ledger.lookup_accounts([*ACCOUNT_IDS, UNKNOWN_ACCOUNT])
        held = {
            a.id: (
                a.ledger,
                a.code,
                a.region,
                int(a.flags),
                a.ref,
                a.debits_pending,
                a.debits_posted,
                a.credits_pending,
                a.credits_posted,
            )
            for a in found.values()
        }
        assert held == {k: v.row() for k, v in self.model.accounts.items()}

    @invariant()
    def transfers_agree(self) -> None:
        found = self.ledger.lookup_transfers(self.ids)
        held = {
            t.id: Recorded(
                debit=t.debit_account_id,
                credit=t.credit_account_id,
                amount=t.amount,
                ledger=t.ledger,
                code=t.code,
                flags=int(t.flags),
                pending_id=t.pending_id,
                expires_at=t.expires_at_us,
                ref=t.ref,
                timestamp=t.timestamp_us,
            )
            for t in found.values()
        }
        assert held == self.model.transfers

    @invariant()
    def ledger_checks_clean(self) -> None:
        report = check_ledger(self.engine)
        assert report.ok, report.verdict()
        assert report.transfers == len(self.model.transfers)


def machine_for(open_database: Callable[[], Database]) -> type[LedgerMachine]:
    return type("Machine", (LedgerMachine,), {"open_database": open_database})


@pytest.mark.soak
def test_the_ledger_on_sqlite_agrees_with_its_model(tmp_path: Path) -> None:
    run_state_machine_as_test(machine_for(lambda: SqliteDatabase(tmp_path)), settings=SETTINGS)


@pytest.mark.soak
@pytest.mark.postgres
def test_the_ledger_on_postgres_agrees_with_its_model(pg_schema: Any) -> None:
    # The fixture checks the server (skip on a laptop, fail under CI) and hands us the
    # PostgresSchema class, so that each example gets a fresh schema of its own.
    schema_class = type(pg_schema)
    machine = machine_for(lambda: PostgresDatabase(schema_class))
    run_state_machine_as_test(machine, settings=SETTINGS)
