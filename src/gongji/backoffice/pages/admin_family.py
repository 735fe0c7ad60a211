"""Two small back-office pages: withdrawing the kinship a relationship rests on (docs/rules.md
§5: a divorce, a false record), and handing an institution's settlement desk its key — the
cashier signs in with it at ``/desk/login``, so no one at a counter runs a command.

A key's secret is shown on the answer page once and never again (it is stored encrypted); who
issued it is written to the log with the institution's code and the key id, never the secret.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Final

from fastapi import APIRouter, Request
from starlette.responses import Response

from gongji.core.errors import GongjiError
from gongji.institutions.service import institutions
from gongji.kernel.permissions import Permission
from gongji.mutual_aid.service import kinship_withdrawal
from gongji.web import i18n
from gongji.web.forms import FieldError, commit, errors_for, required
from gongji.web.render import render, see_other
from gongji.web.routing import WebRoute
from gongji.web.session import (
    OperatorPage,
    OperatorPost,
    Session,
    context_of,
    require_permission,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)
log = logging.getLogger("gongji.backoffice")
_INSTITUTION: Final = re.compile(r"^[A-Z0-9]{12}$")


def _problem(request: Request, problem: FieldError | GongjiError, field: str) -> dict[str, str]:
    lang = i18n.language(request)
    if isinstance(problem, FieldError):
        return {problem.name: problem.error.message(lang)}
    return errors_for(problem, lang, {"not_found": field, "relationship_state_invalid": field})


def _kinship(request: Request, session: Session, **context: Any) -> Response:
    require_permission(session, Permission.REVIEW_KINSHIP)
    return render(request, "admin/kinship.html", session=session, **context)


@router.get("/admin/kinship")
def kinship_page(request: Request, session: OperatorPage) -> Response:
    return _kinship(request, session)


@router.post("/admin/kinship")
def withdraw_kinship(request: Request, posted: OperatorPost) -> Response:
    ctx, form = context_of(request), posted.form
    require_permission(posted.session, Permission.REVIEW_KINSHIP)
    try:
        relationship_id = required(form, "relationship_id", "共济关系编号", "the relationship id")
        reason = required(form, "reason", "撤销原因", "a reason")
        commit(
            ctx,
            lambda uow: kinship_withdrawal.withdraw(
                ctx, uow, posted.actor, relationship_id, reason
            ),
        )
    except (FieldError, GongjiError) as problem:
        errors = _problem(request, problem, "relationship_id")
        return _kinship(request, posted.session, status=400, values=form.kept(), errors=errors)
    return see_other(request, "/admin/kinship?done=kinship_withdrawn")


def _keys(request: Request, session: Session, **context: Any) -> Response:
    require_permission(session, Permission.ISSUE_DESK_KEYS)
    context.setdefault("issued", None)
    return render(request, "admin/desk_keys.html", session=session, **context)


@router.get("/admin/desk-keys")
def desk_keys_page(request: Request, session: OperatorPage) -> Response:
    return _keys(request, session)


@router.post("/admin/desk-keys")
def issue_desk_key(request: Request, posted: OperatorPost) -> Response:
    ctx, form = context_of(request), posted.form
    require_permission(posted.session, Permission.ISSUE_DESK_KEYS)
    code = form.get("institution_code").upper()
    try:
        if _INSTITUTION.fullmatch(code) is None:
            raise FieldError("institution_code", _CodeInvalid())
        issued = commit(ctx, lambda uow: institutions.issue_credentials(ctx, uow, code))
    except (FieldError, GongjiError) as problem:
        errors = _problem(request, problem, "institution_code")
        return _keys(request, posted.session, status=400, values=form.kept(), errors=errors)
    log.info("desk key %s issued for %s by %s", issued.key_id, code, posted.actor.label)
    return _keys(request, posted.session, issued=issued, code=code)


class _CodeInvalid(GongjiError):
    code = "institution_code_invalid"
    message_zh = "机构编码应为 12 位字母或数字"
    message_en = "An institution code is 12 letters or digits"
