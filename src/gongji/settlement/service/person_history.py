"""What a hospital's HIS may read of a person's history across institutions on the national
interface: the year's accumulated figures (5206 人员累计信息查询) and the drugs dispensed for a
chronic or special disease (5205 人员慢特病用药记录查询), so that a doctor sees the deductible
already paid and what was already dispensed elsewhere before prescribing again.

Both answer only about a person the asking institution treats (a visit or a settlement there):
a bare ``psn_no`` would otherwise let any institution read anyone's medical history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import ClassVar, Final

from gongji.core.errors import GongjiError
from gongji.kernel.context import Context
from gongji.settlement.domain.items import ItemCategory
from gongji.settlement.service.catalogue import load_items
from gongji.settlement.store import settlements_repo, visits_repo
from gongji.store.uow import UnitOfWork

CHRONIC_MED_TYPES: Final = ("14",)
"""门诊慢特病: the settlements whose drugs 5205 lists."""
DRUG_RECORDS_MAX: Final = 2_000
PERIOD_DAYS_MAX: Final = 366
POOL_NAMES: Final = {"outpatient": "门诊统筹", "inpatient": "住院", "chronic": "门诊慢特病"}
"""The benefit pools the shipped policies name; a pool named by its med_type reads as such."""


class PersonNotTreatedHere(GongjiError):
    code: ClassVar[str] = "person_not_treated_here"
    message_zh: ClassVar[str] = "该人员在本机构无就诊或结算记录，不能查询其就医信息：{psn_no}"
    message_en: ClassVar[str] = "The person has no visit or settlement here: {psn_no}"


class HistoryPeriodInvalid(GongjiError):
    code: ClassVar[str] = "history_period_invalid"
    message_zh: ClassVar[str] = "查询起止日期不正确：开始日期应不晚于结束日期，且跨度不超过 366 天"
    message_en: ClassVar[str] = "The period must not run backwards nor span more than 366 days"


@dataclass(frozen=True, slots=True)
class Cumulative:
    """One accumulated figure of the year, through the end of a month (fen)."""

    insutype: str
    year: int
    cum_type_code: str
    cum_type_name: str
    cum_fen: int


@dataclass(frozen=True, slots=True)
class DrugRecord:
    """One drug line of a settled chronic-disease bill."""

    setl_id: str
    institution_code: str
    med_type: str
    business_date: str
    item_code: str
    item_name: str
    quantity: Decimal
    unit_price_fen: int
    det_item_fee_sumamt: int


def require_treated_here(uow: UnitOfWork, institution: str, psn_no: str) -> None:
    if visits_repo.visits_of_person(uow.connection, institution, psn_no, 1):
        return
    if settlements_repo.settled_at(uow.connection, psn_no, institution):
        return
    raise PersonNotTreatedHere(psn_no=psn_no)


def cumulative(
    uow: UnitOfWork, institution: str, psn_no: str, year: int, through: date
) -> list[Cumulative]:
    """The year's figures through ``through`` (inclusive), per insurance type and benefit pool:
    deductible paid (``dedc_<pool>``) and fund paid (``fund_<pool>``) per pool, then account
    paid (``acct_pay``) and medical fees (``medfee``) per insurance type. Reversals count."""
    require_treated_here(uow, institution, psn_no)
    rows = settlements_repo.person_sums(
        uow.connection, psn_no, f"{year:04d}-01-01", through.isoformat()
    )
    found: list[Cumulative] = []
    totals: dict[str, tuple[int, int]] = {}
    for insutype, pool, deductible, fund, account, medfee in rows:
        name = POOL_NAMES.get(pool) or (f"医疗类别 {pool}" if pool.isdigit() else pool)
        found.append(Cumulative(insutype, year, f"dedc_{pool}", f"{name}起付线累计", deductible))
        found.append(Cumulative(insutype, year, f"fund_{pool}", f"{name}基金支付累计", fund))
        account_sum, medfee_sum = totals.get(insutype, (0, 0))
        totals[insutype] = (account_sum + account, medfee_sum + medfee)
    for insutype, (account, medfee) in sorted(totals.items()):
        found.append(Cumulative(insutype, year, "acct_pay", "个人账户支付累计", account))
        found.append(Cumulative(insutype, year, "medfee", "医疗费用累计", medfee))
    return found


def chronic_drug_records(
    ctx: Context, uow: UnitOfWork, institution: str, psn_no: str, first: date, last: date
) -> list[DrugRecord]:
    """The drugs of the person's chronic-disease settlements (med_type 14) in the period, at
    every institution, reversed ones left out; oldest first, at most :data:`DRUG_RECORDS_MAX`
    drug lines (the bills' other lines are left out before counting)."""
    if last < first or (last - first).days >= PERIOD_DAYS_MAX:
        raise HistoryPeriodInvalid()
    require_treated_here(uow, institution, psn_no)
    rows = settlements_repo.live_items_of_person(
        uow.connection,
        psn_no,
        first.isoformat(),
        last.isoformat(),
        CHRONIC_MED_TYPES,
        (ItemCategory.DRUG.value,),
        DRUG_RECORDS_MAX,
    )
    items = load_items(ctx, uow, sorted({row.item_code for row in rows})) if rows else {}
    return [
        DrugRecord(
            row.setl_id,
            row.institution_code,
            row.med_type,
            row.business_date,
            row.item_code,
            items[row.item_code].name,
            Decimal(row.quantity),
            row.unit_price_fen,
            row.det_item_fee_sumamt,
        )
        for row in rows
    ]
