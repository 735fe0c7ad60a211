"""Operators' sign-in guard: wrong attempts in a row, the lockout they earn, the last TOTP step.

``failed_logins`` and ``locked_until_us`` make a password-guessing run stop after a few tries
(the lockout doubles with every further wrong attempt); ``last_totp_step`` is the 30-second
step of the last code accepted, so a code cannot sign in twice (RFC 6238 §5.2).

Revision ID: 0010_operator_lockout
Revises: 0009_audit_log
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_operator_lockout"
down_revision = "0009_audit_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0002 creates ``operators`` from the current table definition, so a new database already
    # has these columns; an older one gets them here.
    present = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("operators")}
    wanted = [
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until_us", sa.BigInteger, nullable=True),
        sa.Column("last_totp_step", sa.BigInteger, nullable=True),
    ]
    for column in wanted:
        if column.name not in present:
            op.add_column("operators", column)


def downgrade() -> None:
    with op.batch_alter_table("operators") as batch:
        batch.drop_column("last_totp_step")
        batch.drop_column("locked_until_us")
        batch.drop_column("failed_logins")
