"""Risk: which write-time alerts held which grant offer, recorded when the hold happens; and no
birth date left in clear in an alert's evidence.

Before this revision the held-grants pages found a grant's alerts by matching: an alert naming
the grant, or, for the kinship alerts that name only relationships, one about a party raised
within a second of the offer. From now on the screen writes the link in the offer's own
transaction (``risk_grant_holds``). Grants held before it (every ``grant_held`` event) get
their links here, once, by that old matching, the only trace they left.

The impossible-age alerts used to keep both persons' birth dates among their figures, in clear,
though the birth date is stored nowhere else in clear (migration 0021). They now say how many
years apart the two are; the alerts raised before are rewritten so, in place — the one edit of
an append-only table, lifting its triggers for the rewrite and setting them again. SQLite
overwrites the freed pages (``secure_delete``) as migration 0021 does; on PostgreSQL the old
row versions go with the next VACUUM.

Revision ID: 0170_risk_grant_holds
Revises: 0160_choice_and_initials
Create Date: 2026-12-04
"""

from __future__ import annotations

import json
from datetime import date

import sqlalchemy as sa
from alembic import op

from gongji.store.append_only import forbid_update_and_delete

revision = "0170_risk_grant_holds"
down_revision = "0160_choice_and_initials"
branch_labels = None
depends_on = None

SAME_WRITE_US = 1_000_000
"""How soon after an offer its screen raised the alerts that held it (one transaction)."""


def upgrade() -> None:
    op.create_table(
        "risk_grant_holds",
        sa.Column("grant_id", sa.String(40), primary_key=True),
        sa.Column("alert_id", sa.BigInteger, primary_key=True),
    )
    op.create_index("ix_risk_grant_holds_alert", "risk_grant_holds", ["alert_id"])
    _link_grants_held_before(op.get_bind())
    forbid_update_and_delete("risk_grant_holds")
    _years_not_birth_dates(op.get_bind())


def _link_grants_held_before(bind: sa.Connection) -> None:
    events = bind.execute(sa.text("SELECT detail FROM person_events WHERE kind = 'grant_held'"))
    held = sorted({str(json.loads(detail).get("grant_id", "")) for (detail,) in events} - {""})
    links = []
    for grant_id in held:
        grant = bind.execute(
            sa.text("SELECT contributor, recipient, offered_at_us FROM grants WHERE id = :id"),
            {"id": grant_id},
        ).first()
        if grant is None:
            continue
        contributor, recipient, offered_at_us = grant
        alerts = bind.execute(
            sa.text(
                "SELECT id, evidence, raised_at_us FROM risk_alerts "
                "WHERE held = 1 AND subject_kind = 'person' AND subject IN (:a, :b)"
            ),
            {"a": contributor, "b": recipient},
        )
        for alert_id, evidence, raised_at_us in alerts:
            rows = json.loads(evidence)
            named = grant_id in rows["grants"]
            by_the_offer = (
                not rows["grants"]
                and not rows["settlements"]
                and (0 <= raised_at_us - offered_at_us < SAME_WRITE_US)
            )
            if named or by_the_offer:
                links.append({"grant_id": grant_id, "alert_id": int(alert_id)})
    if links:
        insert = "INSERT INTO risk_grant_holds (grant_id, alert_id) VALUES (:grant_id, :alert_id)"
        bind.execute(sa.text(insert), links)


_OLDER = {"parent", "paternal_grandparent", "maternal_grandparent"}
_YOUNGER = {"child", "grandchild_via_son", "grandchild_via_daughter"}


def _years_not_birth_dates(bind: sa.Connection) -> None:
    rows = bind.execute(
        sa.text("SELECT id, evidence FROM risk_alerts WHERE reason = 'impossible_age'")
    ).all()
    rewritten = []
    for alert_id, evidence in rows:
        data = json.loads(evidence)
        figures = {str(name): value for name, value in data["figures"]}
        if "holder_born" not in figures and "relative_born" not in figures:
            continue
        data["figures"] = _years(figures)
        rewritten.append({"id": alert_id, "evidence": json.dumps(data, ensure_ascii=False)})
    if not rewritten:
        return
    if bind.dialect.name == "sqlite":
        bind.exec_driver_sql("PRAGMA secure_delete = ON")
        for action in ("update", "delete"):
            bind.exec_driver_sql(f"DROP TRIGGER risk_alerts_no_{action}")
    else:
        for trigger in ("no_update_delete", "no_truncate"):
            bind.exec_driver_sql(f"DROP TRIGGER risk_alerts_{trigger} ON risk_alerts")
    bind.execute(sa.text("UPDATE risk_alerts SET evidence = :evidence WHERE id = :id"), rewritten)
    forbid_update_and_delete("risk_alerts")


def _years(figures: dict[str, object]) -> list[list[object]]:
    """The figures with the two birth dates replaced by how many years apart they are."""
    kind = str(figures.get("kind", ""))
    holder = date.fromisoformat(str(figures.pop("holder_born")))
    relative = date.fromisoformat(str(figures.pop("relative_born")))
    if kind in _OLDER:
        figures["older_by_years"] = _years_between(relative, holder)
    elif kind in _YOUNGER:
        figures["younger_by_years"] = _years_between(holder, relative)
    return [[name, value] for name, value in figures.items()]


def _years_between(earlier: date, later: date) -> int:
    years = later.year - earlier.year
    return years - ((later.month, later.day) < (earlier.month, earlier.day))


def downgrade() -> None:
    op.drop_table("risk_grant_holds")
