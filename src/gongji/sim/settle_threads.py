"""Senders for client threads of the bench process (sim/settle_load.py drives them).

- the service layer: ``services.settlement.settle`` in its own transaction per bill, what the
  code costs without HTTP and signing;
- the earlier HTTP generator: each thread with its own keep-alive ``httpx2`` client, signing
  each request as it sends it. Kept beside the process generator (sim/settle_clients.py) so
  that one run can show how much of the HTTP figure that generator itself held back: it shares
  one interpreter, and so one core, with every thread of the bench.
"""

from __future__ import annotations

import itertools
import json
import random
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from gongji.core.errors import GongjiError
from gongji.identity.service.signing import sign_request
from gongji.kernel.context import Context
from gongji.settlement.domain.bill import SettleRequest
from gongji.settlement.service import settlement
from gongji.settlement.service.records import SettlementRow
from gongji.sim.bench_pg import BenchError
from gongji.sim.settle_clients import HEALTH_PATH, SETTLE_PATH, refusal_code
from gongji.sim.settle_load import Outcome, Send, SenderFactory
from gongji.sim.settle_mix import FSI_PATH, draw_bill, draw_visit, send_visit
from gongji.sim.settle_world import World
from gongji.store.uow import UnitOfWork, run_in_transaction

SenderFor = Callable[[str], SenderFactory]
"""Senders for one row, named by the row (request ids and random streams differ per row)."""


def service_sender(ctx: Context, world: World, seed: int) -> SenderFor:
    def factory(label: str) -> SenderFactory:
        @contextmanager
        def open_sender(worker: int) -> Iterator[Send]:
            rng = random.Random(f"{seed}-{label}-{worker}")
            numbers = itertools.count()

            def send() -> Outcome:
                bill = draw_bill(rng, world)
                code = world.keys[bill.key_index].institution_code
                request = bill.request(code, f"{label}-{worker}-{next(numbers)}")
                try:
                    row = run_in_transaction(
                        ctx.engine, lambda uow: _settled(ctx, uow, request), grouped=True
                    )
                except GongjiError as error:
                    return Outcome(error.code)
                return Outcome(None, row.acct_mulaid_pay > 0)

            yield send

        return open_sender

    return factory


def _settled(ctx: Context, uow: UnitOfWork, request: SettleRequest) -> SettlementRow:
    row = settlement.settle(ctx, uow, request)
    uow.commit()
    return row


def _httpx() -> Any:
    """httpx2 is a development dependency: only the thread generator's HTTP rows need it."""
    try:
        import httpx2 as httpx
    except ImportError:
        raise BenchError(
            "the thread generator needs httpx2 (pip install -e '.[dev]'); leave out"
            " --compare-threads"
        ) from None
    return httpx


def http_sender(base_url: str, world: World, seed: int) -> SenderFor:
    httpx = _httpx()

    def factory(label: str) -> SenderFactory:
        @contextmanager
        def open_sender(worker: int) -> Iterator[Send]:
            rng = random.Random(f"{seed}-{label}-{worker}")
            numbers = itertools.count()
            with httpx.Client(base_url=base_url, timeout=60.0) as client:

                def send() -> Outcome:
                    bill = draw_bill(rng, world)
                    key = world.keys[bill.key_index]
                    body = json.dumps(bill.body(f"{label}-{worker}-{next(numbers)}")).encode()
                    signed = sign_request(
                        key.key_id, key.secret, "POST", SETTLE_PATH, body,
                        int(time.time()), uuid.uuid4().hex,
                    )  # fmt: skip
                    headers = {**signed, "Content-Type": "application/json"}
                    try:
                        answer = client.post(SETTLE_PATH, content=body, headers=headers)
                    except httpx.HTTPError as error:
                        return Outcome(f"transport: {type(error).__name__}")
                    if answer.status_code != 201:
                        return Outcome(refusal_code(answer.status_code, answer.content))
                    return Outcome(None, answer.json().get("acct_mulaid_pay") != "0.00")

                yield send

        return open_sender

    return factory


def health_sender(base_url: str) -> SenderFactory:
    httpx = _httpx()

    @contextmanager
    def open_sender(_worker: int) -> Iterator[Send]:
        with httpx.Client(base_url=base_url, timeout=60.0) as client:

            def send() -> Outcome:
                try:
                    answer = client.get(HEALTH_PATH)
                except httpx.HTTPError as error:
                    return Outcome(f"transport: {type(error).__name__}")
                return Outcome(None if answer.status_code == 200 else f"http {answer.status_code}")

            yield send

    return open_sender


def visit_sender(base_url: str, world: World, seed: int) -> SenderFor:
    """The outpatient-visit mix over the national interface (``settle_mix.send_visit``: 2201 →
    2203 → 2204 → 2207): one send is a whole visit."""
    httpx = _httpx()

    def factory(label: str) -> SenderFactory:
        @contextmanager
        def open_sender(worker: int) -> Iterator[Send]:
            rng, numbers = random.Random(f"{seed}-{label}-{worker}"), itertools.count()
            with httpx.Client(base_url=base_url, timeout=60.0) as client:

                def post(body: bytes, headers: Mapping[str, str]) -> Any:
                    return client.post(FSI_PATH, content=body, headers=dict(headers)).json()

                def send() -> Outcome:
                    tag = "".join(c for c in label if c.isalnum())[-6:]  # msgid: no spaces
                    number = f"{tag}{worker:03d}{next(numbers):08d}"
                    return send_visit(post, world, draw_visit(rng, world), number)

                yield send

        return open_sender

    return factory
