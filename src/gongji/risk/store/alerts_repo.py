"""SQL of alerts and runs. No decisions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from gongji.risk.domain.alerts import Alert, Evidence
from gongji.risk.domain.holds import StandingAlert
from gongji.store import raw
from gongji.store.tables_risk import (
    risk_alerts,
    risk_case_alerts,
    risk_grant_holds,
    risk_runs,
)


@dataclass(frozen=True, slots=True)
class AlertRow:
    id: int
    rule: str
    rule_version: int
    reason: str
    subject_kind: str
    subject: str
    region: str
    weight: int
    evidence: Evidence
    source: str
    held: bool
    raised_at_us: int
    case_id: str | None


def _evidence_json(evidence: Evidence) -> str:
    return json.dumps(
        {
            "grants": evidence.grants,
            "settlements": evidence.settlements,
            "relationships": evidence.relationships,
            "persons": evidence.persons,
            "figures": [list(pair) for pair in evidence.figures],
        },
        ensure_ascii=False,
    )


def _evidence(text: str) -> Evidence:
    data = json.loads(text)
    return Evidence(
        tuple(data["grants"]),
        tuple(data["settlements"]),
        tuple(data["relationships"]),
        tuple(data["persons"]),
        tuple((str(k), v) for k, v in data["figures"]),
    )


def known_fingerprints(connection: Connection, fingerprints: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for at in range(0, len(fingerprints), 500):
        params: dict[str, Any] = {}
        where = raw.in_list("fingerprint", fingerprints[at : at + 500], params)
        found.update(
            r[0]
            for r in raw.fetch(
                connection, f"SELECT fingerprint FROM risk_alerts WHERE {where}", params
            )
        )
    return found


def not_raised(connection: Connection, alerts: Sequence[Alert]) -> list[Alert]:
    """The alerts whose fingerprint is not stored yet, each once."""
    unique = {alert.fingerprint: alert for alert in alerts}
    known = known_fingerprints(connection, list(unique))
    return [alert for fingerprint, alert in unique.items() if fingerprint not in known]


def insert_alerts(
    connection: Connection,
    alerts: Sequence[Alert],
    now_us: int,
    run_id: int | None,
    *,
    source: str = "run",
    held: bool = False,
) -> int:
    """Insert the alerts not raised before (by fingerprint); returns how many are new."""
    new = not_raised(connection, alerts)
    insert_new_alerts(connection, new, now_us, run_id, source=source, held=held)
    return len(new)


_INSERT_ALERT = raw.insert_statement(
    "risk_alerts",
    ["fingerprint", "rule", "rule_version", "reason", "subject_kind", "subject", "region",
     "weight", "evidence", "source", "held", "raised_at_us", "run_id"],
)  # fmt: skip


def insert_new_alerts(
    connection: Connection,
    alerts: Sequence[Alert],
    now_us: int,
    run_id: int | None,
    *,
    source: str,
    held: bool = False,
) -> None:
    """Insert ``alerts``, which the caller found not raised before (:func:`not_raised`) in its
    transaction. By text, so that on PostgreSQL the insert waits for the transaction's next
    statement (``uow.defer_writes``); and it keeps what the transaction read ahead: nothing
    reads risk's alerts ahead but risk's screen, which forgets its read of the standing alerts
    when it stores new ones (``raw.execute_many``, ``uow.forget_read``)."""
    rows = [
        {
            "fingerprint": a.fingerprint, "rule": a.rule.value, "rule_version": a.rule_version,
            "reason": a.reason, "subject_kind": a.subject_kind.value, "subject": a.subject,
            "region": a.region, "weight": a.weight, "evidence": _evidence_json(a.evidence),
            "source": source, "held": int(held), "raised_at_us": now_us, "run_id": run_id,
        }
        for a in alerts
    ]  # fmt: skip
    raw.execute_many(connection, _INSERT_ALERT, rows, keeps_reads=True)


def _row(row: Any) -> AlertRow:
    return AlertRow(
        int(row.id), row.rule, int(row.rule_version), row.reason, row.subject_kind, row.subject,
        row.region, int(row.weight), _evidence(row.evidence), row.source, bool(row.held),
        int(row.raised_at_us), row.case_id,
    )  # fmt: skip


def _select() -> Any:
    joined = risk_alerts.outerjoin(
        risk_case_alerts, risk_case_alerts.c.alert_id == risk_alerts.c.id
    )
    return select(risk_alerts, risk_case_alerts.c.case_id).select_from(joined)


def queue(
    connection: Connection,
    *,
    open_only: bool,
    limit: int,
    rule: str | None = None,
    subject: str | None = None,
    before_id: int | None = None,
) -> list[AlertRow]:
    """Newest first; ``open_only`` leaves out alerts already gathered into a case; ``rule`` and
    ``subject`` narrow to one rule family or one person or institution; ``before_id`` pages
    back."""
    statement = _select().order_by(risk_alerts.c.id.desc()).limit(limit)
    if open_only:
        statement = statement.where(risk_case_alerts.c.case_id.is_(None))
    if rule is not None:
        statement = statement.where(risk_alerts.c.rule == rule)
    if subject is not None:
        statement = statement.where(risk_alerts.c.subject == subject)
    if before_id is not None:
        statement = statement.where(risk_alerts.c.id < before_id)
    return [_row(r) for r in connection.execute(statement)]


def alert(connection: Connection, alert_id: int) -> AlertRow | None:
    found = connection.execute(_select().where(risk_alerts.c.id == alert_id)).first()
    return None if found is None else _row(found)


def of_subject(connection: Connection, subject_kind: str, subject: str) -> list[AlertRow]:
    statement = _select().where(
        risk_alerts.c.subject_kind == subject_kind, risk_alerts.c.subject == subject
    )
    return [_row(r) for r in connection.execute(statement.order_by(risk_alerts.c.id))]


def standing_alerts_about(
    connection: Connection,
    persons: Sequence[str],
    rules: Sequence[str],
    leaving_out_case_states: Sequence[str],
) -> list[StandingAlert]:
    """The alerts of ``rules`` whose subject is one of ``persons``, oldest first, but those in a
    case in one of ``leaving_out_case_states``: one read through ``ix_risk_alerts_subject`` (a
    case and its link by their keys), sent as fixed text (it runs in every grant offer)."""
    if not persons or not rules:
        return []
    rows = raw.fetch(connection, *standing_alerts_read(persons, rules, leaving_out_case_states))
    return [StandingAlert(int(r[0]), r[1], r[2], r[3], r[4], r[5]) for r in rows]


def standing_alerts_read(
    persons: Sequence[str], rules: Sequence[str], leaving_out_case_states: Sequence[str]
) -> raw.Read:
    """The read of :func:`standing_alerts_about` (given persons and rules), to make ahead."""
    params: dict[str, Any] = {"kind": "person"}
    subjects = raw.in_list("subject", sorted(set(persons)), params)
    of_rules = raw.in_list("rule", sorted(set(rules)), params)
    left_out = raw.in_list("state", sorted(set(leaving_out_case_states)), params)
    statement = (
        "SELECT a.id, a.fingerprint, a.rule, a.reason, a.subject, a.region FROM risk_alerts a"
        " LEFT JOIN risk_case_alerts ca ON ca.alert_id = a.id"
        " LEFT JOIN risk_cases c ON c.id = ca.case_id"
        f" WHERE a.subject_kind = :kind AND a.{subjects} AND a.{of_rules}"
        f" AND (c.state IS NULL OR NOT c.{left_out}) ORDER BY a.id"
    )
    return statement, params


def record_hold(connection: Connection, grant_id: str, fingerprints: Sequence[str]) -> list[int]:
    """Link ``grant_id`` to the stored alerts of ``fingerprints`` that held it and answer their
    ids, in order; a link already there is left as it is (``ON CONFLICT DO NOTHING``), so
    recording it again changes nothing."""
    if not fingerprints:
        return []
    found = select(risk_alerts.c.id).where(risk_alerts.c.fingerprint.in_(sorted(fingerprints)))
    ids = sorted(int(alert_id) for alert_id in connection.execute(found).scalars())
    if not ids:
        return []
    links = [{"grant_id": grant_id, "alert_id": alert_id} for alert_id in ids]
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    connection.execute(dialect.insert(risk_grant_holds).on_conflict_do_nothing(), links)
    return ids


def holding(connection: Connection, grant_ids: Sequence[str]) -> dict[str, list[AlertRow]]:
    """The alerts that held each of ``grant_ids``, oldest first (a grant no alert held is not
    a key)."""
    if not grant_ids:
        return {}
    joined = _select().join(risk_grant_holds, risk_grant_holds.c.alert_id == risk_alerts.c.id)
    statement = joined.add_columns(risk_grant_holds.c.grant_id).where(
        risk_grant_holds.c.grant_id.in_(sorted(set(grant_ids)))
    )
    found: dict[str, list[AlertRow]] = {}
    for row in connection.execute(statement.order_by(risk_alerts.c.id)):
        found.setdefault(row.grant_id, []).append(_row(row))
    return found


def grants_held_by(connection: Connection, alert_id: int) -> list[str]:
    """The grants ``alert_id`` held, in id order."""
    statement = select(risk_grant_holds.c.grant_id).where(risk_grant_holds.c.alert_id == alert_id)
    return list(connection.execute(statement.order_by(risk_grant_holds.c.grant_id)).scalars())


def of_case(connection: Connection, case_id: str) -> list[AlertRow]:
    statement = _select().where(risk_case_alerts.c.case_id == case_id)
    return [_row(r) for r in connection.execute(statement.order_by(risk_alerts.c.id))]


@dataclass(frozen=True, slots=True)
class RunRow:
    mode: str
    window_start_us: int
    window_end_us: int
    changes_after_seq: int | None
    watermark_seq: int
    persons_judged: int
    grants_read: int
    alerts_raised: int
    started_at_us: int
    finished_at_us: int


def insert_run(connection: Connection, run: RunRow) -> int:
    values = {name: getattr(run, name) for name in RunRow.__dataclass_fields__}
    result = connection.execute(insert(risk_runs).returning(risk_runs.c.id), [values])
    return int(result.scalar_one())


def watermark(connection: Connection) -> int | None:
    """The ``person_events`` seq up to which the last run saw every change, or ``None`` before
    the first run."""
    found = connection.execute(select(func.max(risk_runs.c.watermark_seq))).scalar()
    return None if found is None else int(found)


def recent_runs(connection: Connection, limit: int) -> list[tuple[int, RunRow]]:
    """The last ``limit`` runs, newest first, each with its id."""
    statement = select(risk_runs).order_by(risk_runs.c.id.desc()).limit(limit)
    return [
        (int(r.id), RunRow(*(r._mapping[name] for name in RunRow.__dataclass_fields__)))
        for r in connection.execute(statement)
    ]
