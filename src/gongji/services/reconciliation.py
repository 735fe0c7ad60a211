"""Reconciliation of totals (对总账, national transaction 3201), DOMAIN.md §11.

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
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import ClassVar, Final

from gongji.domain.errors import GongjiError
from gongji.services.context import Context
from gongji.services.institutions import get_institution
from gongji.store import settlements_repo
from gongji.store.uow import UnitOfWork

PERIOD_DAYS_MAX: Final = 366
"""Longest period one reconciliation covers: a year, the longest a bureau closes at once."""


class ReconciliationPeriodInvalid(GongjiError):
    code: ClassVar[str] = "stmt_period_invalid"
    message_zh: ClassVar[str] = "对账起止日期不正确：{first} 至 {last}（最长 {days_max} 天）"
    message_en: ClassVar[str] = (
        "Invalid reconciliation period {first} to {last} (max {days_max} days)"
    )


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
    if first > last or (last - first).days >= PERIOD_DAYS_MAX:
        raise ReconciliationPeriodInvalid(
            first=first.isoformat(), last=last.isoformat(), days_max=PERIOD_DAYS_MAX
        )
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
