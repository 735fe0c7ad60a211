"""Who may work risk: the risk officer (稽核) and the administrator."""

from __future__ import annotations

from functools import cache
from importlib import resources

from gongji.kernel.context import Actor, ActorKind, Role
from gongji.kernel.errors import Forbidden
from gongji.risk.domain.common import PolicyFor, policy_lookup
from gongji.risk.domain.params import parse_risk_policy

RISK_ROLES = frozenset({Role.RISK_OFFICER, Role.ADMIN})


def require_risk_officer(actor: Actor) -> None:
    if actor.kind is not ActorKind.OPERATOR or not actor.roles & RISK_ROLES:
        raise Forbidden()


@cache
def shipped_policy() -> PolicyFor:
    """The rules' parameters shipped in ``gongji/data/risk_policy.toml``, per region."""
    text = resources.files("gongji.data").joinpath("risk_policy.toml").read_text("utf-8")
    return policy_lookup(parse_risk_policy(text))
