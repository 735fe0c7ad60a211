"""A seeded gongji for the web tests: the demo family on a temporary SQLite database, a manual
clock, and (for browser tests) a real uvicorn server on 127.0.0.1 in a thread.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import pyotp
import uvicorn

from gongji.app.asgi import create_app
from gongji.bootstrap import Container, build
from gongji.config import Settings
from gongji.core.clock import ManualClock
from gongji.identity.service import identity
from gongji.kernel.context import Actor, ActorKind, Context
from gongji.kernel.sms import LogSmsGateway
from gongji.mutual_aid.service import grants, relationships, wallets
from gongji.sim import demo
from gongji.store.uow import UnitOfWork, run_in_transaction

T = TypeVar("T")
SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)  # a Monday morning, business time
SERVER_START_TIMEOUT_S = 15
OPERATOR_PASSWORD = "correct horse battery staple"

HEAD, SPOUSE, MOTHER, SON, SISTER = demo.DEMO_PEOPLE


def seeded_container(data_dir: Path, clock: ManualClock) -> Container:
    """gongji as `gongji serve` builds it (test clock on), with the demo family seeded."""
    settings = Settings.from_env(
        {
            "GONGJI_DATA_DIR": str(data_dir),
            "GONGJI_TEST_CLOCK": "1",
            # a browser driven by a test signs in faster than any person
            "GONGJI_DOOR_REQUESTS_PER_ADDRESS_PER_SECOND": "1000",
            "GONGJI_PASSWORD_CHECKS_PER_SECOND": "1000",
        }
    )
    container = build(settings, clock=clock)
    demo.seed(container.context)
    return container


def sent_code(ctx: Context, mobile: str) -> str:
    """The one-time code the development SMS gateway 'sent' (it keeps the last per number)."""
    gateway = ctx.sms
    if not isinstance(gateway, LogSmsGateway):
        raise TypeError("the web tests need the development SMS gateway")
    code = gateway.last_code(mobile)
    if code is None:
        raise LookupError(f"no code was sent to {mobile}")
    return code


def add_operator(ctx: Context, name: str, *roles: str) -> pyotp.TOTP:
    """An operator with a password; returns the TOTP generator of their authenticator."""

    def work(uow: UnitOfWork) -> identity.CreatedOperator:
        created = identity.create_operator(ctx, uow, name, roles, OPERATOR_PASSWORD, None)
        uow.commit()
        return created

    created = run_in_transaction(ctx.engine, work)
    totp = pyotp.parse_uri(created.provisioning_uri)
    if not isinstance(totp, pyotp.TOTP):
        raise TypeError("an operator's provisioning URI is a TOTP one")
    return totp


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True)
class LiveSite:
    url: str
    container: Container
    clock: ManualClock

    @property
    def ctx(self) -> Context:
        return self.container.context

    def code_for(self, mobile: str) -> str:
        return sent_code(self.ctx, mobile)


@contextmanager
def live_site(data_dir: Path, clock: ManualClock) -> Iterator[LiveSite]:
    """A real HTTP server (uvicorn, one thread) around the seeded container."""
    container = seeded_container(data_dir, clock)
    port = _free_port()
    config = uvicorn.Config(
        create_app(container), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="gongji-live-site", daemon=True)
    thread.start()
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield LiveSite(f"http://127.0.0.1:{port}", container, clock)
    finally:
        server.should_exit = True
        thread.join(SERVER_START_TIMEOUT_S)


# --- the family's first steps, done through the services (for tests that start further on) ---


def committed(ctx: Context, work: Callable[[UnitOfWork], T]) -> T:
    def run(uow: UnitOfWork) -> T:
        result = work(uow)
        uow.commit()
        return result

    return run_in_transaction(ctx.engine, run)


def person(who: demo.DemoPerson) -> Actor:
    return Actor(ActorKind.PERSON, who.psn_no)


def open_wallets(ctx: Context, *people: demo.DemoPerson) -> None:
    for who in people:
        opening = wallets.OpenRequest(who.region)
        committed(ctx, lambda uow: wallets.open_wallet(ctx, uow, person(who), opening))


def link(ctx: Context, proposer: demo.DemoPerson, relative: demo.DemoPerson, kind: str) -> str:
    """``relative`` is ``proposer``'s ``kind``: proposed, then confirmed by the relative."""
    proposed = committed(
        ctx,
        lambda uow: relationships.propose(
            ctx, uow, person(proposer), relative.id_number, relative.name, kind
        ),
    )
    committed(ctx, lambda uow: relationships.confirm(ctx, uow, person(relative), proposed.id))
    return proposed.id


def offer(ctx: Context, giver: demo.DemoPerson, taker: demo.DemoPerson, fen: int) -> str:
    made = committed(ctx, lambda uow: grants.offer(ctx, uow, person(giver), taker.psn_no, fen))
    return made.id


def answer(ctx: Context, taker: demo.DemoPerson, grant_id: str, *, accept: bool) -> None:
    step = grants.accept if accept else grants.reject
    committed(ctx, lambda uow: step(ctx, uow, person(taker), grant_id))
