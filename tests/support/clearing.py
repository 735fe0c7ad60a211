"""A March of shared spending across Gansu, Shandong and Guangdong, for clearing's e2e tests.

Lanzhou's son gives his mother in Jinan a grant; she spends 60.00 of it in Jinan and 20.00 in
Guangzhou. His brother in Jinan gives him one; he spends 30.00 of it in Lanzhou. So for March:
Gansu owes Shandong 60.00 and Guangdong 20.00, Shandong owes Gansu 30.00.
"""

from __future__ import annotations

from gongji.core.clock import ManualClock
from gongji.institutions.domain.institutions import (
    Institution,
    InstitutionKind,
    InstitutionLevel,
    InstitutionStatus,
)
from gongji.institutions.service import institutions
from gongji.kernel.context import SYSTEM, Context
from gongji.mutual_aid.service.accounts import parts_available
from gongji.settlement.service.settlement import settle
from support.desk import HOSPITAL, bill, open_desks
from support.world import ELDER, at, give, insured, relate, run

SON, MOTHER, BROTHER = "P620100000001", "P370100000001", "P370100000002"
GUANGZHOU_PHARMACY = "P44010000001"
PROVINCE_NAMES = ("甘肃省", "山东省", "广东省")


def march_spending(ctx: Context, clock: ManualClock) -> None:
    clock.set(at("2026-03-02 10:00:00"))
    open_desks(ctx)
    guangzhou = Institution(
        GUANGZHOU_PHARMACY,
        "广州测试药房",
        "440100",
        InstitutionKind.PHARMACY,
        InstitutionLevel.NONE,
        True,
        InstitutionStatus.ACTIVE,
    )
    run(ctx, lambda uow: institutions.register_institution(ctx, uow, SYSTEM, guangzhou))
    # His own account holds just the grant he gives: acct_used_flag 0 would refuse shared money
    # too (docs/rules.md §8), so his own spending is paid from his brother's grant because his
    # account is empty, not because he declined it.
    insured(ctx, SON, current=0, earlier=50_000, name="张建国")
    insured(ctx, MOTHER, region="370100", insutype="390", name="王桂兰", born=ELDER)
    insured(ctx, BROTHER, region="370100", current=50_000, name="张建军")
    relate(ctx, SON, MOTHER, "parent")
    relate(ctx, BROTHER, SON, "sibling")
    give(ctx, SON, MOTHER, 50_000)
    give(ctx, BROTHER, SON, 10_000)
    requests = [
        bill(MOTHER, "c1", ("TA", "2", 6_000)),  # fund 60.00, grant 60.00
        bill(MOTHER, "c2", ("TA", "1", 4_000), institution=GUANGZHOU_PHARMACY),  # grant 20.00
        bill(SON, "c3", ("TB", "1", 3_000), med_type="11", institution=HOSPITAL),
    ]
    for request in requests:
        row = run(ctx, lambda uow: settle(ctx, uow, request))
        assert row.acct_mulaid_pay > 0
    clock.set(at("2026-04-02 09:00:00"))


def account_balance(ctx: Context, psn_no: str, region: str) -> int:
    """This year's and earlier years' money in the person's account, in fen."""
    parts = run(ctx, lambda uow: parts_available(ctx, uow, region, psn_no))
    return parts.current_fen + parts.earlier_fen
