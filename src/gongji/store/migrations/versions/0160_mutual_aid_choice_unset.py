"""The standing choice 就医时使用家庭共济 may be unmade: ``person_settings.use_mutual_aid`` NULL.

Shared money pays a patient's care only when the patient chose it (docs/rules.md §6.2). NULL
says the person never chose, and then the policy key ``mutual_aid_choice_default`` of their
insured region decides (false as shipped). Before this revision the choice was on unless
turned off, and any save of a person's settings wrote that "on": a stored true cannot tell a
choice from the old default, so it becomes NULL; a stored false was always the person's own
act and stays.

Revision ID: 0160_mutual_aid_choice_unset
Revises: 0140_heirs_masked
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0160_mutual_aid_choice_unset"
down_revision = "0140_heirs_masked"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person_settings") as batch:
        batch.alter_column("use_mutual_aid", existing_type=sa.Boolean, nullable=True)
    op.execute(
        sa.text(
            "UPDATE person_settings SET use_mutual_aid = NULL WHERE use_mutual_aid = :on"
        ).bindparams(on=True)
    )


def downgrade() -> None:
    """The older schema has no "never chose": it reads the old default, on."""
    op.execute(
        sa.text(
            "UPDATE person_settings SET use_mutual_aid = :on WHERE use_mutual_aid IS NULL"
        ).bindparams(on=True)
    )
    with op.batch_alter_table("person_settings") as batch:
        batch.alter_column("use_mutual_aid", existing_type=sa.Boolean, nullable=False)
