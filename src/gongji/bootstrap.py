"""Wiring: settings → engine → ledger → service context. The one place that knows concrete
classes (which clock, which SMS gateway, where the key comes from).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from gongji.config import Settings
from gongji.core.clock import Clock, ManualClock, SystemClock
from gongji.kernel.context import Context
from gongji.kernel.pii import Vault, load_or_create_key
from gongji.kernel.reference import load_policy_book, load_regions
from gongji.kernel.sms import LogSmsGateway, SmsGateway
from gongji.ledger.book import Ledger
from gongji.people.service.imports import merge_stored_regions
from gongji.risk.service.screening import make_screen
from gongji.settlement.service.benefits import benefit_book
from gongji.store.engine import make_engine
from gongji.store.migrate import upgrade


@dataclass(slots=True)
class Container:
    settings: Settings
    engine: Engine
    clock: Clock
    ledger: Ledger
    context: Context

    def close(self) -> None:
        self.engine.dispose()


def build(
    settings: Settings | None = None,
    *,
    migrate: bool = True,
    clock: Clock | None = None,
    sms: SmsGateway | None = None,
    engine: Engine | None = None,
) -> Container:
    """Everything a process needs. Migrations run here so every entrypoint starts current.

    ``engine`` replaces the one ``settings.database_url`` would make (the settle bench passes a
    PostgreSQL engine bound to a throw-away schema).
    """
    settings = settings or Settings.from_env()
    engine = engine or make_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    clock = clock or (ManualClock() if settings.test_clock else SystemClock())
    ledger = Ledger(engine, clock)
    key = load_or_create_key(settings.secret_key, settings.data_dir)
    context = Context(
        engine=engine,
        clock=clock,
        ledger=ledger,
        vault=Vault(key),
        policies=load_policy_book(str(settings.policy_file) if settings.policy_file else None),
        regions={region.code: region for region in load_regions()},
        sms=sms or LogSmsGateway(),
        screens=(make_screen(),),  # risk's write-time checks (docs/rules.md §12.4)
    )
    merge_stored_regions(context)  # regions bureaus imported, over the shipped ones
    benefit_book(context)  # a bad [[benefits]] table is refused at start, not at a settlement
    return Container(settings, engine, clock, ledger, context)
