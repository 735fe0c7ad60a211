"""Migration 0140 masks the heirs of inheritance payouts written before it: a name keeps its
surname, an ID number its region and last four digits, and what was already masked stays as it
was; the shares and the rest of the row are untouched. On both databases."""

from __future__ import annotations

import json

from sqlalchemy import Engine, insert, select

from gongji.store.migrate import upgrade
from gongji.store.tables_people import inheritance_payouts

BEFORE = "0110_catalogue_fixed_prices"
HEIRS_IN_CLEAR = [
    {"name": "李秀英", "id": "620102194402180021", "share_fen": 500_000},
    {"name": "王建国", "id": "620102********0035", "share_fen": 300_000},
]


def test_the_migration_masks_the_heirs_written_before_it(bare_engine: Engine) -> None:
    upgrade(bare_engine, BEFORE)
    row = {
        "psn_no": "P620100000001",
        "death_certificate_no": "D-001",
        "heirs": json.dumps(HEIRS_IN_CLEAR, ensure_ascii=False),
        "amount_fen": 800_000,
        "operator": "li.clerk",
        "paid_at_us": 1,
    }
    with bare_engine.begin() as connection:
        connection.execute(insert(inheritance_payouts), [row])
    upgrade(bare_engine)
    with bare_engine.connect() as connection:
        stored = connection.execute(select(inheritance_payouts)).mappings().one()
    assert json.loads(stored["heirs"]) == [
        {"name": "李**", "id": "620102********0021", "share_fen": 500_000},
        {"name": "王**", "id": "620102********0035", "share_fen": 300_000},
    ]
    assert "李秀英" not in stored["heirs"] and "19440218" not in stored["heirs"]
    assert (stored["amount_fen"], stored["death_certificate_no"]) == (800_000, "D-001")
