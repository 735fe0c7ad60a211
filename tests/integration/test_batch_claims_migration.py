"""Migration 0080 fills ``visit_charge_batches`` from the lines uploaded before it: each batch
number goes to the visit that uploaded it first (the earliest line; a number two visits already
share stays with the first), and lines without a number claim nothing. On both databases."""

from __future__ import annotations

from sqlalchemy import Engine, insert, select

from gongji.store.migrate import upgrade
from gongji.store.tables_visits import visit_charge_batches, visit_fee_lines

BEFORE = "0060_family_notifications"
LEGACY = [  # (mdtrt_id, feedetl_sn, chrg_bchno, uploaded_at_us)
    ("M1", "1", "CF1", 10),
    ("M1", "2", "CF1", 11),
    ("M2", "1", "CF1", 20),  # the same number at a second visit, before the key existed
    ("M2", "2", "CF2", 30),
    ("M3", "1", "", 40),  # a stay's line without a number
]


def test_the_migration_gives_each_number_to_its_first_visit(bare_engine: Engine) -> None:
    upgrade(bare_engine, BEFORE)
    rows = [
        {"institution_code": "H62010000001", "mdtrt_id": visit, "feedetl_sn": sn,
         "chrg_bchno": batch, "seq": n, "item_code": "TA", "quantity": "1",
         "unit_price_fen": 100, "det_item_fee_sumamt": 100, "fee_ocur_time": None,
         "line_hash": "x" * 64, "state": "uploaded", "setl_id": None, "uploaded_at_us": at}
        for n, (visit, sn, batch, at) in enumerate(LEGACY, start=1)
    ]  # fmt: skip
    with bare_engine.begin() as connection:
        connection.execute(insert(visit_fee_lines), rows)
    upgrade(bare_engine)
    with bare_engine.connect() as connection:
        claims = connection.execute(
            select(visit_charge_batches).order_by(visit_charge_batches.c.chrg_bchno)
        ).all()
    assert [tuple(row) for row in claims] == [
        ("H62010000001", "CF1", "M1", 10),
        ("H62010000001", "CF2", "M2", 30),
    ]
