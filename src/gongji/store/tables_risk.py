"""Tables of risk monitoring: alerts with their evidence, the runs that raised them, the risk
officer's cases with the alerts they gather and the money recovered, the items a bureau
flags as resellable (migration 0050), and which alerts held which grant (migration 0170).

Alerts, runs and recoveries are append-only (an alert is a fact about what a rule saw; a case
refers to it, never edits it); a case row changes state under its workflow.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from gongji.store.tables import ROW_NUMBER, metadata

risk_alerts = Table(
    "risk_alerts",
    metadata,
    Column("id", ROW_NUMBER, primary_key=True, autoincrement=True),
    Column("fingerprint", String(32), nullable=False, unique=True),
    Column("rule", String(24), nullable=False),
    Column("rule_version", Integer, nullable=False),
    Column("reason", String(48), nullable=False),
    Column("subject_kind", String(12), nullable=False),
    Column("subject", String(32), nullable=False),
    Column("region", String(6), nullable=False),
    Column("weight", Integer, nullable=False),
    Column("evidence", Text, nullable=False),
    Column("source", String(12), nullable=False),  # run | write
    Column("held", Integer, nullable=False),  # a write-time alert that held the write
    Column("raised_at_us", BigInteger, nullable=False),
    Column("run_id", BigInteger, nullable=True),
    Index("ix_risk_alerts_subject", "subject_kind", "subject"),
    Index("ix_risk_alerts_raised", "raised_at_us"),
)

risk_runs = Table(
    "risk_runs",
    metadata,
    Column("id", ROW_NUMBER, primary_key=True, autoincrement=True),
    Column("mode", String(12), nullable=False),  # full | incremental
    Column("window_start_us", BigInteger, nullable=False),
    Column("window_end_us", BigInteger, nullable=False),
    Column("changes_after_seq", BigInteger, nullable=True),
    Column("watermark_seq", BigInteger, nullable=False),
    Column("persons_judged", Integer, nullable=False),
    Column("grants_read", Integer, nullable=False),
    Column("alerts_raised", Integer, nullable=False),
    Column("started_at_us", BigInteger, nullable=False),
    Column("finished_at_us", BigInteger, nullable=False),
)

risk_cases = Table(
    "risk_cases",
    metadata,
    Column("id", String(20), primary_key=True),
    Column("subject_kind", String(12), nullable=False),
    Column("subject", String(32), nullable=False, index=True),
    Column("state", String(20), nullable=False),
    Column("opened_by", String(80), nullable=False),
    Column("opened_at_us", BigInteger, nullable=False),
    Column("updated_at_us", BigInteger, nullable=False),
    Column("closed_at_us", BigInteger, nullable=True),
)

risk_case_alerts = Table(
    "risk_case_alerts",
    metadata,
    Column("case_id", String(20), primary_key=True),
    Column("alert_id", BigInteger, primary_key=True),
    Index("ix_risk_case_alerts_alert", "alert_id"),
)

risk_grant_holds = Table(
    "risk_grant_holds",
    metadata,
    Column("grant_id", String(40), primary_key=True),
    Column("alert_id", BigInteger, primary_key=True),
    Index("ix_risk_grant_holds_alert", "alert_id"),
)
"""The write-time alerts that held a grant offer, written by the screen in the offer's own
transaction (append-only: what held a grant stays true after the officer's decision)."""

risk_recoveries = Table(
    "risk_recoveries",
    metadata,
    Column("id", ROW_NUMBER, primary_key=True, autoincrement=True),
    Column("case_id", String(20), nullable=False, index=True),
    Column("amount_fen", BigInteger, nullable=False),
    Column("recorded_by", String(80), nullable=False),
    Column("recorded_at_us", BigInteger, nullable=False),
)

risk_resellable_items = Table(
    "risk_resellable_items",
    metadata,
    Column("item_code", String(40), primary_key=True),
    Column("added_by", String(80), nullable=False),
    Column("added_at_us", BigInteger, nullable=False),
)

RISK_TABLES = (
    risk_alerts,
    risk_runs,
    risk_cases,
    risk_case_alerts,
    risk_grant_holds,
    risk_recoveries,
    risk_resellable_items,
)
