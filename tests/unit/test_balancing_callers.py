"""The services that move "what is left" send balancing transfers and read no balance first;
what they answer is what the ledger recorded (docs/ledger.md, "Services that move the rest").

No database: a ledger stand-in records every call and answers with amounts of its choosing, as
the real ledger would with the amounts it decided. A service that read a balance would call
``accounts_in`` before the transfer, or answer with the amount it read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime, time
from types import SimpleNamespace
from typing import Any

import pytest

from gongji.core.clock import to_us
from gongji.jobs import rollover
from gongji.kernel import chart
from gongji.kernel.context import BUSINESS_TZ
from gongji.kernel.errors import LedgerRefused
from gongji.ledger.types import (
    AMOUNT_MAX,
    Account,
    AccountFlags,
    CreateAccountResult,
    CreateTransferResult,
    NewAccount,
    Transfer,
    TransferFlags,
    TransferOutcome,
)
from gongji.mutual_aid.service import grant_money, lifecycle
from gongji.people.store.scans_repo import AccountKey
from gongji.store.records import EnrolmentRecord

OK, EXISTS = CreateTransferResult.OK, CreateTransferResult.EXISTS
PSN = "P620100000001"


class RecordingLedger:
    """Answers each balancing transfer with the amount ``moves`` names for its debit account
    (``EXISTS`` for the ids in ``known``), and accounts with a balance nobody should use."""

    def __init__(self, moves: dict[str, int], known: Iterable[str] = ()) -> None:
        self.moves = moves
        self.known = set(known)
        self.calls: list[tuple[str, Any]] = []

    def create_accounts_in(
        self, uow: object, accounts: Sequence[NewAccount]
    ) -> list[CreateAccountResult]:
        self.calls.append(("create_accounts", [a.id for a in accounts]))
        return [CreateAccountResult.OK] * len(accounts)

    def create_transfers_in(
        self, uow: object, transfers: Sequence[Transfer]
    ) -> list[CreateTransferResult]:
        self.calls.append(("create_transfers", list(transfers)))
        return [OK] * len(transfers)

    def create_transfers_recorded_in(
        self, uow: object, transfers: Sequence[Transfer]
    ) -> list[TransferOutcome]:
        self.calls.append(("create_transfers_recorded", list(transfers)))
        return [
            TransferOutcome(
                EXISTS if t.id in self.known else OK,
                replace(t, amount=min(t.amount, self.moves[t.debit_account_id])),
            )
            for t in transfers
        ]

    def accounts_in(
        self, uow: object, ids: Iterable[str], *, lock: bool = False
    ) -> dict[str, Account]:
        self.calls.append(("accounts", sorted(ids)))
        return {
            i: Account(i, chart.LEDGER_CNY, 1, "620100", AccountFlags.NONE, 0, 0, 777, 0, PSN, 1)
            for i in ids
        }

    def posted(self) -> list[Transfer]:
        """The transfers of the one call that lets the ledger decide."""
        (batch,) = [args for name, args in self.calls if name == "create_transfers_recorded"]
        return list(batch)

    def read_accounts(self) -> bool:
        return any(name == "accounts" for name, _ in self.calls)


def context(ledger: RecordingLedger, today: date = date(2026, 3, 2)) -> Any:
    return SimpleNamespace(ledger=ledger, today=lambda: today)


def test_the_inheritance_payout_sends_uncapped_balancing_transfers_and_reads_no_balance() -> None:
    earlier, current = chart.personal_earlier("620100", PSN), chart.personal_current("620100", PSN)
    ledger = RecordingLedger({earlier: 620_000, current: 0})

    paid = lifecycle._pay_out(context(ledger), SimpleNamespace(), "620100", PSN)

    assert paid == 620_000
    assert not ledger.read_accounts()
    assert [(t.id, t.debit_account_id, t.amount, t.flags) for t in ledger.posted()] == [
        (f"inherit:{earlier}", earlier, AMOUNT_MAX, TransferFlags.BALANCING_DEBIT),
        (f"inherit:{current}", current, AMOUNT_MAX, TransferFlags.BALANCING_DEBIT),
    ]
    created = [ids for name, ids in ledger.calls if name == "create_accounts"]
    assert {earlier, current} <= set(created[0])  # an account missing is made, not skipped


def test_a_move_sends_uncapped_balancing_transfers_named_after_its_enrolment() -> None:
    cur, old = chart.personal_current("620100", PSN), chart.personal_earlier("620100", PSN)
    ledger = RecordingLedger({cur: 180_000, old: 620_000})
    closed = EnrolmentRecord(41, PSN, "310", "620100", "1", "employed", "2020-01-01", None)

    lifecycle._move_balances(context(ledger), SimpleNamespace(), PSN, closed, "440100")

    assert not ledger.read_accounts()
    assert [(t.id, t.credit_account_id, t.amount, t.flags) for t in ledger.posted()] == [
        (
            f"move:41:{PSN}:cur",
            chart.personal_current("440100", PSN),
            AMOUNT_MAX,
            TransferFlags.BALANCING_DEBIT,
        ),
        (
            f"move:41:{PSN}:old",
            chart.personal_earlier("440100", PSN),
            AMOUNT_MAX,
            TransferFlags.BALANCING_DEBIT,
        ),
    ]


def test_a_move_that_meets_an_earlier_moves_transfer_is_refused_not_skipped() -> None:
    cur, old = chart.personal_current("620100", PSN), chart.personal_earlier("620100", PSN)
    ledger = RecordingLedger({cur: 1, old: 1}, known=[f"move:41:{PSN}:cur"])
    closed = EnrolmentRecord(41, PSN, "310", "620100", "1", "employed", "2020-01-01", None)

    with pytest.raises(LedgerRefused, match="the move of a personal account"):
        lifecycle._move_balances(context(ledger), SimpleNamespace(), PSN, closed, "440100")


def grant(offered_on: date, from_earlier_fen: int) -> Any:
    noon = datetime.combine(offered_on, time(12), tzinfo=BUSINESS_TZ)
    return SimpleNamespace(
        id="G1",
        contributor=PSN,
        contributor_region="620100",
        from_earlier_fen=from_earlier_fen,
        offered_at_us=to_us(noon),
    )


def test_a_return_in_the_offers_year_caps_earlier_years_part_and_sends_the_rest_uncapped() -> None:
    ledger = RecordingLedger({chart.earmark("G1"): 30_000})

    returned = grant_money.return_left(
        context(ledger), SimpleNamespace(), grant(date(2026, 3, 1), 20_000)
    )

    assert not ledger.read_accounts()
    assert [(t.id, t.credit_account_id, t.amount, t.flags) for t in ledger.posted()] == [
        (
            "G1:return:old",
            chart.personal_earlier("620100", PSN),
            20_000,
            TransferFlags.BALANCING_DEBIT | TransferFlags.LINKED,
        ),
        (
            "G1:return:cur",
            chart.personal_current("620100", PSN),
            AMOUNT_MAX,
            TransferFlags.BALANCING_DEBIT,
        ),
    ]
    assert returned == 20_000 + 30_000  # what the stand-in says each transfer moved


def test_a_return_after_the_year_end_sends_everything_to_earlier_years() -> None:
    ledger = RecordingLedger({chart.earmark("G1"): 45_000})

    returned = grant_money.return_left(
        context(ledger, today=date(2027, 1, 5)), SimpleNamespace(), grant(date(2026, 3, 1), 0)
    )

    assert [(t.id, t.amount, t.flags) for t in ledger.posted()] == [
        ("G1:return:old", AMOUNT_MAX, TransferFlags.BALANCING_DEBIT)
    ]
    assert returned == 45_000


def test_the_rollover_sends_uncapped_balancing_transfers_and_counts_only_money_moved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    people = ["P620100000001", "P620100000002", "P620100000003"]
    keys = [AccountKey(chart.personal_current("620100", p), "620100", p) for p in people]
    monkeypatch.setattr(rollover.scans_repo, "accounts_with_code", lambda *args: keys)
    ledger = RecordingLedger(
        {keys[0].id: 500, keys[1].id: 0, keys[2].id: 300},
        known=[rollover.rollover_transfer_id(2026, "620100", people[2])],
    )

    moved, after = rollover.roll_over_batch(
        context(ledger), SimpleNamespace(connection=None), 2026, ""
    )

    assert (moved, after) == (
        1,
        None,
    )  # 0 fen moved is not a move; an earlier run's is not this run's
    assert [(t.amount, t.flags) for t in ledger.posted()] == [
        (AMOUNT_MAX, TransferFlags.BALANCING_DEBIT)
    ] * 3  # not the 777 fen the accounts read for their flags hold
