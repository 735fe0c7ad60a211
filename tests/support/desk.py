"""Institutions, a test catalogue and settlement requests, for settlement tests."""

from __future__ import annotations

from decimal import Decimal

from gongji.institutions.domain.institutions import (
    Institution,
    InstitutionKind,
    InstitutionLevel,
    InstitutionStatus,
)
from gongji.institutions.service import institutions
from gongji.kernel.context import SYSTEM, Context
from gongji.settlement.domain.bill import LineIn, SettleRequest
from gongji.settlement.service import catalogue
from support.world import run

HOSPITAL, PHARMACY = "H62010000001", "P37010000001"

# Items whose arithmetic is easy to follow by hand:
# TA = class A 甲类, all in scope; TB = class B 乙类 with 100 % first self-pay (the fund pays
# nothing, all of it may be paid from accounts); TC = class C 丙类, full self-pay (cash only).
TEST_CATALOGUE = """\
code,name,item_class,selfpay_prop,price_ceiling,account_payable,category,in_catalogue
TA,测试甲类药品,A,0,,1,drug,1
TB,测试乙类全自付药品,B,1,,1,drug,1
TC,测试丙类药品,C,1,,1,drug,1
TW,测试保健品,C,1,,0,wellness,0
"""


def open_desks(ctx: Context) -> None:
    desks = [
        Institution(
            HOSPITAL,
            "兰州测试医院",
            "620100",
            InstitutionKind.HOSPITAL,
            InstitutionLevel.TERTIARY,
            True,
            InstitutionStatus.ACTIVE,
        ),
        Institution(
            PHARMACY,
            "济南测试药房",
            "370100",
            InstitutionKind.PHARMACY,
            InstitutionLevel.NONE,
            True,
            InstitutionStatus.ACTIVE,
        ),
    ]
    for desk in desks:
        run(ctx, lambda uow: institutions.register_institution(ctx, uow, SYSTEM, desk))
    result = run(ctx, lambda uow: catalogue.import_catalogue(ctx, uow, TEST_CATALOGUE))
    assert result.ok, result.errors


def bill(
    psn_no: str,
    request_id: str,
    *lines: tuple[str, str, int],
    med_type: str = "41",
    institution: str = PHARMACY,
    acct_used: bool = True,
) -> SettleRequest:
    """lines: (item code, quantity, unit price in fen)."""
    return SettleRequest(
        institution_code=institution,
        request_id=request_id,
        psn_no=psn_no,
        med_type=med_type,
        lines=tuple(LineIn(code, Decimal(quantity), price) for code, quantity, price in lines),
        acct_used_flag=acct_used,
    )
