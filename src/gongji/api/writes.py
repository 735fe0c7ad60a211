"""The one way an /api/v1 write runs: Idempotency-Key, one transaction, the stored answer.

Every write endpoint calls :func:`write` with the actor, a stable command name, the request
body and the command. The key is required (``idempotency_key_required``); keys are scoped to
the actor, and the request hash covers the command name and the canonical JSON of the body, so
the same key sent for another command or another body is ``idempotency_key_reused``. A replay
answers the stored status and body with ``Idempotency-Replayed: true``.

An operator's write is recorded in the audit trail in the same commit (a replay is not a new
action, so it adds nothing); personal data in the body stays out of the record.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import Request
from pydantic import BaseModel

from gongji.api.deps import container_of
from gongji.api.json_answer import JsonAnswer
from gongji.audit.service import log as audit
from gongji.kernel import idempotency
from gongji.kernel.context import Actor, ActorKind, Context
from gongji.store.uow import UnitOfWork, run_in_transaction

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotency-Replayed"

Payload = BaseModel | Mapping[str, Any]
Command = Callable[[Context, UnitOfWork], Payload]


def as_json(payload: Payload) -> dict[str, Any]:
    """A JSON object as it goes over the wire (dates as ISO strings, models dumped)."""
    if isinstance(payload, BaseModel):
        dumped: dict[str, Any] = payload.model_dump(mode="json")
        return dumped
    loaded = json.loads(json.dumps(dict(payload), ensure_ascii=False, default=str))
    if not isinstance(loaded, dict):
        raise TypeError("a write's body and answer are JSON objects")
    return loaded


def write(
    request: Request,
    actor: Actor,
    scope_name: str,
    body: Payload,
    command: Command,
    status_code: int = 200,
) -> JsonAnswer:
    """Run ``command`` once per Idempotency-Key, its effects and its answer in one commit.

    A refusal (a ``GongjiError``) from the command rolls everything back, the key included, and
    propagates to the error handlers.
    """
    ctx = container_of(request).context
    key = idempotency.validate_key(request.headers.get(IDEMPOTENCY_HEADER))
    fingerprint = idempotency.request_hash(scope_name, as_json(body))
    scope = idempotency.scope_for(actor.label)

    def run_command(uow: UnitOfWork) -> dict[str, Any]:
        answer = as_json(command(ctx, uow))
        if actor.kind is ActorKind.OPERATOR:
            audit.record_action(ctx, uow, actor, scope_name, as_json(body))
        return answer

    def work(uow: UnitOfWork) -> tuple[int, dict[str, Any], bool]:
        answer = idempotency.run_idempotent(
            ctx, uow, scope, key, fingerprint, status_code, lambda: run_command(uow)
        )
        uow.commit()
        return answer

    status, answer, replayed = run_in_transaction(ctx.engine, work)
    headers = {REPLAYED_HEADER: "true"} if replayed else None
    return JsonAnswer(answer, status_code=status, headers=headers)
