"""The transactions gongji answers on the national interface, by ``infno``, and 3201
(reconciliation of totals); 1101 (person information) is in ``person_info``. Sign-in and
sign-out (9001, 9002) are in ``fsi_sign_in``.

Each transaction answers on ``callService`` and on its own path ``/fsi/api/<module>/<infno>``
(:func:`path_of`, from :data:`SERVICES`), so a transaction added to the table has its path.

Each transaction is a function ``(ctx, uow, envelope, institution code) → output`` run in one
unit of work; ``writes`` says whether it may commit. Adding a transaction is one line in
:data:`TRANSACTIONS` and its function.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar, Final

from gongji.core.errors import GongjiError
from gongji.core.money import parse_yuan
from gongji.fsi.domain import fields
from gongji.fsi.http import (
    analysis,
    files,
    queries,
    replayable,
    reversal,
    settlement,
    stays,
    visits,
)
from gongji.fsi.http.envelope import REGION_PATTERN, Envelope
from gongji.fsi.http.person_info import person_info, person_info_reads
from gongji.fsi.http.sign_in import sign_in, sign_out
from gongji.kernel.context import Context
from gongji.settlement.service.reconciliation import CLR_TYPES, Result, Totals, reconcile_totals
from gongji.store.raw import Read
from gongji.store.uow import UnitOfWork

Handler = Callable[[Context, UnitOfWork, Envelope, str], Mapping[str, Any]]

TOTAL_LABELS: Final = {
    "fixmedins_setl_cnt": "结算笔数",
    "medfee_sumamt": "医疗费总额",
    "fund_pay_sumamt": "基金支付总额",
    "acct_pay": "个人账户支付总额",
}
_ID: Final = re.compile(r"[A-Za-z0-9_.:-]{1,40}")
_INSUTYPE: Final = re.compile(r"[0-9]{3}")
_DATE: Final = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})( [0-9]{2}:[0-9]{2}:[0-9]{2})?")
_COUNT: Final = re.compile(r"-?[0-9]{1,9}")


class FsiInfnoUnknown(GongjiError):
    code: ClassVar[str] = "fsi_infno_unknown"
    message_zh: ClassVar[str] = "不支持的交易编号：{infno}"
    message_en: ClassVar[str] = "Unsupported transaction: {infno}"


ReadsAhead = Callable[[Context, Envelope, str], list[Read]]
"""What a handler will read first, from the message alone (it must not raise): made with the
message's nonce check, in one round trip on PostgreSQL."""


@dataclass(frozen=True, slots=True)
class Transaction:
    name_zh: str
    handler: Handler
    writes: bool
    reads_ahead: ReadsAhead | None = None


def _once(name_zh: str, handler: Handler) -> Transaction:
    """A writing transaction run once per ``msgid`` (its handler wrapped in
    ``replayable.once``), which reads its ``msgid``'s record with the nonce check."""
    return Transaction(name_zh, handler, writes=True, reads_ahead=replayable.reads_ahead)


def reconcile(ctx: Context, uow: UnitOfWork, env: Envelope, institution: str) -> dict[str, Any]:
    """3201: the institution's totals for a period against gongji's; ``stmt_rslt`` 0 = 平."""
    data = fields.child(env.input, "data")
    insutype = fields.required_text(data, "insutype", pattern=_INSUTYPE)
    clr_type = fields.text(data, "clr_type", required=False)
    if clr_type is not None and clr_type not in CLR_TYPES:
        raise fields.FsiFieldInvalid(field="clr_type", expected="（应为 11、21 或 41）")
    setl_optins = fields.text(data, "setl_optins", required=False, pattern=REGION_PATTERN)
    theirs = Totals(
        int(fields.required_text(data, "fixmedins_setl_cnt", pattern=_COUNT)),
        _amount(data, "medfee_sumamt"),
        _amount(data, "fund_pay_sumamt"),
        _amount(data, "acct_pay"),
    )
    result = reconcile_totals(
        ctx,
        uow,
        institution,
        _date(data, "stmt_begndate"),
        _date(data, "stmt_enddate"),
        insutype,
        theirs,
        insured_region=setl_optins,
        med_types=None if clr_type is None else CLR_TYPES[clr_type],
    )
    return {
        "stmtinfo": {
            "setl_optins": setl_optins,
            "stmt_rslt": result.stmt_rslt,
            "stmt_rslt_dscr": describe(result),
        },
        "plaf_totals": totals_out(result.ours),
        "diff": totals_out(result.difference),
    }


def describe(result: Result) -> str:
    """``对账平``, or what differs, the institution's figure minus gongji's."""
    if result.balanced:
        return "对账平"
    differences = totals_out(result.difference)
    parts = [
        f"{TOTAL_LABELS[name]}相差 {value}" for name, value in differences.items() if value != 0
    ]
    return "对账不平：" + "；".join(parts)


def totals_out(totals: Totals) -> dict[str, Any]:
    return {
        "fixmedins_setl_cnt": totals.fixmedins_setl_cnt,
        **settlement.yuan(
            {
                "medfee_sumamt": totals.medfee_sumamt,
                "fund_pay_sumamt": totals.fund_pay_sumamt,
                "acct_pay": totals.acct_pay,
            }
        ),
    }


def _amount(data: fields.Node, name: str) -> int:
    """A total may be negative (more refunded than settled), unlike a bill's amounts."""
    value = data.get(name)
    if value is None or value == "":
        raise fields.FsiFieldMissing(field=name)
    try:
        return parse_yuan(value, allow_negative=True)
    except GongjiError as refused:
        refused.detail["field"] = name
        raise


def _date(data: fields.Node, name: str) -> date:
    text = fields.required_text(data, name, pattern=_DATE)
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise fields.FsiFieldInvalid(field=name, expected="（应为 yyyy-MM-dd）") from None


TRANSACTIONS: Final[Mapping[str, Transaction]] = {
    # 1101 writes the record of the look-up (people.service.lookups), nothing else.
    "1101": Transaction("人员信息获取", person_info, writes=True, reads_ahead=person_info_reads),
    "2101": Transaction("药店预结算", settlement.pre_settle, writes=False),
    "2102": Transaction(
        "药店结算", settlement.settle, writes=True, reads_ahead=settlement.settle_reads
    ),
    "2103": Transaction("药店结算撤销", settlement.reverse, writes=True),
    "2201": _once("门诊挂号", visits.register),
    "2202": _once("门诊挂号撤销", visits.unregister),
    "2203": _once("门诊就诊信息上传", visits.visit_info),
    "2204": _once("门诊费用明细信息上传", visits.upload),
    "2205": _once("门诊费用明细信息撤销", visits.revoke),
    "2206": Transaction("门诊预结算", settlement.pre_settle, writes=False),
    "2207": Transaction(
        "门诊结算", settlement.settle, writes=True, reads_ahead=settlement.settle_reads
    ),
    "2208": Transaction("门诊结算撤销", settlement.reverse, writes=True),
    "2301": _once("住院费用明细上传", stays.upload),
    "2302": _once("住院费用明细撤销", stays.revoke),
    "2303": Transaction("住院预结算", settlement.pre_settle, writes=False),
    "2304": Transaction(
        "住院结算", settlement.settle, writes=True, reads_ahead=settlement.settle_reads
    ),
    "2305": Transaction("住院结算撤销", settlement.reverse, writes=True),
    "2401": _once("入院办理", stays.admit),
    "2402": _once("出院办理", stays.discharge),
    "2404": _once("入院办理撤销", stays.cancel_admission),
    "2405": _once("出院办理撤销", stays.cancel_discharge),
    "2601": _once("冲正交易", reversal.reverse_message),
    "3101": Transaction("明细审核事前分析", analysis.pre_analysis, writes=False),
    "3102": Transaction("明细审核事中分析", analysis.in_analysis, writes=False),
    "3201": Transaction("医药机构费用结算对总账", reconcile, writes=False),
    "3202": Transaction("医药机构费用结算对明细账", queries.reconcile_detail, writes=False),
    "5201": Transaction("就诊信息查询", queries.visit_query, writes=False),
    "5202": Transaction("诊断信息查询", queries.diagnosis_query, writes=False),
    "5203": Transaction("结算信息查询", queries.settlement_query, writes=False),
    "5204": Transaction("费用明细查询", queries.fee_query, writes=False),
    "5205": Transaction("人员慢特病用药记录查询", queries.chronic_drug_query, writes=False),
    "5206": Transaction("人员累计信息查询", queries.cumulative_query, writes=False),
    "9001": Transaction("签到", sign_in, writes=False),
    "9002": Transaction("签退", sign_out, writes=False),
    "9101": Transaction("文件上传", files.upload, writes=True),
    "9102": Transaction("文件下载", files.download, writes=False),
}


SERVICES: Final[Mapping[str, str]] = {
    "11": "fsiPsnInfoService",
    "21": "drugstoreSettleService",
    "22": "outpatientSettleService",
    "23": "hospSettService",
    "24": "hospitalInpatientService",
    "26": "fsiRevsService",
    "31": "preAnalysisService",
    "32": "ybSettlementStmtService",
    "52": "fsiIntegratedQueryService",
    "90": "signInSignOutService",
    "91": "fileService",
}
"""The module of each transaction group (the first two digits of ``infno``), as a province's
gateway names the service: a transaction's own path is ``/<module>/<infno>`` (:func:`path_of`)."""


def path_of(infno: str) -> str:
    """The per-transaction path of a transaction, below ``/fsi/api``: ``/hospSettService/2304``."""
    return f"/{SERVICES[infno[:2]]}/{infno}"


def transaction(infno: str) -> Transaction:
    found = TRANSACTIONS.get(infno)
    if found is None:
        raise FsiInfnoUnknown(infno=infno)
    return found
