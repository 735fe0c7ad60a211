"""/api/v1/admin/imports for operators: the same all-or-nothing imports as `gongji import`.

The body is the CSV text (``Content-Type: text/csv``). A file with any bad line writes nothing
and answers 422 ``import_refused`` listing every bad line with its number. An import that
created rows has PostgreSQL's planner statistics gathered before it answers, as
`gongji import` does (gongji.store.planner).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, ClassVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from gongji.api.deps import container_of, require_permission
from gongji.api.writes import write
from gongji.core.errors import GongjiError
from gongji.kernel.context import Actor, Context
from gongji.kernel.permissions import Permission
from gongji.people.service import imports
from gongji.store.planner import gather_statistics
from gongji.store.uow import UnitOfWork

router = APIRouter(prefix="/api/v1/admin/imports", tags=["operators"])
Clerk = Annotated[Actor, Depends(require_permission(Permission.IMPORT_DATA))]
CSV_BYTES_MAX = 900_000  # under the 1 MiB body limit; larger files go through `gongji import`

Importer = Callable[[Context, UnitOfWork, str], imports.ImportResult]
_IMPORTERS: dict[str, Importer] = {
    "persons": lambda ctx, uow, text: imports.import_persons(ctx, uow, text),
    "injections": lambda ctx, uow, text: imports.import_injections(ctx, uow, text),
    "kinship": lambda ctx, uow, text: imports.import_kinship(ctx, uow, text, source="api"),
    "regions": lambda ctx, uow, text: imports.import_regions(ctx, uow, text),
}


class ImportRefused(GongjiError):
    code: ClassVar[str] = "import_refused"
    message_zh: ClassVar[str] = "文件有 {count} 行不符合要求，未导入任何数据"
    message_en: ClassVar[str] = "{count} lines are wrong; nothing was imported"


class ImportKindUnknown(GongjiError):
    code: ClassVar[str] = "import_kind_unknown"
    message_zh: ClassVar[str] = "不支持的导入类型：{kind}"
    message_en: ClassVar[str] = "Unknown import: {kind}"


class ImportBodyInvalid(GongjiError):
    code: ClassVar[str] = "import_body_invalid"
    message_zh: ClassVar[str] = "请以 UTF-8 编码的 CSV 文本上传，且不超过 {limit} 字节"
    message_en: ClassVar[str] = "Send UTF-8 CSV text of at most {limit} bytes"


def _outcome(result: imports.ImportResult) -> dict[str, Any]:
    return {
        "kind": result.kind.value,
        "lines": result.lines,
        "created": result.created,
        "unchanged": result.unchanged,
    }


@router.post("/{kind}", summary="Import persons, injections, kinship records or regions (CSV)")
async def import_file(kind: str, request: Request, operator: Clerk) -> JSONResponse:
    importer = _IMPORTERS.get(kind)
    if importer is None:
        raise ImportKindUnknown(kind=kind[:40])
    raw = await request.body()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportBodyInvalid(limit=CSV_BYTES_MAX) from None
    if not text.strip() or len(raw) > CSV_BYTES_MAX:
        raise ImportBodyInvalid(limit=CSV_BYTES_MAX)

    created: list[int] = []

    def command(ctx: Context, uow: UnitOfWork) -> dict[str, Any]:
        result = importer(ctx, uow, text)
        created[:] = [result.created]  # the last attempt's (a conflict retries the command)
        if result.errors:
            errors = [{"line": e.line, "code": e.code, "message": e.message} for e in result.errors]
            raise ImportRefused(count=len(errors), errors=errors[:200])
        return _outcome(result)

    body = {"kind": kind, "csv": text}

    def imported() -> JSONResponse:
        answer = write(request, operator, f"admin.import.{kind}", body, command)
        if created and created[0]:  # not on a replay, which runs no command
            gather_statistics(container_of(request).context.engine)
        return answer

    return await run_in_threadpool(imported)
