"""Reconciliation of totals (对总账, national transaction 3201), docs/rules.md §11.

An institution sends what it believes it settled over a period (count, ``medfee_sumamt``,
``fund_pay_sumamt``, ``acct_pay``), optionally for one insutype, one insured region (the
platform's ``setl_optins``) and one group of medical categories (``clr_type``); gongji sums its
own settlements of that institution over the same business dates and compares.

Reversals count: a reversal is a settlement with negated amounts, so it subtracts its amounts
and counts −1. A settled-then-reversed bill therefore nets to nothing, which is what the
institution's own ledger says once it has refunded the patient. The difference is reported as
the institution's figure minus gongji's, so a positive difference is money the institution
believes it settled and gongji does not know about.

The comparison is here, not in an entrypoint, so that the national interface, a REST route and
the detail upload (3202) all answer with the same figures.

The detail comparison (对明细账) takes the institution's list of settlements for a period
(``setl_id`` and its amounts, reversals as their own negative lines) and answers the
settlements that differ, both ways: gongji's that the institution does not list, the
institution's that gongji does not know for that period, and those both know with different
amounts. The file is checked whole first; a bad line refuses the file and names every bad line.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import ClassVar, Final

from gongji.core.errors import GongjiError
from gongji.core.money import parse_yuan
from gongji.institutions.service.institutions import get_institution
from gongji.kernel.context import Context
from gongji.settlement.store import settlements_repo
from gongji.settlement.store.settlements_repo import SettlementRow
from gongji.store.uow import UnitOfWork

PERIOD_DAYS_MAX: Final = 366
"""Longest period one reconciliation covers: a year, the longest a bureau closes at once."""

CLR_TYPES: Final[Mapping[str, frozenset[str]]] = {
    "11": frozenset({"11", "14"}),  # 门诊
    "21": frozenset({"21"}),  # 住院
    "41": frozenset({"41"}),  # 药店购药
}
"""Clearing categories (``clr_type``) and the medical categories each covers."""

DETAIL_AMOUNTS: Final = ("medfee_sumamt", "fund_pay_sumamt", "acct_pay")
DETAIL_COLUMNS: Final = ("setl_id", *DETAIL_AMOUNTS)
DETAIL_ROWS_MAX: Final = 20_000
"""Most settlements one detail comparison covers, on either side; a longer period is split."""
DETAIL_ERRORS_SHOWN_MAX: Final = 200
_SETL_ID: Final = re.compile(r"[A-Za-z0-9_.:-]{1,40}")


class ReconciliationPeriodInvalid(GongjiError):
    code: ClassVar[str] = "stmt_period_invalid"
    message_zh: ClassVar[str] = "对账起止日期不正确：{first} 至 {last}（最长 {days_max} 天）"
    message_en: ClassVar[str] = (
        "Invalid reconciliation period {first} to {last} (max {days_max} days)"
    )


class ReconciliationDetailInvalid(GongjiError):
    code: ClassVar[str] = "reconciliation_detail_invalid"
    message_zh: ClassVar[str] = "对账明细文件有 {count} 处不符合要求，未做对账"
    message_en: ClassVar[str] = "The detail file has {count} problems; nothing was compared"


class ReconciliationDetailTooLong(GongjiError):
    code: ClassVar[str] = "reconciliation_detail_too_long"
    message_zh: ClassVar[str] = "对账明细超过 {limit} 笔，请缩短对账期间后分次对账"
    message_en: ClassVar[str] = "More than {limit} settlements; reconcile a shorter period"


class DetailSetlIdInvalid(GongjiError):
    code: ClassVar[str] = "setl_id_invalid"
    message_zh: ClassVar[str] = "结算ID 不正确：{setl_id}"
    message_en: ClassVar[str] = "Invalid setl_id: {setl_id}"


class DetailAmountInvalid(GongjiError):
    code: ClassVar[str] = "detail_amount_invalid"
    message_zh: ClassVar[str] = "{field}：{reason}"
    message_en: ClassVar[str] = "{field}: {reason}"


@dataclass(frozen=True, slots=True)
class Totals:
    """A period's totals under the national names; amounts in fen."""

    fixmedins_setl_cnt: int
    medfee_sumamt: int
    fund_pay_sumamt: int
    acct_pay: int

    def minus(self, other: Totals) -> Totals:
        return Totals(
            self.fixmedins_setl_cnt - other.fixmedins_setl_cnt,
            self.medfee_sumamt - other.medfee_sumamt,
            self.fund_pay_sumamt - other.fund_pay_sumamt,
            self.acct_pay - other.acct_pay,
        )


ZERO: Final = Totals(0, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class Result:
    """gongji's totals, the institution's, and whether they agree (``stmt_rslt``)."""

    institution_code: str
    first: date
    last: date
    insutype: str | None
    ours: Totals
    theirs: Totals

    @property
    def difference(self) -> Totals:
        """The institution's figures minus gongji's."""
        return self.theirs.minus(self.ours)

    @property
    def balanced(self) -> bool:
        return self.difference == ZERO

    @property
    def stmt_rslt(self) -> str:
        """The national result code: ``0`` balanced (平), ``1`` not (不平)."""
        return "0" if self.balanced else "1"


def reconcile_totals(
    ctx: Context,
    uow: UnitOfWork,
    institution_code: str,
    first: date,
    last: date,
    insutype: str | None,
    theirs: Totals,
    *,
    insured_region: str | None = None,
    med_types: Collection[str] | None = None,
) -> Result:
    """Compare the institution's totals with gongji's over ``first``..``last`` (business dates,
    inclusive). ``None`` filters nothing. Reads only; a suspended institution may reconcile."""
    found = get_institution(ctx, uow, institution_code)
    _check_period(first, last)
    count, medfee, fund, acct = settlements_repo.totals(
        uow.connection,
        found.code,
        first.isoformat(),
        last.isoformat(),
        insutype=insutype,
        insured_region=insured_region,
        med_types=None if med_types is None else sorted(med_types),
    )
    return Result(found.code, first, last, insutype, Totals(count, medfee, fund, acct), theirs)


def _check_period(first: date, last: date) -> None:
    if first > last or (last - first).days >= PERIOD_DAYS_MAX:
        raise ReconciliationPeriodInvalid(
            first=first.isoformat(), last=last.isoformat(), days_max=PERIOD_DAYS_MAX
        )


# --- detail (对明细账) ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DetailLine:
    """One settlement as the institution lists it; amounts in fen, in DETAIL_AMOUNTS order."""

    line: int
    setl_id: str
    amounts: tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class DetailResult:
    institution_code: str
    first: date
    last: date
    matched: int
    ours_only: tuple[SettlementRow, ...]
    theirs_only: tuple[DetailLine, ...]
    amounts_differ: tuple[tuple[SettlementRow, DetailLine], ...]

    @property
    def balanced(self) -> bool:
        return not (self.ours_only or self.theirs_only or self.amounts_differ)

    @property
    def stmt_rslt(self) -> str:
        return "0" if self.balanced else "1"


def detail_amounts(row: SettlementRow) -> tuple[int, int, int]:
    return row.medfee_sumamt, row.fund_pay_sumamt, row.acct_pay


def parse_detail_csv(text: str) -> list[DetailLine]:
    """The institution's detail list (header ``setl_id,medfee_sumamt,fund_pay_sumamt,acct_pay``,
    other columns ignored), or a refusal naming every bad line (line 1 is the header)."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [name for name in DETAIL_COLUMNS if name not in (reader.fieldnames or ())]
    if missing:
        problem = {"line": 1, "message": f"缺少列：{'、'.join(missing)}"}
        raise ReconciliationDetailInvalid(count=1, errors=[problem])
    lines: list[DetailLine] = []
    errors: list[dict[str, object]] = []
    first_seen: dict[str, int] = {}
    for number, cells in enumerate(reader, start=2):
        if len(lines) >= DETAIL_ROWS_MAX:
            raise ReconciliationDetailTooLong(limit=DETAIL_ROWS_MAX)
        try:
            found = _detail_line(number, cells)
        except GongjiError as problem:
            errors.append({"line": number, "code": problem.code, "message": problem.message()})
            continue
        if found.setl_id in first_seen:
            message = f"结算ID {found.setl_id} 重复（首次出现在第 {first_seen[found.setl_id]} 行）"
            errors.append({"line": number, "code": "setl_id_duplicate", "message": message})
            continue
        first_seen[found.setl_id] = number
        lines.append(found)
    if errors:
        raise ReconciliationDetailInvalid(
            count=len(errors), errors=errors[:DETAIL_ERRORS_SHOWN_MAX]
        )
    return lines


def _detail_line(number: int, cells: Mapping[str, str | None]) -> DetailLine:
    setl_id = (cells.get("setl_id") or "").strip()
    if _SETL_ID.fullmatch(setl_id) is None:
        raise DetailSetlIdInvalid(setl_id=setl_id[:40])
    amounts = []
    for name in DETAIL_AMOUNTS:
        try:
            amounts.append(parse_yuan((cells.get(name) or "").strip(), allow_negative=True))
        except GongjiError as problem:
            raise DetailAmountInvalid(field=name, reason=problem.message()) from None
    medfee, fund, acct = amounts
    return DetailLine(number, setl_id, (medfee, fund, acct))


def reconcile_detail(
    ctx: Context,
    uow: UnitOfWork,
    institution_code: str,
    first: date,
    last: date,
    theirs: Sequence[DetailLine],
) -> DetailResult:
    """The settlements that differ between gongji's list and the institution's, both ways."""
    found = get_institution(ctx, uow, institution_code)
    _check_period(first, last)
    if len(theirs) > DETAIL_ROWS_MAX:
        raise ReconciliationDetailTooLong(limit=DETAIL_ROWS_MAX)
    ours = settlements_repo.list_for_institution(
        uow.connection, found.code, first.isoformat(), last.isoformat(), DETAIL_ROWS_MAX + 1
    )
    if len(ours) > DETAIL_ROWS_MAX:
        raise ReconciliationDetailTooLong(limit=DETAIL_ROWS_MAX)
    listed = {line.setl_id: line for line in theirs}
    known = {row.setl_id for row in ours}
    differ = [
        (row, listed[row.setl_id])
        for row in ours
        if row.setl_id in listed and detail_amounts(row) != listed[row.setl_id].amounts
    ]
    return DetailResult(
        institution_code=found.code,
        first=first,
        last=last,
        matched=len(known & listed.keys()) - len(differ),
        ours_only=tuple(row for row in ours if row.setl_id not in listed),
        theirs_only=tuple(line for line in theirs if line.setl_id not in known),
        amounts_differ=tuple(differ),
    )
