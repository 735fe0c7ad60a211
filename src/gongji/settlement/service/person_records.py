"""Records a person understands (我的记录): every settlement that touched them — as the patient,
or as the contributor whose grant or authorization paid — with the date, the institution's
name, what the bill came to and who paid it (own account, family money, the fund, cash), the
items, and per month the totals.

For the patient all four parts are theirs to see; for a contributor only what their own money
paid and for whom (a masked name): the rest of a relative's bill is the relative's business.
A reversal appears as its own line with negative amounts, as on the ledger.

A guardian (亲情账户, docs/rules.md §17) reads the holder's records exactly as she reads them
herself, but only after guardian mode's check (consent and an active relationship) passes —
the reading then stands in her history as a voucher shown does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Final

from gongji.institutions.service.institutions import get_institution
from gongji.kernel.context import Actor, Context
from gongji.kernel.errors import NotFound
from gongji.mutual_aid.service import guardians
from gongji.people.service import registry
from gongji.settlement.store import catalogue_repo, settlements_repo
from gongji.settlement.store import person_records_repo as repo
from gongji.settlement.store.settlements_repo import DrawRow, SettlementRow
from gongji.store.uow import UnitOfWork

MONTHS_SHOWN: Final = 12
ROWS_MAX: Final = 500


@dataclass(frozen=True, slots=True)
class Item:
    name: str
    code: str
    quantity: str
    amount_fen: int


@dataclass(frozen=True, slots=True)
class Record:
    setl_id: str
    business_date: str
    institution: str
    reversal: bool
    as_patient: bool
    patient: str  # masked name; the person themselves when as_patient
    medfee_fen: int
    own_fen: int
    family_fen: int
    fund_fen: int
    cash_fen: int
    mine_fen: int  # as contributor: what the person's money paid
    items: tuple[Item, ...]

    @property
    def month(self) -> str:
        return self.business_date[:7]


@dataclass(frozen=True, slots=True)
class MonthTotal:
    month: str
    medfee_fen: int
    own_fen: int
    family_fen: int
    fund_fen: int
    cash_fen: int
    given_fen: int  # paid by the person's money for relatives

    @property
    def spent_fen(self) -> int:
        return self.own_fen + self.family_fen + self.cash_fen + self.given_fen


def records(ctx: Context, uow: UnitOfWork, psn_no: str, month: str | None = None) -> list[Record]:
    since = _since(ctx.today()) if month is None else f"{month}-01"
    mine = repo.settlements_of_patient(uow.connection, psn_no, since, ROWS_MAX)
    on_me = repo.draws_on_contributor(uow.connection, psn_no, since, ROWS_MAX)
    theirs = {d.setl_id for d in on_me} - {s.setl_id for s in mine}
    others = repo.settlements_by_id(uow.connection, theirs)
    others += repo.reversals_of(uow.connection, theirs)
    draws = repo.draws_of_settlements(uow.connection, [s.setl_id for s in mine])
    names = _Names(ctx, uow)
    found = [_as_patient(uow, s, draws, names) for s in mine]
    found += [_as_contributor(s, on_me, names) for s in others]
    if month is not None:
        found = [r for r in found if r.month == month]
    return sorted(found, key=lambda r: (r.business_date, r.setl_id), reverse=True)


@dataclass(frozen=True, slots=True)
class HolderRecords:
    name_masked: str  # whose records the guardian reads
    records: list[Record]


def records_for_guardian(
    ctx: Context, uow: UnitOfWork, guardian: Actor, holder: str, month: str | None = None
) -> HolderRecords:
    """The holder's records for her guardian, or ``guardian_not_allowed`` with nothing read;
    the reading is written to her history, so the caller commits."""
    name = guardians.open_records(ctx, uow, guardian, holder)
    return HolderRecords(name, records(ctx, uow, holder, month))


def month_totals(found: Iterable[Record]) -> list[MonthTotal]:
    sums: dict[str, list[int]] = {}
    for record in found:
        row = sums.setdefault(record.month, [0] * 6)
        parts = (
            record.medfee_fen,
            record.own_fen,
            record.family_fen,
            record.fund_fen,
            record.cash_fen,
        )
        if record.as_patient:
            for index, value in enumerate(parts):
                row[index] += value
        else:
            row[5] += record.mine_fen
    return [MonthTotal(month, *values) for month, values in sorted(sums.items(), reverse=True)]


def _since(today: date) -> str:
    year, month = today.year, today.month - MONTHS_SHOWN + 1
    while month <= 0:
        year, month = year - 1, month + 12
    return f"{year:04d}-{month:02d}-01"


class _Names:
    """Institution, item and person names, each read once per page."""

    def __init__(self, ctx: Context, uow: UnitOfWork) -> None:
        self._ctx, self._uow = ctx, uow
        self._institutions: dict[str, str] = {}
        self._people: dict[str, str] = {}

    def institution(self, code: str) -> str:
        if code not in self._institutions:
            try:
                found = get_institution(self._ctx, self._uow, code).institution.name
            except NotFound:
                found = code
            self._institutions[code] = found
        return self._institutions[code]

    def person(self, psn_no: str) -> str:
        if psn_no not in self._people:
            found = registry.person(self._uow.connection, psn_no)
            self._people[psn_no] = found.name_masked if found else ""
        return self._people[psn_no]


def _as_patient(uow: UnitOfWork, row: SettlementRow, draws: list[DrawRow], names: _Names) -> Record:
    own = sum(d.amount_fen for d in draws if d.setl_id == row.setl_id and d.kind == "own")
    family = row.acct_pay - own
    return Record(
        row.setl_id, row.business_date, names.institution(row.institution_code),
        row.kind == "reversal", True, names.person(row.psn_no), row.medfee_sumamt,
        own, family, row.fund_pay_sumamt, row.psn_cash_pay, 0, _items(uow, row),
    )  # fmt: skip


def _as_contributor(row: SettlementRow, on_me: list[DrawRow], names: _Names) -> Record:
    """A reversal stores no draws of its own: it gives back exactly what its original drew."""
    original = row.reverses if row.kind == "reversal" and row.reverses else row.setl_id
    sign = -1 if original != row.setl_id else 1
    mine = sign * sum(d.amount_fen for d in on_me if d.setl_id == original)
    return Record(
        row.setl_id, row.business_date, names.institution(row.institution_code),
        row.kind == "reversal", False, names.person(row.psn_no), 0, 0, 0, 0, 0, mine, (),
    )  # fmt: skip


def _items(uow: UnitOfWork, row: SettlementRow) -> tuple[Item, ...]:
    setl_id = row.reverses if row.kind == "reversal" and row.reverses else row.setl_id
    lines = settlements_repo.items_of(uow.connection, setl_id)
    catalogue = catalogue_repo.items_by_code(uow.connection, [line.item_code for line in lines])
    sign = -1 if row.kind == "reversal" else 1
    return tuple(
        Item(
            catalogue[line.item_code].name if line.item_code in catalogue else line.item_code,
            line.item_code,
            line.quantity,
            sign * line.det_item_fee_sumamt,
        )
        for line in lines
    )
