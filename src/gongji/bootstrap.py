"""Wiring: settings → engine → ledger → service context. The one place that knows concrete
classes (which clock, which SMS gateway, where the key comes from).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from gongji.config import Settings
from gongji.core.clock import Clock, ManualClock, SystemClock
from gongji.identity.service.identity_operators import (
    DEMO_OPERATOR,
    SEALED_OPERATORS,
    known_password_works,
)
from gongji.institutions.service.institutions import SEALED_CREDENTIALS
from gongji.kernel.context import Context
from gongji.kernel.keys import check_key
from gongji.kernel.ratelimit import Limiter, RateLimiter
from gongji.kernel.reference import load_policy_book, load_regions
from gongji.kernel.sealed import SealedTable
from gongji.kernel.shared_ratelimit import SharedRateLimiter
from gongji.kernel.sms import HttpSmsConfig, HttpSmsGateway, LogSmsGateway, SmsGateway
from gongji.ledger.book import Ledger
from gongji.people.service.imports import merge_stored_regions
from gongji.people.service.persons import SEALED_PERSONS
from gongji.production import UnsafeSettings, refuse_unsafe, settings_problems
from gongji.risk.service.screening import make_screen
from gongji.settlement.service.benefits import benefit_book
from gongji.store.engine import make_engine
from gongji.store.migrate import upgrade
from gongji.store.writers import set_group_commit

SEALED_TABLES: tuple[SealedTable, ...] = (SEALED_PERSONS, SEALED_OPERATORS, SEALED_CREDENTIALS)
"""Every column encrypted under the secret key, as the areas declare them (kernel/sealed.py)."""


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
    allow_demo_operator: bool = False,
) -> Container:
    """Everything a process needs. Migrations run here so every entrypoint starts current, and
    the key is checked against the database's fingerprint before anything else reads or writes
    (``gongji.kernel.keys.check_key``: a missing or wrong key is refused here, not at the first
    encrypted value).

    ``engine`` replaces the one ``settings.database_url`` would make (the settle bench passes a
    PostgreSQL engine bound to a throw-away schema).

    In production a database where the demo operator still signs in with its published password
    is refused, except by ``allow_demo_operator``: the two commands that end it
    (``gongji operators disable`` and ``password``) must run on that very database.
    """
    settings = settings or Settings.from_env()
    refuse_unsafe(settings_problems(settings) if sms is None else [])
    engine = engine or make_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    clock = clock or (ManualClock() if settings.test_clock else SystemClock())
    ledger = Ledger(engine, clock, group_commit=settings.ledger_group_commit)
    set_group_commit(engine, settings.sqlite_group_commit)
    context = Context(
        engine=engine,
        clock=clock,
        ledger=ledger,
        vault=check_key(engine, settings, SEALED_TABLES),
        policies=load_policy_book(str(settings.policy_file) if settings.policy_file else None),
        regions={region.code: region for region in load_regions()},
        sms=sms or sms_gateway(settings),
        limits=settings.limits,
        limiter=limiter_for(engine),
        screens=(make_screen(),),  # risk's write-time checks (docs/rules.md §12.4)
    )
    demo_operator_live = settings.production and not allow_demo_operator
    if demo_operator_live and known_password_works(context, DEMO_OPERATOR):
        engine.dispose()
        raise UnsafeSettings(
            problems="演示操作员 demo 仍在且仍用公开的演示密码：请用 gongji operators disable demo "
            "停用，或用 gongji operators password demo --password-stdin 改密"
        )
    merge_stored_regions(context)  # regions bureaus imported, over the shipped ones
    benefit_book(context)  # a bad [[benefits]] table is refused at start, not at a settlement
    return Container(settings, engine, clock, ledger, context)


def limiter_for(engine: Engine) -> Limiter:
    """In memory for SQLite (one process); in the database for PostgreSQL, whose ``--workers``
    processes must count against one budget."""
    if engine.dialect.name == "postgresql":
        return SharedRateLimiter(engine)
    return RateLimiter()


def sms_gateway(settings: Settings) -> SmsGateway:
    """The gateway the settings name (``production.settings_problems`` has vetted them)."""
    sms = settings.sms
    if sms.provider != "http":
        return LogSmsGateway()
    return HttpSmsGateway(
        HttpSmsConfig(
            url=sms.url or "",
            app_key=sms.app_key or "",
            app_secret=sms.app_secret or "",
            sign_name=sms.sign_name or "",
            template_login=sms.template_login or "",
        )
    )
