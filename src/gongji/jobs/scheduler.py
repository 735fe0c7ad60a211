"""The in-process scheduler of `gongji serve`: runs the due jobs every minute in a thread.

Each job is idempotent and cheap when there is nothing to do, so "every minute" both keeps the
06:00 return on time and repairs a missed run after a restart. Production deployments with
several servers may instead run `gongji jobs run …` from cron; running both is also safe.
"""

from __future__ import annotations

import logging
import threading

from gongji.jobs.monthly_clearing import run_monthly_clearing
from gongji.jobs.notifications import run_notifications
from gongji.kernel.context import Context
from gongji.mutual_aid.service.offer_expiry import run_expire_grants

log = logging.getLogger("gongji.jobs")
INTERVAL_S = 60.0


class Scheduler:
    def __init__(self, ctx: Context, interval_s: float = INTERVAL_S) -> None:
        self._ctx = ctx
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="gongji-jobs", daemon=True)

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
        try:
            expired = run_expire_grants(self._ctx)
            if expired:
                log.info("expire-grants: %d offers returned", expired)
        except Exception:  # a failed run is retried next minute; never kill the server
            log.exception("expire-grants failed; will retry")
        try:
            told = run_notifications(self._ctx)
            if told.reminded or told.delivered.sent:
                log.info(
                    "notifications: %d reminders, %d SMS sent", told.reminded, told.delivered.sent
                )
        except Exception:  # as above: retried next minute
            log.exception("notifications failed; will retry")
        try:
            cleared = run_monthly_clearing(self._ctx)
            if not cleared.stored_earlier:
                log.info(
                    "clearing %s stored, digest %s", cleared.clearing.month, cleared.clearing.digest
                )
        except Exception:  # as above: retried next minute
            log.exception("monthly clearing failed; will retry")
