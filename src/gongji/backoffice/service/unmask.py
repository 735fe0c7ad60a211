"""The unmasked view of a person's ID number, name and mobile (docs/backoffice.md §Personal
data): only for roles the matrix allows, only with a stated reason, and every such read recorded
in the audit trail (who, whom, when, why) in the same unit of work as the read itself.

The record is written before the clear values are returned, so a read that is not recorded
cannot happen: if the audit insert fails, the unit of work fails and nothing is shown.
"""

from __future__ import annotations

from typing import ClassVar

from gongji.audit.service import log as audit
from gongji.core.errors import GongjiError
from gongji.kernel.context import Actor, Context
from gongji.kernel.errors import Forbidden
from gongji.kernel.permissions import Permission, operator_may
from gongji.people.service import search
from gongji.people.service.persons import require_person
from gongji.store.uow import UnitOfWork

REASON_LENGTH_MIN = 4
REASON_LENGTH_MAX = 200


class UnmaskReasonRequired(GongjiError):
    code: ClassVar[str] = "unmask_reason_required"
    message_zh: ClassVar[str] = "查看完整个人信息须填写事由（{min} 至 {max} 个字）"
    message_en: ClassVar[str] = "Say why you need the full personal data ({min} to {max} chars)"


def unmask(
    ctx: Context, uow: UnitOfWork, actor: Actor, psn_no: str, reason: str
) -> search.Unmasked:
    if not operator_may(actor, Permission.UNMASK_PERSONAL_DATA):
        raise Forbidden()
    stated = reason.strip()
    if not REASON_LENGTH_MIN <= len(stated) <= REASON_LENGTH_MAX:
        raise UnmaskReasonRequired(min=REASON_LENGTH_MIN, max=REASON_LENGTH_MAX)
    person = require_person(uow, psn_no)
    audit.record(ctx, uow, actor, "backoffice.unmask", subject=psn_no, reason=stated)
    return search.unmasked(ctx, uow, person)
