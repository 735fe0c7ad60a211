"""The patient's choice 就医时使用家庭共济 where a relative meets shared money (docs/rules.md §6.2).

Shared money pays a person's care only once they chose it. The choice itself is one of the
person's settings (``notify.service.preferences``); here it is made where it matters: on the
wallet's own switch, and in the same step as accepting an offer, so that a mother accepting her
son's quota can say at once that it is to pay at the counter. A step that does not say leaves the
choice as it stands: accepting money is not choosing to spend it.
"""

from __future__ import annotations

from dataclasses import dataclass

from gongji.kernel.context import Actor, Context
from gongji.mutual_aid.service import grants
from gongji.notify.service import preferences
from gongji.notify.service.preferences import MutualAidChoice
from gongji.store.records import GrantRecord
from gongji.store.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class Acceptance:
    grant: GrantRecord
    mutual_aid: MutualAidChoice
    """The standing choice after the step, as the answer tells it."""


def accept(
    ctx: Context, uow: UnitOfWork, actor: Actor, grant_id: str, use_mutual_aid: bool | None
) -> Acceptance:
    """Accept the offer and, when ``use_mutual_aid`` says so, make the standing choice in the
    same transaction: a refused acceptance chooses nothing."""
    grant = grants.accept(ctx, uow, actor, grant_id)
    if use_mutual_aid is None:
        return Acceptance(grant, preferences.mutual_aid_choice(ctx, uow, actor.id))
    preferences.set_use_mutual_aid(ctx, uow, actor, use_mutual_aid)
    return Acceptance(grant, MutualAidChoice(on=use_mutual_aid, chosen=True))  # as just made


def choose(ctx: Context, uow: UnitOfWork, actor: Actor, on: bool) -> MutualAidChoice:
    """The wallet's switch: on or off until the person changes it again."""
    preferences.set_use_mutual_aid(ctx, uow, actor, on)
    return preferences.mutual_aid_choice(ctx, uow, actor.id)
