"""Catalogue items with one price for every institution (统一定价): ``catalogue_items.price_fixed``.

When it is 1 the item's price ceiling is also the price the desk charges, and a cashier cannot
type another; 0 (every item an older database holds) leaves the price to the institution.

Revision ID: 0110_catalogue_fixed_prices
Revises: 0100_payment_password_guardians
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0110_catalogue_fixed_prices"
down_revision = "0100_payment_password_guardians"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0003 creates ``catalogue_items`` from the current table definition, so a new database
    # already has the column; an older one gets it here.
    present = {
        column["name"] for column in sa.inspect(op.get_bind()).get_columns("catalogue_items")
    }
    if "price_fixed" not in present:
        op.add_column(
            "catalogue_items",
            sa.Column("price_fixed", sa.Integer, nullable=False, server_default="0"),
        )


def downgrade() -> None:
    with op.batch_alter_table("catalogue_items") as batch:
        batch.drop_column("price_fixed")
