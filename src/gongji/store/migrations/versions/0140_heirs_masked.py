"""Inheritance payouts: the heirs' names and ID numbers kept masked, never in clear.

Every screen and file of the back office shows an heir masked, so a clear name or number in
``inheritance_payouts.heirs`` served no one and was readable from the database file or a
backup without the key. Rows written before this revision are masked in place; the payout
service masks what it writes from now on. SQLite overwrites the freed pages (``secure_delete``)
as migration 0021 does; on PostgreSQL the old row versions go with the next VACUUM.

Revision ID: 0140_heirs_masked
Revises: 0110_catalogue_fixed_prices
Create Date: 2026-12-04
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from gongji.core.masking import MASK, mask_id_number, mask_name

revision = "0140_heirs_masked"
down_revision = "0110_catalogue_fixed_prices"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        bind.exec_driver_sql("PRAGMA secure_delete = ON")
    rows = bind.execute(sa.text("SELECT psn_no, heirs FROM inheritance_payouts")).all()
    for psn_no, heirs in rows:
        masked = json.dumps([_masked(heir) for heir in json.loads(heirs)], ensure_ascii=False)
        if masked != heirs:
            bind.execute(
                sa.text("UPDATE inheritance_payouts SET heirs = :heirs WHERE psn_no = :psn_no"),
                {"heirs": masked, "psn_no": psn_no},
            )


def _masked(heir: dict[str, object]) -> dict[str, object]:
    name, number = str(heir.get("name", "")), str(heir.get("id", ""))
    return {
        **heir,
        "name": mask_name(name),
        "id": number if MASK in number else mask_id_number(number),
    }


def downgrade() -> None:
    """Masking cannot be undone; the older schema reads masked names as it reads any name."""
