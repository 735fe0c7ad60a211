"""Tables of visits (就诊) as a hospital's HIS opens them on the national interface: the visit
(outpatient 挂号 or inpatient 入院), its diagnoses (2203) and its uploaded fee-detail lines
(2204 / 2301), each line in a charge batch (``chrg_bchno``) and in one of three states.

A line names the settlement that paid it while it is settled (``setl_id``) and loses it when
that settlement is reversed: the settlement's own items (settlement_items) keep the history, a
line keeps only where it stands now. Created by migration 0030; ``visit_charge_batches`` by
0080_fsi_batches_and_files.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, UniqueConstraint

from gongji.store.tables import metadata

visits = Table(
    "visits",
    metadata,
    Column("institution_code", String(12), primary_key=True),
    Column("mdtrt_id", String(40), primary_key=True),
    Column("kind", String(10), nullable=False),  # outpatient | inpatient
    Column("ipt_otp_no", String(40), nullable=False),  # the HIS's own visit number
    Column("psn_no", String(32), nullable=False),
    Column("insutype", String(3), nullable=False),
    Column("med_type", String(6), nullable=False),
    Column("state", String(12), nullable=False),  # open | discharged | cancelled
    Column("begntime", String(19), nullable=False),
    Column("endtime", String(19), nullable=True),
    Column("created_at_us", BigInteger, nullable=False),
    Column("updated_at_us", BigInteger, nullable=False),
    UniqueConstraint("institution_code", "kind", "ipt_otp_no", name="uq_visits_his_number"),
    Index("ix_visits_person", "psn_no"),
)

visit_diagnoses = Table(
    "visit_diagnoses",
    metadata,
    Column("institution_code", String(12), primary_key=True),
    Column("mdtrt_id", String(40), primary_key=True),
    Column("diag_srt_no", Integer, primary_key=True),
    Column("diag_type", String(6), nullable=False),
    Column("diag_code", String(40), nullable=False),
    Column("diag_name", String(200), nullable=False),
    Column("maindiag_flag", String(1), nullable=False),
)

visit_fee_lines = Table(
    "visit_fee_lines",
    metadata,
    Column("institution_code", String(12), primary_key=True),
    Column("mdtrt_id", String(40), primary_key=True),
    Column("feedetl_sn", String(40), primary_key=True),
    Column("chrg_bchno", String(40), nullable=False),
    Column("seq", BigInteger, nullable=False),  # upload order: the order lines are settled in
    Column("item_code", String(40), nullable=False),
    Column("quantity", String(24), nullable=False),
    Column("unit_price_fen", BigInteger, nullable=False),
    Column("det_item_fee_sumamt", BigInteger, nullable=False),
    Column("fee_ocur_time", String(19), nullable=True),
    Column("line_hash", String(64), nullable=False),  # what makes a re-upload the same line
    Column("state", String(10), nullable=False),  # uploaded | revoked | settled
    Column("setl_id", String(40), nullable=True),
    Column("uploaded_at_us", BigInteger, nullable=False),
    Index("ix_visit_fee_lines_batch", "institution_code", "chrg_bchno"),
    Index("ix_visit_fee_lines_settlement", "setl_id"),
)

visit_charge_batches = Table(
    "visit_charge_batches",
    metadata,
    Column("institution_code", String(12), primary_key=True),
    Column("chrg_bchno", String(40), primary_key=True),
    Column("mdtrt_id", String(40), nullable=False),
    Column("claimed_at_us", BigInteger, nullable=False),
)
"""Which visit a charge batch number belongs to: one per institution and ``chrg_bchno``, held
by the primary key, so two visits uploading the same new number at once cannot both have it
(the second waits for the first and is refused). Created by migration 0080."""

VISIT_TABLES = (visits, visit_diagnoses, visit_fee_lines, visit_charge_batches)
