"""Tables of settlements (结算): the settlement, its items, where its personal burden was drawn
from, and each person's yearly accumulators of deductible and fund paid.

A settlement row is never edited: a reversal is a second row with negated amounts that names
the one it reverses (unique, so a settlement is reversed at most once). Accumulators are the one
mutable summary, one per person, year, insutype and benefit pool, changed under a row lock in
the same transaction as the settlement. Created by migration 0004.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, UniqueConstraint

from gongji.store.tables import metadata

AMOUNT_COLUMNS = (
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "preselfpay_amt",
    "inscp_scp_amt",
    "act_pay_dedc",
    "hifp_pay",
    "fund_pay_sumamt",
    "hosp_part_amt",
    "psn_part_amt",
    "acct_pay",
    "acct_mulaid_pay",
    "psn_cash_pay",
    "balc",
)

settlements = Table(
    "settlements",
    metadata,
    Column("setl_id", String(40), primary_key=True),
    Column("institution_code", String(12), nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("kind", String(10), nullable=False),  # settlement | reversal
    Column("reverses", String(40), nullable=True, unique=True),
    Column("psn_no", String(32), nullable=False, index=True),
    Column("insutype", String(3), nullable=False),
    Column("insured_region", String(6), nullable=False),
    Column("treatment_region", String(6), nullable=False),
    Column("med_type", String(6), nullable=False),
    Column("benefit_pool", String(16), nullable=False),  # the accumulator it drew on
    Column("business_date", String(10), nullable=False),
    Column("year", Integer, nullable=False),
    Column("created_at_us", BigInteger, nullable=False),
    *(Column(name, BigInteger, nullable=False) for name in AMOUNT_COLUMNS),
    UniqueConstraint("institution_code", "request_id", name="uq_settlements_request"),
    Index("ix_settlements_institution_day", "institution_code", "business_date"),
    Index("ix_settlements_day", "business_date"),  # the month's reversals, for clearing
)

settlement_items = Table(
    "settlement_items",
    metadata,
    Column("setl_id", String(40), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("item_code", String(40), nullable=False),
    Column("quantity", String(24), nullable=False),
    Column("unit_price_fen", BigInteger, nullable=False),
    Column("det_item_fee_sumamt", BigInteger, nullable=False),
    Column("fulamt_ownpay_amt", BigInteger, nullable=False),
    Column("overlmt_amt", BigInteger, nullable=False),
    Column("preselfpay_amt", BigInteger, nullable=False),
    Column("inscp_scp_amt", BigInteger, nullable=False),
    Column("account_payable_fen", BigInteger, nullable=False),
)

# Where the personal burden was drawn from: own account parts, grants, authorizations. Clearing
# reads the shared draws (contributor region ≠ treatment region); a reversal reads them back.
settlement_draws = Table(
    "settlement_draws",
    metadata,
    Column("setl_id", String(40), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("kind", String(14), nullable=False),  # own | grant | authorization
    Column("source_id", String(64), nullable=False),
    Column("account_id", String(64), nullable=False),
    Column("contributor", String(32), nullable=False),
    Column("contributor_region", String(6), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("business_date", String(10), nullable=False),
    Column("treatment_region", String(6), nullable=False),
    Index("ix_settlement_draws_date", "business_date"),
)

accumulators = Table(
    "accumulators",
    metadata,
    Column("psn_no", String(32), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("insutype", String(3), primary_key=True),
    Column("pool", String(16), primary_key=True),  # the benefit rule's pool (outpatient, …)
    Column("deductible_used_fen", BigInteger, nullable=False),
    Column("fund_paid_fen", BigInteger, nullable=False),
    Column("updated_at_us", BigInteger, nullable=False),
)

SETTLEMENT_TABLES = (settlements, settlement_items, settlement_draws, accumulators)
