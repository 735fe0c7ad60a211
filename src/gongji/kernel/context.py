"""What every service needs, handed in once by bootstrap: database, clock, ledger, the vault for
personal data, the policy book and the reference regions, the front doors' limits and the
limiter that counts against them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from gongji.core.clock import Clock
from gongji.core.limits import Limits
from gongji.core.policy import Policy, PolicyBook
from gongji.core.regions import Region
from gongji.kernel.pii import Vault
from gongji.kernel.ratelimit import Limiter, RateLimiter
from gongji.kernel.reference_rows import KeptRows
from gongji.kernel.screening import Screen
from gongji.kernel.sms import SmsGateway
from gongji.ledger.book import Ledger

BUSINESS_TZ = ZoneInfo("Asia/Shanghai")


class ActorKind(StrEnum):
    PERSON = "person"
    OPERATOR = "operator"
    SYSTEM = "system"
    INSTITUTION = "institution"


class Role(StrEnum):
    """Operators' roles; what each may do is the matrix in ``kernel/permissions.py``."""

    ADMIN = "admin"  # 管理员
    CLERK = "clerk"  # 经办
    REVIEWER = "reviewer"  # 审核
    RISK_OFFICER = "risk_officer"  # 稽核
    AUDITOR = "auditor"  # 审计: reads the audit trail
    ANALYST = "analyst"  # 只读: figures and reports, masked data only


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asks. Services check ownership and roles against it; entrypoints build it."""

    kind: ActorKind
    id: str
    roles: frozenset[Role] = frozenset()

    @property
    def label(self) -> str:
        return f"{self.kind.value}:{self.id}"


SYSTEM = Actor(ActorKind.SYSTEM, "gongji")


@dataclass(frozen=True, slots=True)
class Context:
    engine: Engine
    clock: Clock
    ledger: Ledger
    vault: Vault
    policies: PolicyBook
    regions: dict[str, Region]
    sms: SmsGateway
    limits: Limits = field(default_factory=Limits)
    limiter: Limiter = field(default_factory=RateLimiter)
    """The services' counts (sign-ins, codes, argon2, look-ups): shared by every process on
    PostgreSQL (bootstrap.limiter_for)."""
    door_limiter: RateLimiter = field(default_factory=RateLimiter)
    """The anonymous doors' pre-filter (api/doors.py), always in this process's memory: it runs
    in the event loop, which must not wait on the database; it guards this process's threads."""
    signing_keys: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    """Institutions' signing keys this process has seen sign well: key id → (institution code,
    secret). What a key id names never changes; whether it is live is asked in the transaction
    that spends each request's nonce (identity/service/signing.py)."""
    nonce_purges: dict[str, int] = field(default_factory=dict)
    """Key id → when this process last forgot that key's expired nonces (signing.py)."""
    reference_rows: KeptRows = field(default_factory=KeptRows)
    """Institutions, signing keys and catalogue items this process has read, each with the
    reference generation it was read under (kernel/reference_rows.py)."""
    screens: tuple[Screen, ...] = ()
    """Write-time screening callbacks (kernel/screening.py); bootstrap registers risk's."""

    def now(self) -> datetime:
        return self.clock.now()

    def now_us(self) -> int:
        return self.clock.now_us()

    def local_now(self) -> datetime:
        """The business time (Asia/Shanghai): quiet hours, the day's count, 06:00 expiry."""
        return self.clock.now().astimezone(BUSINESS_TZ)

    def today(self) -> date:
        return self.local_now().date()

    def policy(self, region: str, on: date | None = None) -> Policy:
        return self.policies.resolve(region, on or self.today()).policy
