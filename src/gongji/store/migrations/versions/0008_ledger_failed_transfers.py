"""Transfer ids refused for a reason of the moment are remembered, so that a retry answers the
same: ``id_already_failed`` (TigerBeetle 0.16.4 and later; docs/ledger.md).

``ledger_failed_transfers`` holds each such id with the refusal it met and when (append-only,
like the transfers). Nothing is written for a transfer that succeeds; a batch of new ids learns
whether any was refused before from the statement that locks its accounts (gongji.ledger.driver).

Revision ID: 0008_ledger_failed_transfers
Revises: 0007_premium_draws
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gongji.store.append_only import forbid_update_and_delete

revision = "0008_ledger_failed_transfers"
down_revision = "0007_premium_draws"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_failed_transfers",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("result", sa.String(64), nullable=False),
        sa.Column("timestamp_us", sa.BigInteger, nullable=False),
    )
    forbid_update_and_delete("ledger_failed_transfers")


def downgrade() -> None:
    op.drop_table("ledger_failed_transfers")
