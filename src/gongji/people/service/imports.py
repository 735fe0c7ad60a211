"""Operators' imports (docs/rules.md §2–§3): persons with an enrolment and opening balances, monthly
injections (划入), kinship registry records, regions.

All or nothing. Every line of a file is checked first, against the file and against the
database, and every problem is reported with its line; if there is any, nothing is written.
Otherwise the whole file is written in the caller's unit of work (the caller commits: one file,
one transaction), so a crash half-way leaves nothing half-imported.

Idempotent. Importing the same file again changes nothing: persons and enrolments are found
unchanged, ledger transfers have deterministic ids (``open:…``, ``inj:{region}:{psn_no}:{month}``)
that the ledger reports as ``exists``, kinship records and regions are compared before writing.
What would silently change posted money (another opening balance, another amount for a month
already injected) is a line error instead: a posted transfer is never edited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from gongji.core.enrolment import INSUTYPE_EMPLOYEE, EnrolmentStatus
from gongji.core.errors import GongjiError
from gongji.core.importing import CsvHeaderInvalid, CsvRow, LineError, read_csv_table
from gongji.core.money import format_yuan
from gongji.core.regions import parse_regions_csv
from gongji.kernel import chart
from gongji.kernel.context import Context
from gongji.kernel.errors import LedgerRefused, PersonExists
from gongji.ledger.types import (
    SUCCESS_RESULTS,
    AccountFlags,
    CreateAccountResult,
    CreateTransferResult,
    NewAccount,
    Transfer,
)
from gongji.people.domain import import_errors
from gongji.people.service.import_rows import (
    INJECTION_COLUMNS,
    KINSHIP_COLUMNS,
    PERSON_COLUMNS,
    InjectionLine,
    KinshipLine,
    parse_injection,
    parse_kinship_line,
    parse_person,
)
from gongji.people.service.persons import PersonInput, register_person
from gongji.people.store import people_repo
from gongji.store import reference_repo
from gongji.store.rows import KinshipRow
from gongji.store.uow import UnitOfWork, run_in_transaction

ProgressCallback = Callable[[int, int], None]
"""Called with (done, total) while a file is checked and written; total counts both passes."""

PROGRESS_STEP: Final = 200
TRANSFER_BATCH_MAX: Final = 1_000
SOURCE_LENGTH_MAX: Final = 64


class ImportKind(StrEnum):
    PERSONS = "persons"
    INJECTIONS = "injections"
    KINSHIP = "kinship"
    REGIONS = "regions"


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import did: ``created`` lines wrote something, ``unchanged`` lines were there."""

    kind: ImportKind
    lines: int
    created: int
    unchanged: int
    errors: list[LineError]

    @property
    def ok(self) -> bool:
        return not self.errors


class _Meter:
    """Progress, reported every ``PROGRESS_STEP`` lines: a call per line would cost more than
    the line itself on a terminal."""

    def __init__(self, callback: ProgressCallback | None, total: int) -> None:
        self._callback, self.total, self.done, self._reported = callback, total, 0, 0
        self._report()

    def step(self, count: int = 1) -> None:
        self.done += count
        if self.done - self._reported >= PROGRESS_STEP or self.done >= self.total:
            self._report()

    def _report(self) -> None:
        if self._callback is not None:
            self._callback(self.done, self.total)
            self._reported = self.done


def _data_lines(rows: list[CsvRow], errors: list[LineError]) -> int:
    return len(rows) + sum(1 for error in errors if error.code != CsvHeaderInvalid.code)


def _refused(kind: ImportKind, lines: int, errors: list[LineError]) -> ImportResult:
    return ImportResult(kind, lines, 0, 0, sorted(errors, key=lambda error: error.line))


# --- persons -------------------------------------------------------------------------------


def import_persons(
    ctx: Context, uow: UnitOfWork, text: str, *, progress: ProgressCallback | None = None
) -> ImportResult:
    """Register every person of the file (an enrolment each; 310 opens the personal account)."""
    rows, errors = read_csv_table(text, PERSON_COLUMNS)
    lines, meter = _data_lines(rows, errors), _Meter(progress, 2 * len(rows))
    checked = _check_persons(ctx, uow, rows, errors, meter)
    if errors:
        return _refused(ImportKind.PERSONS, lines, errors)
    created = 0
    for data in checked:
        registered = register_person(ctx, uow, data)
        created += registered.created_person or registered.created_enrolment
        meter.step()
    return ImportResult(ImportKind.PERSONS, lines, created, len(checked) - created, [])


def _check_persons(
    ctx: Context, uow: UnitOfWork, rows: list[CsvRow], errors: list[LineError], meter: _Meter
) -> list[PersonInput]:
    checked: list[PersonInput] = []
    first_line_of: dict[str, int] = {}  # psn_no and ID number → the line that first named it
    today = ctx.today()
    for row in rows:
        try:
            data = parse_person(row.cells, today=today, regions=ctx.regions)
            _check_unique_in_file(data, row.line, first_line_of)
            _check_person_in_store(ctx, uow, data)
        except GongjiError as error:
            errors.append(LineError.of(row.line, error))
        else:
            checked.append(data)
        meter.step()
    return checked


def _check_unique_in_file(data: PersonInput, line: int, first_line_of: dict[str, int]) -> None:
    psn_key, id_key = f"psn:{data.psn_no}", f"id:{data.id_number}"
    if psn_key in first_line_of:
        raise import_errors.PsnNoDuplicate(psn_no=data.psn_no, first_line=first_line_of[psn_key])
    if id_key in first_line_of:
        raise import_errors.IdNumberDuplicate(first_line=first_line_of[id_key])
    first_line_of[psn_key] = first_line_of[id_key] = line


def _check_person_in_store(ctx: Context, uow: UnitOfWork, data: PersonInput) -> None:
    """What register_person would refuse, found now so that it becomes a line error."""
    id_hash = ctx.vault.id_number_hash(data.id_number)
    known = people_repo.person(uow.connection, data.psn_no)
    if known is not None and known.id_hash != id_hash:
        raise PersonExists(psn_no=data.psn_no)
    holder = people_repo.person_by_id_hash(uow.connection, id_hash)
    if holder is not None and holder.psn_no != data.psn_no:
        raise PersonExists(psn_no=data.psn_no)
    if data.insutype == INSUTYPE_EMPLOYEE:
        _check_opening_balances(ctx, uow, data)


def _check_opening_balances(ctx: Context, uow: UnitOfWork, data: PersonInput) -> None:
    """An opened account keeps the opening balances it was opened with (none posted = 0)."""
    region, psn_no = data.region, data.psn_no
    if not ctx.ledger.accounts_in(uow, [chart.personal_current(region, psn_no)]):
        return
    # The ids persons.open_personal_account gives the opening transfers.
    asked = {f"open:{region}:{psn_no}:cur": data.current_fen}
    asked[f"open:{region}:{psn_no}:old"] = data.earlier_fen
    recorded = ctx.ledger.transfers_in(uow, asked)
    for transfer_id, amount_fen in asked.items():
        found = recorded.get(transfer_id)
        if (found.amount if found is not None else 0) != amount_fen:
            raise import_errors.OpeningBalanceConflict(psn_no=psn_no)


# --- injections ----------------------------------------------------------------------------


def import_injections(
    ctx: Context, uow: UnitOfWork, text: str, *, progress: ProgressCallback | None = None
) -> ImportResult:
    """Post each month's injection into the person's this-year personal account, once."""
    rows, errors = read_csv_table(text, INJECTION_COLUMNS)
    lines, meter = _data_lines(rows, errors), _Meter(progress, 2 * len(rows))
    planned = _check_injections(ctx, uow, rows, errors, meter)
    if errors:
        return _refused(ImportKind.INJECTIONS, lines, errors)
    created = 0
    for start in range(0, len(planned), TRANSFER_BATCH_MAX):
        batch = planned[start : start + TRANSFER_BATCH_MAX]
        created += _post_injections(ctx, uow, batch)
        meter.step(len(batch))
    return ImportResult(ImportKind.INJECTIONS, lines, created, len(planned) - created, [])


def injection_transfer(region: str, line: InjectionLine) -> Transfer:
    """The month's injection; its id makes a second import of the same month a no-op."""
    return Transfer(
        f"inj:{region}:{line.psn_no}:{line.month}",
        chart.injection_source(region),
        chart.personal_current(region, line.psn_no),
        line.amount_fen,
        chart.LEDGER_CNY,
        chart.TransferCode.INJECTION,
        ref=line.psn_no,
    )


def _check_injections(
    ctx: Context, uow: UnitOfWork, rows: list[CsvRow], errors: list[LineError], meter: _Meter
) -> list[Transfer]:
    planned: dict[int, Transfer] = {}
    first_line_of: dict[tuple[str, str], int] = {}
    regions: dict[str, str | GongjiError] = {}  # psn_no → where the account is, or why not
    today = ctx.today()
    for row in rows:
        try:
            line = parse_injection(row.line, row.cells, today=today)
            key = (line.psn_no, line.month)
            if key in first_line_of:
                raise import_errors.InjectionDuplicate(
                    psn_no=line.psn_no, month=line.month, first_line=first_line_of[key]
                )
            first_line_of[key] = row.line
            planned[row.line] = injection_transfer(_target(ctx, uow, line.psn_no, regions), line)
        except GongjiError as error:
            errors.append(LineError.of(row.line, error))
        meter.step()
    errors.extend(_conflicts(ctx, uow, planned))
    return list(planned.values())


def _target(ctx: Context, uow: UnitOfWork, psn_no: str, cache: dict[str, str | GongjiError]) -> str:
    """The region of the person's personal account, or the refusal (asked once per person)."""
    if psn_no not in cache:
        try:
            cache[psn_no] = _injection_region(ctx, uow, psn_no)
        except GongjiError as error:
            cache[psn_no] = error
    found = cache[psn_no]
    if isinstance(found, GongjiError):
        raise found
    return found


def _injection_region(ctx: Context, uow: UnitOfWork, psn_no: str) -> str:
    if people_repo.person(uow.connection, psn_no) is None:
        raise import_errors.PersonUnknown(psn_no=psn_no)
    enrolment = people_repo.current_enrolment(uow.connection, psn_no)
    if (
        enrolment is None
        or enrolment.insutype != INSUTYPE_EMPLOYEE
        or enrolment.status == EnrolmentStatus.TERMINATED.value
    ):
        raise import_errors.InjectionNoEmployeeEnrolment(psn_no=psn_no)
    account_id = chart.personal_current(enrolment.region, psn_no)
    account = ctx.ledger.accounts_in(uow, [account_id]).get(account_id)
    if account is not None and account.flags & AccountFlags.CLOSED:
        raise import_errors.PersonalAccountClosed(psn_no=psn_no)
    return enrolment.region


def _conflicts(ctx: Context, uow: UnitOfWork, planned: dict[int, Transfer]) -> list[LineError]:
    """Months already injected with another amount: refused, and not planned again."""
    recorded = ctx.ledger.transfers_in(uow, [t.id for t in planned.values()])
    errors: list[LineError] = []
    for line, transfer in list(planned.items()):
        found = recorded.get(transfer.id)
        if found is not None and found.amount != transfer.amount:
            month = transfer.id.rsplit(":", 1)[1]
            error = import_errors.InjectionConflict(
                psn_no=transfer.ref,
                month=month,
                recorded=format_yuan(found.amount),
                amount=format_yuan(transfer.amount),
            )
            errors.append(LineError.of(line, error))
            del planned[line]
    return errors


def _post_injections(ctx: Context, uow: UnitOfWork, batch: list[Transfer]) -> int:
    """Post one batch; returns how many were new (the others the ledger already had)."""
    opened = ctx.ledger.create_accounts_in(uow, _accounts_of(batch))
    if not set(opened) <= {CreateAccountResult.OK, CreateAccountResult.EXISTS}:
        raise LedgerRefused("injection accounts", opened)
    results = ctx.ledger.create_transfers_in(uow, batch)
    if not set(results) <= SUCCESS_RESULTS:
        raise LedgerRefused("injections", results)
    return results.count(CreateTransferResult.OK)


def _accounts_of(batch: Iterable[Transfer]) -> list[NewAccount]:
    """Both sides, created if missing (an enrolment moved in from elsewhere may lack them)."""
    wanted: dict[str, NewAccount] = {}
    for transfer in batch:
        region = transfer.debit_account_id.removeprefix("inj:")
        psn_no = transfer.ref or ""
        for account in (chart.injection_account(region), *chart.personal_accounts(region, psn_no)):
            wanted[account.id] = account
    return list(wanted.values())


# --- kinship registry ----------------------------------------------------------------------


def import_kinship(
    ctx: Context,
    uow: UnitOfWork,
    text: str,
    *,
    source: str,
    progress: ProgressCallback | None = None,
) -> ImportResult:
    """Store registry records as keyed hashes only: the registry's ID numbers stay out of gongji.

    ``source`` (the file name) is kept with each record, so a reviewer can say where it came from.
    """
    rows, errors = read_csv_table(text, KINSHIP_COLUMNS)
    lines, meter = _data_lines(rows, errors), _Meter(progress, 2 * len(rows))
    parsed: list[KinshipLine] = []
    today = ctx.today()
    for row in rows:
        try:
            parsed.append(parse_kinship_line(row.line, row.cells, today=today))
        except GongjiError as error:
            errors.append(LineError.of(row.line, error))
        meter.step()
    if errors:
        return _refused(ImportKind.KINSHIP, lines, errors)
    created = 0
    for item in parsed:
        created += _store_kinship(ctx, uow, item, source[:SOURCE_LENGTH_MAX])
        meter.step()
    return ImportResult(ImportKind.KINSHIP, lines, created, len(parsed) - created, [])


def _store_kinship(ctx: Context, uow: UnitOfWork, item: KinshipLine, source: str) -> bool:
    record: KinshipRow = {
        "person_hash": ctx.vault.id_number_hash(item.id_number),
        "relative_hash": ctx.vault.id_number_hash(item.relative_id_number),
        "kind": item.kind.value,
        "source": source,
        "imported_at_us": ctx.now_us(),
    }
    return people_repo.insert_kinship_record(uow.connection, record)


# --- regions -------------------------------------------------------------------------------


def import_regions(
    ctx: Context, uow: UnitOfWork, text: str, *, progress: ProgressCallback | None = None
) -> ImportResult:
    """Store the bureau's regions and use them at once in this process (``ctx.regions``).

    The caller commits right after; other processes pick the stored regions up at start.
    """
    parsed, errors = parse_regions_csv(text)
    lines = len(parsed) + sum(1 for error in errors if error.code != CsvHeaderInvalid.code)
    meter = _Meter(progress, 2 * len(parsed))
    meter.step(len(parsed))
    if errors:
        return _refused(ImportKind.REGIONS, lines, errors)
    created = 0
    for region in parsed:
        created += reference_repo.save_region(uow.connection, region)
        meter.step()
    ctx.regions.update({region.code: region for region in parsed})
    return ImportResult(ImportKind.REGIONS, lines, created, len(parsed) - created, [])


def merge_stored_regions(ctx: Context) -> int:
    """Merge the regions bureaus imported over the shipped ones (at start); returns how many."""
    stored = run_in_transaction(
        ctx.engine, lambda uow: reference_repo.stored_regions(uow.connection), read_only=True
    )
    ctx.regions.update({region.code: region for region in stored})
    return len(stored)
