"""The choice 就医时使用家庭共济 may be unmade; catalogue items carry their pinyin initials.

``person_settings.use_mutual_aid`` may be NULL. Shared money pays a patient's care only when the
patient chose it (docs/rules.md §6.2). NULL says the person never chose, and then the policy key
``mutual_aid_choice_default`` of their insured region decides (false as shipped). Before this
revision the choice was on unless turned off, and any save of a person's settings wrote that
"on": a stored true cannot tell a choice from the old default, so it becomes NULL; a stored
false was always the person's own act and stays.

``catalogue_items.name_initials`` holds the 拼音首字母 of each name (``amxljn`` for 阿莫西林胶囊),
which the desk's search matches; every item already held gets them here, and every write of an
item from now on writes them with the name.

Revision ID: 0160_choice_and_initials
Revises: 0140_heirs_masked
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gongji.settlement.domain.initials import name_initials

revision = "0160_choice_and_initials"
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
    _add_initials()


def _add_initials() -> None:
    bind = op.get_bind()
    # 0003 creates ``catalogue_items`` from the current table definition, so a new database
    # already has the column; an older one gets it here.
    present = {column["name"] for column in sa.inspect(bind).get_columns("catalogue_items")}
    if "name_initials" not in present:
        op.add_column(
            "catalogue_items",
            sa.Column("name_initials", sa.String(200), nullable=False, server_default=""),
        )
    rows = bind.execute(sa.text("SELECT code, name FROM catalogue_items")).all()
    for code, name in rows:
        bind.execute(
            sa.text("UPDATE catalogue_items SET name_initials = :initials WHERE code = :code"),
            {"initials": name_initials(name), "code": code},
        )


def downgrade() -> None:
    """The older schema has no "never chose": it reads the old default, on."""
    with op.batch_alter_table("catalogue_items") as batch:
        batch.drop_column("name_initials")
    op.execute(
        sa.text(
            "UPDATE person_settings SET use_mutual_aid = :on WHERE use_mutual_aid IS NULL"
        ).bindparams(on=True)
    )
    with op.batch_alter_table("person_settings") as batch:
        batch.alter_column("use_mutual_aid", existing_type=sa.Boolean, nullable=False)
