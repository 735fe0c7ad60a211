"""Migration 0160, on both databases: a stored "on" of 就医时使用家庭共济 is forgotten (the old
default wrote it without the person choosing) while a stored "off" stays; catalogue items held
before it get the pinyin initials of their names."""

from __future__ import annotations

from sqlalchemy import Engine, insert, select, text

from gongji.store.migrate import upgrade
from gongji.store.tables_family import person_settings
from gongji.store.tables_institutions import catalogue_items

BEFORE = "0140_heirs_masked"


def test_a_stored_on_is_forgotten_and_a_stored_off_kept(bare_engine: Engine) -> None:
    upgrade(bare_engine, BEFORE)
    rows = [
        {"psn_no": psn_no, "sms_enabled": True, "sms_muted_kinds": "", "quiet_start": "22:00",
         "quiet_end": "08:00", "use_mutual_aid": on, "updated_at_us": 1}
        for psn_no, on in (("P1", True), ("P2", False))
    ]  # fmt: skip
    with bare_engine.begin() as connection:
        connection.execute(insert(person_settings), rows)
    upgrade(bare_engine)
    with bare_engine.connect() as connection:
        stored = select(person_settings.c.psn_no, person_settings.c.use_mutual_aid)
        found = {psn_no: on for psn_no, on in connection.execute(stored)}
    assert found == {"P1": None, "P2": False}


def test_items_held_before_get_their_initials(bare_engine: Engine) -> None:
    upgrade(bare_engine, BEFORE)
    with bare_engine.begin() as connection:  # as the older code wrote it: no initials
        connection.execute(
            text(
                "INSERT INTO catalogue_items (code, name, item_class, selfpay_prop,"
                " price_ceiling_fen, account_payable, category, in_catalogue, updated_at_us,"
                " price_fixed) VALUES ('XJ01', '阿莫西林胶囊 0.25g', 'A', '0', 1250, 1, 'drug',"
                " 1, 1, 0)"
            )
        )
    upgrade(bare_engine)
    with bare_engine.connect() as connection:
        initials = connection.execute(select(catalogue_items.c.name_initials)).scalar_one()
    assert initials == "amxljn025g"
