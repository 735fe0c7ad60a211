"""What each operator role may do: the permission matrix of docs/backoffice.md, in one table.

Every operator endpoint and page names one :class:`Permission`; the REST dependency
(``api.deps.require_permission``) and the pages (``web.session.require_permission``) both ask
:func:`allows`, so the written matrix and the enforced one cannot drift apart. Services that
change data keep their own role checks as a second line.

Unmasked personal data is a permission of its own, held by the roles whose work needs a
person's full ID number, name or mobile (a clerk at the counter, a reviewer reading documents,
a risk officer on a case); read-only analysts and auditors see masked values only.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from gongji.kernel.context import Actor, ActorKind, Role


class Permission(StrEnum):
    VIEW_OVERVIEW = "view_overview"  # home page figures, the ledger health panel
    FIND_PERSONS = "find_persons"  # search, a person's whole story (masked)
    UNMASK_PERSONAL_DATA = "unmask_personal_data"  # full ID number, name, mobile; with a reason
    VIEW_POLICY = "view_policy"
    VIEW_STATISTICS = "view_statistics"  # statistics, charts, exports
    VIEW_REPORTS = "view_reports"  # monthly report, clearing statement, inheritance payouts
    VIEW_CLEARING = "view_clearing"
    RUN_CLEARING = "run_clearing"
    IMPORT_DATA = "import_data"
    CHANGE_ENROLMENT = "change_enrolment"  # suspend, resume, terminate, move, death, inheritance
    RUN_JOBS = "run_jobs"
    REVIEW_KINSHIP = "review_kinship"
    FREEZE_WALLETS = "freeze_wallets"
    HANDLE_RISK_CASES = "handle_risk_cases"  # alerts, scores, the 稽核 workflow
    VIEW_AUDIT = "view_audit"  # search the audit trail
    ISSUE_DESK_KEYS = "issue_desk_keys"  # an institution's settlement-desk signing key


_EVERY_OPERATOR: Final = frozenset(Role)
_READ_ALL: Final = frozenset(
    {
        Permission.VIEW_OVERVIEW,
        Permission.FIND_PERSONS,
        Permission.VIEW_POLICY,
        Permission.VIEW_STATISTICS,
        Permission.VIEW_REPORTS,
        Permission.VIEW_CLEARING,
    }
)

MATRIX: Final[dict[Role, frozenset[Permission]]] = {
    Role.ADMIN: frozenset(Permission),
    Role.CLERK: _READ_ALL
    | {
        Permission.UNMASK_PERSONAL_DATA,
        Permission.RUN_CLEARING,
        Permission.IMPORT_DATA,
        Permission.CHANGE_ENROLMENT,
        Permission.RUN_JOBS,
    },
    Role.REVIEWER: _READ_ALL | {Permission.UNMASK_PERSONAL_DATA, Permission.REVIEW_KINSHIP},
    Role.RISK_OFFICER: _READ_ALL
    | {
        Permission.UNMASK_PERSONAL_DATA,
        Permission.FREEZE_WALLETS,
        Permission.HANDLE_RISK_CASES,
        Permission.VIEW_AUDIT,
    },
    Role.AUDITOR: _READ_ALL | {Permission.VIEW_AUDIT},
    Role.ANALYST: _READ_ALL,
}

ROLE_NAMES_ZH: Final[dict[Role, str]] = {
    Role.ADMIN: "管理员",
    Role.CLERK: "经办",
    Role.REVIEWER: "审核",
    Role.RISK_OFFICER: "稽核",
    Role.AUDITOR: "审计",
    Role.ANALYST: "只读分析",
}


def allows(roles: frozenset[Role], permission: Permission) -> bool:
    return any(permission in MATRIX[role] for role in roles)


def operator_may(actor: Actor, permission: Permission) -> bool:
    return actor.kind is ActorKind.OPERATOR and allows(actor.roles, permission)


def roles_with(permission: Permission) -> frozenset[Role]:
    return frozenset(role for role in _EVERY_OPERATOR if permission in MATRIX[role])
