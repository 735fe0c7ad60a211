"""Per-``msgid`` idempotency of the national interface's visit transactions (2201–2205,
2301/2302, 2401–2405): a message sent again with the same ``msgid`` and the same ``input``
gets the answer it got the first time and changes nothing; the same ``msgid`` with another
``input`` is refused. Settlements keep their own idempotency (the settlement's request id is
the ``msgid``: docs/national-interface.md).

The stored answer is the wire text of the output (kernel.idempotency stores JSON; amounts are
decimals written with two places, which a JSON round trip through floats would not keep), read
back with ``parse_float=Decimal``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, ClassVar

from gongji.core.errors import GongjiError
from gongji.fsi.http.envelope import Envelope
from gongji.fsi.http.wire import dumps
from gongji.kernel import idempotency
from gongji.kernel.context import Context
from gongji.store.raw import Read
from gongji.store.uow import UnitOfWork

Handler = Callable[[Context, UnitOfWork, Envelope, str], Mapping[str, Any]]


class FsiMsgidReused(GongjiError):
    code: ClassVar[str] = "fsi_msgid_reused"
    message_zh: ClassVar[str] = "报文 ID {msgid} 已用于内容不同的交易"
    message_en: ClassVar[str] = "msgid {msgid} was already used for a different message"


def undo_key(env: Envelope, output: Mapping[str, Any]) -> dict[str, Any]:
    """What a 2601 needs to undo this message later: the visit, and the lines it uploaded."""
    for name in ("data", "result"):
        found = output.get(name)
        if isinstance(found, Mapping) and "mdtrt_id" in found:
            return {"mdtrt_id": found["mdtrt_id"], "psn_no": found.get("psn_no")}
    lines = output.get("result")
    details = env.input.get("feedetail")
    if isinstance(lines, list) and isinstance(details, list) and details:
        first = details[0]
        return {
            "mdtrt_id": first.get("mdtrt_id"),
            "psn_no": first.get("psn_no"),
            "feedetl_sn": [line["feedetl_sn"] for line in lines],
        }
    return {}


def stored(uow: UnitOfWork, institution: str, msgid: str) -> Mapping[str, Any] | None:
    """What a visit message under ``msgid`` did: ``infno`` and ``undo`` (see :func:`once`)."""
    return idempotency.stored_response(uow, scope(institution), msgid)


def scope(institution: str) -> str:
    return idempotency.scope_for(f"fsi:{institution}")


def reads_ahead(_ctx: Context, env: Envelope, institution: str) -> list[Read]:
    """What a handler wrapped in :func:`once` reads first: the record of its ``msgid``, to make
    with the message's nonce check (``Transaction.reads_ahead``)."""
    return [idempotency.record_read(scope(institution), env.msgid)]


def once(handler: Handler) -> Handler:
    """``handler`` run at most once per institution and ``msgid``. A message run now is
    answered with its handler's output itself; one sent again, with that output as stored."""

    def run(ctx: Context, uow: UnitOfWork, env: Envelope, institution: str) -> Mapping[str, Any]:
        fingerprint = idempotency.request_hash(f"fsi:{env.infno}", env.input)
        produced: list[Mapping[str, Any]] = []

        def produce() -> Mapping[str, Any]:
            output = handler(ctx, uow, env, institution)
            produced.append(output)
            return {"wire": dumps(output), "infno": env.infno, "undo": undo_key(env, output)}

        try:
            _, body, replayed = idempotency.run_idempotent(
                ctx, uow, scope(institution), env.msgid, fingerprint, 200, produce
            )
        except idempotency.IdempotencyKeyReused:
            raise FsiMsgidReused(msgid=env.msgid) from None
        if not replayed:
            return produced[0]
        output: Mapping[str, Any] = json.loads(body["wire"], parse_float=Decimal)
        return output

    run.__doc__ = handler.__doc__
    return run
