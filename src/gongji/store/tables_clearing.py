"""Tables of monthly clearing (清算) and of premiums paid for relatives (代缴).

A clearing run is stored once per month: its lines (who owes whom, per province and city pair)
are the result that was published; running the month again returns them unchanged.
A premium payment is unique per person, year and kind, so paying twice is refused by the key;
its draws say whose money paid it, from which region, so that monthly clearing can count it.
Created by migration 0005; ``premium_draws`` by 0007.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table

from gongji.store.tables import metadata

clearing_runs = Table(
    "clearing_runs",
    metadata,
    Column("month", String(7), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("draws", Integer, nullable=False),
    Column("total_fen", BigInteger, nullable=False),
    Column("computed_at_us", BigInteger, nullable=False),
)

clearing_lines = Table(
    "clearing_lines",
    metadata,
    Column("month", String(7), primary_key=True),
    # The contributor's insured region owes the region where the shared money was spent.
    Column("payer_region", String(6), primary_key=True),
    Column("payee_region", String(6), primary_key=True),
    Column("amount_fen", BigInteger, nullable=False),
    Column("draws", Integer, nullable=False),
)

premium_payments = Table(
    "premium_payments",
    metadata,
    Column("psn_no", String(32), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column(
        "kind", String(16), primary_key=True
    ),  # resident | long_term_care (gongji.mutual_aid.domain.premiums)
    Column("payer", String(32), nullable=False),
    Column("source", String(16), nullable=False),  # own_account | grants
    Column("region", String(6), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("paid_at_us", BigInteger, nullable=False),
)

CLEARING_TABLES = (clearing_runs, clearing_lines, premium_payments)
"""The tables migration 0005 creates as they stand here: not to be changed in place."""

premium_draws = Table(
    "premium_draws",
    metadata,
    # The payment's key, and the draw's place in it (its ledger transfer is ``pm:…:{seq}``).
    Column("psn_no", String(32), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("source", String(8), nullable=False),  # own (the payer's account) | grant
    Column("source_id", String(64), nullable=False),  # the payer's psn_no, or the grant id
    Column("contributor", String(32), nullable=False),  # whose account money it was
    Column("contributor_region", String(6), nullable=False),
    Column("region", String(6), nullable=False),  # where it was spent: the premium's region
    Column("amount_fen", BigInteger, nullable=False),
    Column("business_date", String(10), nullable=False),
    Index("ix_premium_draws_date", "business_date"),
)
"""Every draw of a premium is mutual-aid money (共济): the own account pays only for a relative,
and grants are a relative's money. Created by migration 0007, which fills it for the premiums
paid before it from the ledger."""

# What the back office's statistics read premiums by (migration 0040).
Index("ix_premium_payments_paid_at", premium_payments.c.paid_at_us)
