"""What the risk pages and routes read: the alert queue, an alert, a case with its alerts and
audit trail, an institution's alerts and cases, and scores."""

from __future__ import annotations

from dataclasses import dataclass

from gongji.audit.service import log
from gongji.audit.service.log import AuditQuery
from gongji.kernel.errors import NotFound
from gongji.risk.domain.alerts import Alert, Evidence, RuleCode, SubjectKind
from gongji.risk.domain.engine import Score, scores
from gongji.risk.domain.graph import Edge
from gongji.risk.store import alerts_repo, cases_repo, facts_repo
from gongji.risk.store.alerts_repo import AlertRow, RunRow
from gongji.risk.store.cases_repo import CaseRow
from gongji.store.uow import UnitOfWork

QUEUE_LENGTH = 200


def alert_queue(
    uow: UnitOfWork,
    *,
    open_only: bool = True,
    rule: str | None = None,
    subject: str | None = None,
    before_id: int | None = None,
) -> list[AlertRow]:
    """At most ``QUEUE_LENGTH`` alerts, newest first, narrowed as asked."""
    return alerts_repo.queue(
        uow.connection, open_only=open_only, limit=QUEUE_LENGTH, rule=rule, subject=subject,
        before_id=before_id,
    )  # fmt: skip


def alert(uow: UnitOfWork, alert_id: int) -> AlertRow:
    found = alerts_repo.alert(uow.connection, alert_id)
    if found is None:
        raise NotFound(what=f"风险预警 {alert_id}")
    return found


def grants_held_by(uow: UnitOfWork, alert_id: int) -> list[str]:
    """The grant offers ``alert_id`` held for review, as the write-time check linked them."""
    return alerts_repo.grants_held_by(uow.connection, alert_id)


@dataclass(frozen=True, slots=True)
class TrailStep:
    at_us: int
    actor: str
    action: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class CaseDetail:
    case: CaseRow
    alerts: list[AlertRow]
    score: int
    trail: list[TrailStep]


def case_detail(uow: UnitOfWork, case_id: str) -> CaseDetail:
    found = cases_repo.case(uow.connection, case_id)
    if found is None:
        raise NotFound(what=f"稽核案件 {case_id}")
    gathered = alerts_repo.of_case(uow.connection, case_id)
    records = log.search(uow, AuditQuery(subject=case_id))
    trail = [
        TrailStep(r.entry.at_us, r.entry.actor, r.entry.action, r.entry.reason)
        for r in reversed(records)
    ]
    return CaseDetail(found, gathered, _score(gathered), trail)


def case_list(uow: UnitOfWork) -> list[CaseRow]:
    return cases_repo.cases(uow.connection)


@dataclass(frozen=True, slots=True)
class SubjectView:
    subject_kind: str
    subject: str
    alerts: list[AlertRow]
    cases: list[CaseRow]
    score: int


def subject_view(uow: UnitOfWork, subject_kind: str, subject: str) -> SubjectView:
    """A person's or an institution's alerts, cases and score (the institution view)."""
    found = alerts_repo.of_subject(uow.connection, subject_kind, subject)
    return SubjectView(
        subject_kind, subject, found, cases_repo.cases_of(uow.connection, subject), _score(found)
    )


def _as_alert(row: AlertRow) -> Alert:
    return Alert(
        RuleCode(row.rule), row.rule_version, SubjectKind(row.subject_kind), row.subject,
        row.region, row.weight, row.reason, Evidence(),
    )  # fmt: skip


def _score(rows: list[AlertRow]) -> int:
    rolled: list[Score] = scores(_as_alert(r) for r in rows)
    return rolled[0].score if rolled else 0


def evidence_edges(uow: UnitOfWork, alerts: list[AlertRow]) -> list[Edge]:
    """Who gave to whom in the grants the alerts name, summed per pair."""
    ids = [g for a in alerts for g in a.evidence.grants]
    sums: dict[tuple[str, str], tuple[int, int]] = {}
    for grant in facts_repo.grants_by_id(uow.connection, ids):
        pair = (grant.contributor, grant.recipient)
        amount, count = sums.get(pair, (0, 0))
        sums[pair] = (amount + grant.amount_fen, count + 1)
    return [Edge(a, b, fen, n) for (a, b), (fen, n) in sorted(sums.items())]


RUNS_SHOWN = 20


@dataclass(frozen=True, slots=True)
class RunStatus:
    """The recent runs, newest first, and the ``person_events`` seq the next incremental run
    reads after (``None`` before the first run: the next run is full)."""

    runs: list[tuple[int, RunRow]]
    watermark_seq: int | None


def run_status(uow: UnitOfWork) -> RunStatus:
    connection = uow.connection
    return RunStatus(
        alerts_repo.recent_runs(connection, RUNS_SHOWN), alerts_repo.watermark(connection)
    )
