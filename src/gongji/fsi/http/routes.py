"""The national interface (国家医保信息平台 定点医药机构接口) at
``POST /fsi/api/rsfComIfsService/callService``, docs/rules.md §8 and docs/national-interface.md.

Every answer is an envelope with HTTP 200: ``infcode`` 0 and the ``output``, or −1 and a
Chinese ``err_msg`` (the stable refusal code travels in the ``X-Gongji-Error-Code`` header).
A refused message writes nothing: the transaction runs in one unit of work committed only when
it succeeded. The request is signed exactly like the REST API (docs/signing.md), with the four
``X-Gongji-*`` headers over the raw body; ``cainfo`` and ``signtype`` stay what they are on the
platform (the patient's password check, ``MOCK`` for test traffic) and never replace the
signature, which must cover them too.

Every transaction also answers on its own path, ``/fsi/api/<module>/<infno>``
(``transactions.path_of``: ``/fsi/api/outpatientSettleService/2207``), generated from the table
of transactions so none can lack one; :data:`ALIASES` adds the named paths some provinces give
(``/fsi/api/hospSettService/settV2``). A message sent to a per-transaction path must carry that
path's ``infno``.

Every exact path is served by the app's front door (api/front_door.py, :class:`FsiRoute`), past
FastAPI's stack and router, and every message's work runs in the interface's own few worker
threads (api/lane_threads.py), as the REST settlement's does: a HIS's visit (2201, 2204, 2207)
cost 12–18 % less CPU so (docs/benchmarks.md). A path of the per-transaction pattern that
serves no transaction is left to FastAPI's router, which answers ``fsi_path_unknown``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar, Final

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from gongji.api.deps import container_of
from gongji.api.institution_auth import signed_target
from gongji.api.lane_threads import LaneThreads
from gongji.core.errors import GongjiError
from gongji.fsi.http import envelope as fsi_envelope
from gongji.fsi.http.transactions import TRANSACTIONS, Transaction, path_of, transaction
from gongji.fsi.http.wire import FsiResponse
from gongji.identity.service import gateway, signing
from gongji.kernel.context import Context
from gongji.people.service.patient_identity import recording_refusal
from gongji.store.uow import run_in_transaction

log = logging.getLogger("gongji.fsi")
PREFIX: Final = "/fsi/api"
CALL_SERVICE: Final = "/rsfComIfsService/callService"
PER_TRANSACTION: Final = "/{service}/{infno}"
ALIASES: Final[Mapping[str, str]] = {
    "/fsiPsnInfoService/queryPsnInfo": "1101",
    "/outpatientSettleService/saveSettletmentV2": "2207",
    "/hospSettService/settV2": "2304",
}
ERROR_CODE_HEADER: Final = "X-Gongji-Error-Code"
_LANE: Final = LaneThreads()
"""The national interface's own worker threads (``Limits.settlement_threads`` of them, as the
REST settlement has): every message's work runs there, whichever way it came in."""


class FsiRoute(APIRoute):
    """A route of the national interface, served by the front door (api/front_door.py) at each
    exact path it answers: ``callService`` (any transaction), an alias (its one transaction),
    and each transaction's own path (that transaction; other paths of the per-transaction
    pattern stay with FastAPI, which answers ``fsi_path_unknown``). FastAPI still describes the
    routes in the OpenAPI document."""

    def direct_lanes(self) -> list[tuple[str, str, ASGIApp]]:
        served = self.path.removeprefix(PREFIX)
        if served == CALL_SERVICE:
            taken: dict[str, str | None] = {self.path: None}
        elif served in ALIASES:
            taken = {self.path: ALIASES[served]}
        elif served == PER_TRANSACTION:
            taken = {PREFIX + path_of(infno): infno for infno in TRANSACTIONS}
        else:
            raise TypeError(f"a national-interface route at an unknown path: {self.path}")
        return [("POST", path, _direct(only)) for path, only in taken.items()]


def _direct(only: str | None) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response = await _serve(Request(scope, receive, send), only)
        await response(scope, receive, send)

    return app


router = APIRouter(prefix=PREFIX, tags=["national interface"], route_class=FsiRoute)
_INTERNAL_ERROR_ZH: Final = "系统内部错误，已记录，请稍后重试"


class FsiInstitutionMismatch(GongjiError):
    code: ClassVar[str] = "fsi_institution_mismatch"
    message_zh: ClassVar[str] = "报文中的定点医药机构编号 {fixmedins_code} 与签名机构不一致"
    message_en: ClassVar[str] = "fixmedins_code {fixmedins_code} is not the signing institution"


class FsiPathUnknown(GongjiError):
    code: ClassVar[str] = "fsi_path_unknown"
    message_zh: ClassVar[str] = "该地址不受理任何交易：{path}（应为 /fsi/api/<模块>/<交易编号>）"
    message_en: ClassVar[str] = "No transaction is served at {path}"


class FsiPathMismatch(GongjiError):
    code: ClassVar[str] = "fsi_path_mismatch"
    message_zh: ClassVar[str] = "该地址只受理交易 {expected}，报文交易编号为 {infno}"
    message_en: ClassVar[str] = "This path serves transaction {expected} only, not {infno}"


_ENVELOPE_EXAMPLE: Final = {
    "infno": "1101",
    "msgid": "H62010000001202603021000000000",
    "mdtrtarea_admvs": "620100",
    "insuplc_admdvs": "",
    "recer_sys_code": "HIS",
    "infver": "V1.0",
    "opter_type": "1",
    "opter": "D0001",
    "opter_name": "李医生",
    "inf_time": "2026-03-02 10:00:00",
    "fixmedins_code": "H62010000001",
    "fixmedins_name": "兰州测试医院",
    "sign_no": "",
    "input": {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "620100197001011012"}},
}
_OPENAPI: Final = {
    "description": "The envelope of docs/national-interface.md, signed with the X-Gongji-* "
    "headers of docs/signing.md. Always answers HTTP 200 with infcode 0 or -1.",
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "object"}, "example": _ENVELOPE_EXAMPLE}
        },
    },
}


@router.post(
    CALL_SERVICE, summary="National interface: every transaction, by infno", openapi_extra=_OPENAPI
)
async def call_service(request: Request) -> JSONResponse:
    return await _serve(request, None)


def _alias_route(path: str, infno: str) -> None:
    async def endpoint(request: Request) -> JSONResponse:
        return await _serve(request, infno)

    router.add_api_route(
        path,
        endpoint,
        methods=["POST"],
        summary=f"National interface: {infno} only",
        openapi_extra=_OPENAPI,
    )


for _path, _infno in ALIASES.items():
    _alias_route(_path, _infno)


def path_infno(service: str, infno: str) -> str | None:
    """The transaction served at ``/fsi/api/{service}/{infno}``, if that is its path."""
    if infno in TRANSACTIONS and path_of(infno) == f"/{service}/{infno}":
        return infno
    return None


@router.post(
    PER_TRANSACTION,
    summary="National interface: one transaction on its own path (/fsi/api/<module>/<infno>)",
    openapi_extra=_OPENAPI,
)
async def per_transaction(request: Request, service: str, infno: str) -> JSONResponse:
    served = path_infno(service, infno)
    if served is None:
        return await _serve(request, None, unknown_path=f"/fsi/api/{service}/{infno}")
    return await _serve(request, served)


async def _serve(
    request: Request, only: str | None, unknown_path: str | None = None
) -> JSONResponse:
    """The message's work in one of the lane's threads. The endpoints take no dependency (the
    context comes from the app, ``container_of``): FastAPI then has nothing to solve per
    message."""
    ctx = container_of(request).context
    raw = await request.body()
    target = signed_target(request)
    headers = dict(request.headers)
    threads = ctx.limits.settlement_threads
    return await _LANE.run(
        threads, serve, ctx, request.method, target, raw, headers, only, unknown_path
    )


def serve(
    ctx: Context,
    method: str,
    target: str,
    raw: bytes,
    headers: Mapping[str, str],
    only: str | None = None,
    unknown_path: str | None = None,
) -> JSONResponse:
    """Authenticate, read the envelope, run the transaction; always answer an envelope.
    ``only``: the one ``infno`` the path serves; ``unknown_path``: a path that serves none."""
    received = ctx.clock.now()
    message: Mapping[str, Any] | None
    try:
        message = fsi_envelope.read_message(raw)
    except GongjiError:
        message = None
    province = fsi_envelope.region_of(message) if message is not None else "000000"
    time_format = _time_format(ctx, message)
    try:
        output = _run(ctx, method, target, raw, headers, message, only, unknown_path)
    except GongjiError as refused:
        body = fsi_envelope.answer(
            province, received, ctx.clock.now(), None, err_msg(refused), time_format
        )
        return FsiResponse(body, headers={ERROR_CODE_HEADER: refused.code})
    except Exception:
        # A bug, not the caller's fault: logged with its traceback, answered as an envelope.
        log.exception("national interface: unexpected error")
        body = fsi_envelope.answer(
            province, received, ctx.clock.now(), None, _INTERNAL_ERROR_ZH, time_format
        )
        return FsiResponse(body, status_code=500, headers={ERROR_CODE_HEADER: "internal_error"})
    body = fsi_envelope.answer(province, received, ctx.clock.now(), output, None, time_format)
    return FsiResponse(body)


def _time_format(ctx: Context, message: Mapping[str, Any] | None) -> str:
    """How the province of treatment writes answer times (policy ``fsi_refmsg_time_format``)."""
    region = message.get("mdtrtarea_admvs") if message is not None else None
    if isinstance(region, str) and fsi_envelope.REGION_PATTERN.fullmatch(region):
        try:
            return ctx.policy(region).fsi_refmsg_time_format
        except GongjiError:  # not a division code: the answer says so, in the national format
            pass
    return fsi_envelope.NATIONAL_TIME


def err_msg(refused: GongjiError) -> str:
    """The Chinese message, naming the field when the message itself does not (an amount's
    refusal says what is wrong with the value, not where it was)."""
    message = refused.message("zh")
    field = refused.detail.get("field")
    if isinstance(field, str) and field not in message:
        return f"字段 {field}：{message}"
    return message


def _run(
    ctx: Context,
    method: str,
    target: str,
    raw: bytes,
    headers: Mapping[str, str],
    message: Mapping[str, Any] | None,
    only: str | None,
    unknown_path: str | None,
) -> Mapping[str, Any]:
    verified = gateway.verify_fsi(ctx, method, target, raw, headers)
    try:
        if unknown_path is not None:
            raise FsiPathUnknown(path=unknown_path)
        envelope, chosen = _chosen(message, verified.institution.id, only)
    except Exception:
        signing.spend_alone(ctx, verified)
        raise
    institution = verified.institution.id

    def handled() -> Mapping[str, Any]:
        if chosen.writes:  # the nonce is spent in the transaction's own commit
            ahead = chosen.reads_ahead
            return signing.run_signed_write(
                ctx,
                verified,
                lambda uow: chosen.handler(ctx, uow, envelope, institution),
                None if ahead is None else lambda: ahead(ctx, envelope, institution),
            )
        signing.spend_alone(ctx, verified)
        return run_in_transaction(
            ctx.engine, lambda uow: chosen.handler(ctx, uow, envelope, institution), read_only=True
        )

    return recording_refusal(ctx, handled)  # a refused identification, recorded apart


def _chosen(
    message: Mapping[str, Any] | None, institution: str, only: str | None
) -> tuple[fsi_envelope.Envelope, Transaction]:
    """The envelope and its transaction, or the refusal of a message that names neither well."""
    if message is None:
        raise fsi_envelope.FsiMessageInvalid()
    envelope = fsi_envelope.parse_envelope(message)
    if envelope.fixmedins_code != institution:
        raise FsiInstitutionMismatch(fixmedins_code=envelope.fixmedins_code)
    if only is not None and envelope.infno != only:
        raise FsiPathMismatch(expected=only, infno=envelope.infno)
    return envelope, transaction(envelope.infno)
