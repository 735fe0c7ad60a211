"""The in-process scheduler of `gongji serve`: runs the due jobs every minute in a thread (the
06:00 return of offers, the monthly clearing, the audit trail's daily anchor, the stored
ledger check, the back office's statistics), the incremental risk run every 15 minutes, and
the deletion of the national interface's expired files and of spent sign-in and request records
every hour.

Each job is idempotent and cheap when there is nothing to do, so "every minute" both keeps the
06:00 return on time and repairs a missed run after a restart. Production deployments with
several servers may instead run `gongji jobs run …` from cron; running both is also safe.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from gongji.audit.service.log import anchor_yesterday
from gongji.backoffice.service import statistics
from gongji.jobs import ledger_check
from gongji.jobs.access_purge import run_access_purge
from gongji.jobs.fsi_files import run_delete_expired_files
from gongji.jobs.monthly_clearing import run_monthly_clearing
from gongji.jobs.notifications import run_notifications
from gongji.kernel.context import Context
from gongji.mutual_aid.service.offer_expiry import run_expire_grants
from gongji.risk.service import runs as risk_runs

log = logging.getLogger("gongji.jobs")
INTERVAL_S = 60.0
RISK_EVERY_S = 900.0
FSI_FILES_EVERY_S = 3600.0
ACCESS_PURGE_EVERY_S = 3600.0


class Scheduler:
    def __init__(self, ctx: Context, interval_s: float = INTERVAL_S) -> None:
        self._ctx = ctx
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="gongji-jobs", daemon=True)
        self._risk_due = 0.0
        self._fsi_files_due = 0.0
        self._access_purge_due = 0.0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self._interval_s)

    def run_once(self) -> None:
        for name, job in self._jobs():
            try:
                job()
            except Exception:  # a failed run is retried next minute; never kill the server
                log.exception("%s failed; will retry", name)

    def _jobs(self) -> tuple[tuple[str, Callable[[], None]], ...]:
        return (
            ("expire-grants", self._expire_grants),
            ("notifications", self._notifications),
            ("monthly clearing", self._clearing),
            ("audit anchor", self._anchor),
            ("ledger check", self._ledger_check),
            ("statistics refresh", self._statistics),
            ("risk run", self._risk),
            ("fsi files", self._fsi_files),
            ("access purge", self._access_purge),
        )

    def _expire_grants(self) -> None:
        expired = run_expire_grants(self._ctx)
        if expired:
            log.info("expire-grants: %d offers returned", expired)

    def _notifications(self) -> None:
        told = run_notifications(self._ctx)
        if told.reminded or told.delivered.sent:
            log.info("notifications: %d reminders, %d SMS sent", told.reminded, told.delivered.sent)

    def _clearing(self) -> None:
        cleared = run_monthly_clearing(self._ctx)
        if not cleared.stored_earlier:
            log.info(
                "clearing %s stored, digest %s", cleared.clearing.month, cleared.clearing.digest
            )

    def _anchor(self) -> None:
        anchored = anchor_yesterday(self._ctx)  # once a day; later calls read it back
        if anchored is not None:
            log.debug("audit anchor %s: record %d", anchored.day, anchored.last_seq)

    def _ledger_check(self) -> None:
        checked = ledger_check.run_if_due(self._ctx)
        if checked is not None:
            log.info("%s", checked.report.verdict())

    def _statistics(self) -> None:
        days = statistics.refresh(self._ctx)  # only the days whose rows changed
        if days:
            log.debug("statistics: %d days refreshed", days)

    def _risk(self) -> None:
        """Who changed since the last risk run, every 15 minutes (monotonic, not the clock:
        a test clock moved by hand must not make it run on every tick)."""
        if time.monotonic() < self._risk_due:
            return
        result = risk_runs.run(self._ctx)  # a failed run is not pushed back: retried next minute
        self._risk_due = time.monotonic() + RISK_EVERY_S
        if result.alerts_new:
            log.info("risk %s run: %d new alerts", result.mode, result.alerts_new)

    def _fsi_files(self) -> None:
        """The national interface's files past their 7 days, every hour (monotonic, as the risk
        run): 9102 refuses them from the first second, so the hour only bounds how long the
        bytes outlive their period."""
        if time.monotonic() < self._fsi_files_due:
            return
        deleted = run_delete_expired_files(self._ctx)
        self._fsi_files_due = time.monotonic() + FSI_FILES_EVERY_S
        if deleted:
            log.info("fsi files: %d expired files deleted", deleted)

    def _access_purge(self) -> None:
        """Spent codes, tokens and unknown names' sign-in counts, every hour (monotonic, as the
        files): nothing reads them any more, so the hour only bounds how long they stay."""
        if time.monotonic() < self._access_purge_due:
            return
        deleted = run_access_purge(self._ctx)
        self._access_purge_due = time.monotonic() + ACCESS_PURGE_EVERY_S
        if deleted:
            log.info("access purge: %d spent sign-in and request records deleted", deleted)
