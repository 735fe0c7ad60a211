"""Imports from the back office: upload a CSV, watch its progress, read every line's error.

An upload starts a background job (a thread) that runs the same import as `gongji import`, all
or nothing in one transaction, reporting progress through the import's callback; the job's page
refreshes itself (a meta refresh, no script) until the job is done. Jobs live in this process
only and are bounded: a few at a time, the last few kept. Uploads are bounded by the app's
request body limit (1 MiB); larger files go through the command line.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

from fastapi import APIRouter, Request
from starlette.responses import Response

from gongji.audit.service import log as audit
from gongji.core.errors import GongjiError
from gongji.kernel.context import Context
from gongji.kernel.permissions import Permission
from gongji.people.domain.import_errors import ImportFileUnreadable
from gongji.people.service import imports
from gongji.people.service.imports import ImportKind, ImportResult, ProgressCallback
from gongji.store.uow import UnitOfWork, run_in_transaction
from gongji.web import i18n
from gongji.web.forms import FORM
from gongji.web.render import render, see_other
from gongji.web.routing import WebRoute
from gongji.web.session import OperatorPage, OperatorPost, Session, context_of, require_permission

log = logging.getLogger("gongji.web.imports")
router = APIRouter(route_class=WebRoute, include_in_schema=False)
JOBS_KEPT_MAX: Final = 20
JOBS_RUNNING_MAX: Final = 2
ERRORS_SHOWN_MAX: Final = 200
KINDS: Final = (ImportKind.PERSONS, ImportKind.INJECTIONS, ImportKind.KINSHIP)
Importer = Callable[[Context, UnitOfWork, str, ProgressCallback], ImportResult]


class ImportsBusy(GongjiError):
    code: ClassVar[str] = "imports_busy"
    message_zh: ClassVar[str] = "已有 {limit} 个导入正在进行，请稍后再试"
    message_en: ClassVar[str] = "{limit} imports are running already; try again shortly"


class ImportKindUnknown(GongjiError):
    code: ClassVar[str] = "import_kind_unknown"
    message_zh: ClassVar[str] = "请选择导入的数据类型"
    message_en: ClassVar[str] = "Choose what the file holds"


@dataclass(slots=True)
class ImportJob:
    id: str
    kind: ImportKind
    source: str
    operator: str
    done: int = 0
    total: int = 0
    result: ImportResult | None = None
    failure: str | None = None
    finished: threading.Event = field(default_factory=threading.Event)

    @property
    def running(self) -> bool:
        return not self.finished.is_set()

    @property
    def percent(self) -> int:
        if not self.running:
            return 100
        return self.done * 100 // self.total if self.total else 0


def _importer(kind: ImportKind, source: str) -> Importer:
    if kind is ImportKind.PERSONS:
        return lambda ctx, uow, text, bar: imports.import_persons(ctx, uow, text, progress=bar)
    if kind is ImportKind.INJECTIONS:
        return lambda ctx, uow, text, bar: imports.import_injections(ctx, uow, text, progress=bar)
    return lambda ctx, uow, text, bar: imports.import_kinship(
        ctx, uow, text, source=source, progress=bar
    )


class ImportJobs:
    """The jobs of this process, newest last; a thread per running job."""

    def __init__(self) -> None:
        self._jobs: OrderedDict[str, ImportJob] = OrderedDict()
        self._lock = threading.Lock()

    def start(self, ctx: Context, kind: ImportKind, source: str, text: str, operator: str) -> str:
        with self._lock:
            if sum(job.running for job in self._jobs.values()) >= JOBS_RUNNING_MAX:
                raise ImportsBusy(limit=JOBS_RUNNING_MAX)
            job = ImportJob(secrets.token_urlsafe(12), kind, source, operator)
            self._jobs[job.id] = job
            while len(self._jobs) > JOBS_KEPT_MAX:
                self._jobs.popitem(last=False)
        thread = threading.Thread(target=self._run, args=(ctx, job, text), daemon=True)
        thread.start()
        return job.id

    def get(self, job_id: str) -> ImportJob | None:
        with self._lock:
            return self._jobs.get(job_id)

    def recent(self) -> list[ImportJob]:
        with self._lock:
            return list(reversed(self._jobs.values()))

    def _run(self, ctx: Context, job: ImportJob, text: str) -> None:
        importer = _importer(job.kind, job.source)

        def progress(done: int, total: int) -> None:
            job.done, job.total = done, total

        def work(uow: UnitOfWork) -> ImportResult:
            result = importer(ctx, uow, text, progress)
            if result.ok:
                audit.record(
                    ctx,
                    uow,
                    f"operator:{job.operator}",
                    f"admin.import.{job.kind.value}",
                    source=job.source,
                    lines=result.lines,
                    created=result.created,
                )
                uow.commit()
            return result

        try:
            job.result = run_in_transaction(ctx.engine, work)
        except GongjiError as error:
            job.failure = error.message("zh")
        except Exception:
            log.exception("import job %s (%s) failed", job.id, job.kind)
            job.failure = "系统内部错误，已记录 / internal error, logged"
        finally:
            job.finished.set()


def jobs_of(request: Request) -> ImportJobs:
    jobs: ImportJobs = request.app.state.web_import_jobs
    return jobs


def _decoded(filename: str, content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileUnreadable(source=filename, reason="UnicodeDecodeError") from None


def _imports(request: Request, session: Session, **context: Any) -> Response:
    require_permission(session, Permission.IMPORT_DATA)
    return render(
        request,
        "admin/imports.html",
        session=session,
        kinds=KINDS,
        jobs=jobs_of(request).recent(),
        **context,
    )


@router.get("/admin/imports")
def imports_page(request: Request, session: OperatorPage) -> Response:
    return _imports(request, session)


@router.post("/admin/imports")
def upload(request: Request, posted: OperatorPost) -> Response:
    require_permission(posted.session, Permission.IMPORT_DATA)
    ctx, form = context_of(request), posted.form
    try:
        kind = next((k for k in KINDS if k.value == form.get("kind")), None)
        if kind is None:
            raise ImportKindUnknown()
        upload = form.files.get("file")
        if upload is None or not upload.content:
            raise ImportFileUnreadable(source="—", reason="empty")
        text = _decoded(upload.filename, upload.content)
        job_id = jobs_of(request).start(ctx, kind, upload.filename[:64], text, posted.actor.id)
    except GongjiError as error:
        errors = {FORM: error.message(i18n.language(request))}
        return _imports(request, posted.session, status=400, values=form.kept(), errors=errors)
    return see_other(request, f"/admin/imports/{job_id}")


@router.get("/admin/imports/{job_id}")
def job_page(request: Request, session: OperatorPage) -> Response:
    require_permission(session, Permission.IMPORT_DATA)
    job = jobs_of(request).get(request.path_params["job_id"])
    if job is None:
        return see_other(request, "/admin/imports")
    errors = job.result.errors[:ERRORS_SHOWN_MAX] if job.result else []
    return render(
        request,
        "admin/import_job.html",
        session=session,
        job=job,
        line_errors=errors,
        hidden=len(job.result.errors) - len(errors) if job.result else 0,
    )
