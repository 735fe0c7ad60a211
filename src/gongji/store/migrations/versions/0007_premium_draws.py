"""Premium draws: whose money paid each premium for a relative, so that clearing counts it.

Monthly clearing read settlement draws only, so a premium paid with a relative's money from
another region (a grant, or the payer's own account for a relative) went uncleared. Premiums
paid before this revision are described from the ledger, which holds each of their transfers:
``pm:{ri|ltc}:{year}:{psn_no}:{seq}``, debited from the payer's personal account
(``pa:{region}:{psn_no}:cur|old``) or from a grant's earmark (``em:{grant_id}``). The account
formats are copied here on purpose: a migration must not follow later changes of the code.

Revision ID: 0007_premium_draws
Revises: 0006_ledger_integer_keys
Create Date: 2026-11-23
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0007_premium_draws"
down_revision = "0006_ledger_integer_keys"
branch_labels = None
depends_on = None

_PREMIUM_CODE = 50  # chart.TransferCode.PREMIUM
_KINDS = {"ri": "resident", "ltc": "long_term_care"}
_BUSINESS_ZONE = ZoneInfo("Asia/Shanghai")


def upgrade() -> None:
    draws = op.create_table(
        "premium_draws",
        sa.Column("psn_no", sa.String(32), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("source_id", sa.String(64), nullable=False),
        sa.Column("contributor", sa.String(32), nullable=False),
        sa.Column("contributor_region", sa.String(6), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("business_date", sa.String(10), nullable=False),
    )
    op.create_index("ix_premium_draws_date", "premium_draws", ["business_date"])
    rows = _draws_of_earlier_premiums(op.get_bind())
    if rows:
        op.bulk_insert(draws, rows)


def downgrade() -> None:
    op.drop_index("ix_premium_draws_date", "premium_draws")
    op.drop_table("premium_draws")


def _draws_of_earlier_premiums(bind: sa.Connection) -> list[dict[str, Any]]:
    payments = {
        (psn_no, int(year), kind): (region, int(paid_at_us))
        for psn_no, year, kind, region, paid_at_us in bind.execute(
            sa.text("SELECT psn_no, year, kind, region, paid_at_us FROM premium_payments")
        )
    }
    if not payments:
        return []
    grants = {
        grant_id: (contributor, region)
        for grant_id, contributor, region in bind.execute(
            sa.text("SELECT id, contributor, contributor_region FROM grants")
        )
    }
    transfers = bind.execute(
        sa.text(
            "SELECT t.id, t.amount, d.id FROM ledger_transfers AS t"
            " JOIN ledger_accounts AS d ON d.num = t.debit_num"
            " WHERE t.code = :code ORDER BY t.seq"
        ),
        {"code": _PREMIUM_CODE},
    )
    rows = [_draw(str(t[0]), int(t[1]), str(t[2]), payments, grants) for t in transfers]
    found = {(r["psn_no"], r["year"], r["kind"]) for r in rows}
    missing = sorted(set(payments) - found)
    if missing:
        raise RuntimeError(f"premium {missing[0]} has no transfer in the ledger: restore a backup")
    return rows


def _draw(
    transfer_id: str,
    amount: int,
    debit: str,
    payments: dict[tuple[str, int, str], tuple[str, int]],
    grants: dict[str, tuple[str, str]],
) -> dict[str, Any]:
    tag, short, year, psn_no, seq = transfer_id.split(":")
    key = (psn_no, int(year), _KINDS[short])
    if tag != "pm" or key not in payments:
        raise RuntimeError(f"premium transfer {transfer_id} matches no premium payment")
    region, paid_at_us = payments[key]
    if debit.startswith("em:"):
        source, source_id = "grant", debit.removeprefix("em:")
        contributor, contributor_region = grants[source_id]
    else:
        _pa, contributor_region, contributor, _part = debit.split(":")
        source, source_id = "own", contributor
    paid = datetime.fromtimestamp(paid_at_us / 1_000_000, UTC).astimezone(_BUSINESS_ZONE)
    return {
        "psn_no": psn_no,
        "year": int(year),
        "kind": key[2],
        "seq": int(seq),
        "source": source,
        "source_id": source_id,
        "contributor": contributor,
        "contributor_region": contributor_region,
        "region": region,
        "amount_fen": amount,
        "business_date": paid.date().isoformat(),
    }
