"""The chart of accounts and the transfer codes: how mutual aid maps onto the generic ledger.

Account ids carry the insured region so the books can be split by province later
(docs/architecture.md, "The ledger"). One ledger (156, the ISO number of CNY) holds everything.
"""

from __future__ import annotations

from enum import IntEnum

from gongji.ledger.types import AccountFlags, NewAccount

LEDGER_CNY = 156
BOUNDED = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS


class AccountCode(IntEnum):
    PERSONAL_CURRENT = 1  # 个人账户 当年
    PERSONAL_EARLIER = 2  # 个人账户 历年
    EARMARK = 3  # 共济额度 (one per grant)
    INJECTION_SOURCE = 10  # 个人账户划入来源 (per region)
    FUND_EXPENSE = 11  # 统筹基金支出 (per region × insutype)
    INSTITUTION_PAYABLE = 12  # 应付定点医药机构
    PREMIUM_INCOME = 13  # 保费收入
    INHERITANCE_PAYOUT = 14  # 继承支付


class TransferCode(IntEnum):
    OPENING_BALANCE = 1
    INJECTION = 2
    ROLLOVER = 3
    GRANT_OFFER = 10
    GRANT_RETURN = 11
    SETTLEMENT_FUND = 20
    SETTLEMENT_OWN = 21
    SETTLEMENT_GRANT = 22
    SETTLEMENT_AUTHORIZATION = 23
    REVERSAL = 29
    MOVE_REGION = 30
    INHERITANCE = 40
    PREMIUM = 50


def personal_current(region: str, psn_no: str) -> str:
    return f"pa:{region}:{psn_no}:cur"


def personal_earlier(region: str, psn_no: str) -> str:
    return f"pa:{region}:{psn_no}:old"


def earmark(grant_id: str) -> str:
    return f"em:{grant_id}"


def injection_source(region: str) -> str:
    return f"inj:{region}"


def inheritance_payout(region: str, psn_no: str) -> str:
    return f"inh:{region}:{psn_no}"


def fund_expense(region: str, insutype: str) -> str:
    return f"fund:{region}:{insutype}"


def institution_payable(institution_code: str) -> str:
    return f"pay:{institution_code}"


def premium_income(region: str, kind: str) -> str:
    """Premiums (代缴) received for the fund of ``region``, one account per kind."""
    return f"prem:{region}:{kind}"


def premium_income_account(region: str, kind: str) -> NewAccount:
    return NewAccount(
        premium_income(region, kind), LEDGER_CNY, AccountCode.PREMIUM_INCOME, region, ref=kind
    )


def fund_expense_account(region: str, insutype: str) -> NewAccount:
    return NewAccount(fund_expense(region, insutype), LEDGER_CNY, AccountCode.FUND_EXPENSE, region)


def institution_payable_account(institution_code: str, region: str) -> NewAccount:
    return NewAccount(
        institution_payable(institution_code),
        LEDGER_CNY,
        AccountCode.INSTITUTION_PAYABLE,
        region,
        ref=institution_code,
    )


def personal_accounts(region: str, psn_no: str) -> list[NewAccount]:
    return [
        NewAccount(
            personal_current(region, psn_no),
            LEDGER_CNY,
            AccountCode.PERSONAL_CURRENT,
            region,
            BOUNDED,
            psn_no,
        ),
        NewAccount(
            personal_earlier(region, psn_no),
            LEDGER_CNY,
            AccountCode.PERSONAL_EARLIER,
            region,
            BOUNDED,
            psn_no,
        ),
    ]


def earmark_account(grant_id: str, region: str) -> NewAccount:
    return NewAccount(earmark(grant_id), LEDGER_CNY, AccountCode.EARMARK, region, BOUNDED, grant_id)


def injection_account(region: str) -> NewAccount:
    return NewAccount(injection_source(region), LEDGER_CNY, AccountCode.INJECTION_SOURCE, region)


def inheritance_account(region: str, psn_no: str) -> NewAccount:
    return NewAccount(
        inheritance_payout(region, psn_no),
        LEDGER_CNY,
        AccountCode.INHERITANCE_PAYOUT,
        region,
        ref=psn_no,
    )
