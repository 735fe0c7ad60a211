"""Reading typed values from forms, and putting a refusal next to the field it concerns.

A page's form names, for each refusal code, the field the message belongs beside; a code it
does not name is about the form as a whole (``_form``), shown above the submit button. The
messages are the services' own (``GongjiError.message``), so a page and the API always say the
same thing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from datetime import date
from typing import ClassVar, Final, TypeVar

from gongji.audit.service import log as audit
from gongji.core.errors import GongjiError
from gongji.core.money import parse_yuan
from gongji.kernel.context import Actor, Context
from gongji.store.uow import UnitOfWork, run_in_transaction
from gongji.web.i18n import Lang
from gongji.web.session import Form

T = TypeVar("T")
FORM: Final = "_form"
AMOUNT_TEXT_LENGTH_MAX: Final = 32

AMOUNT_CODES: Final = frozenset(
    {
        "field_required",
        "amount_not_a_number",
        "amount_float_refused",
        "amount_too_precise",
        "amount_negative",
        "amount_zero",
        "amount_too_large",
        "grant_amount_not_positive",
        "grant_amount_exceeds_limit",
        "insufficient_balance",
        "onward_granting_not_allowed",
        "grant_cap_exceeded",
    }
)


class FieldRequired(GongjiError):
    code: ClassVar[str] = "field_required"
    message_zh: ClassVar[str] = "请填写{what_zh}"
    message_en: ClassVar[str] = "Please fill in {what_en}"


class DateInvalid(GongjiError):
    code: ClassVar[str] = "date_invalid"
    message_zh: ClassVar[str] = "日期格式应为 年-月-日，例如 2026-03-01"
    message_en: ClassVar[str] = "A date is written year-month-day, e.g. 2026-03-01"


class FieldError(Exception):
    """A refusal together with the field it concerns, raised while reading a form."""

    def __init__(self, name: str, error: GongjiError) -> None:
        super().__init__(error.code)
        self.name = name
        self.error = error


def errors_for(
    error: GongjiError, lang: Lang, fields: Mapping[str, str], *, field: str | None = None
) -> dict[str, str]:
    """``{field: message}`` for a refusal: the given field, else the code's, else the form."""
    return {field or fields.get(error.code, FORM): error.message(lang)}


def required(form: Form, name: str, what_zh: str, what_en: str) -> str:
    value = form.get(name)
    if not value:
        raise FieldError(name, FieldRequired(what_zh=what_zh, what_en=what_en))
    return value


def read_amount(form: Form, name: str = "amount") -> int:
    """Yuan as typed by a person: full-width digits, spaces, commas and a trailing 元 are
    forgiven; then the one strict parser decides (no rounding, no floats)."""
    text = required(form, name, "金额", "the amount")
    cleaned = unicodedata.normalize("NFKC", text)[:AMOUNT_TEXT_LENGTH_MAX]
    for noise in (" ", ",", "，"):
        cleaned = cleaned.replace(noise, "")
    try:
        return parse_yuan(cleaned.removesuffix("元"))
    except GongjiError as error:
        raise FieldError(name, error) from None


def read_date(form: Form, name: str) -> date:
    text = required(form, name, "日期", "the date")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FieldError(name, DateInvalid()) from None


def commit(ctx: Context, work: Callable[[UnitOfWork], T]) -> T:
    """One committed unit of work; a refusal rolls it back and propagates."""

    def committed(uow: UnitOfWork) -> T:
        result = work(uow)
        uow.commit()
        return result

    return run_in_transaction(ctx.engine, committed)


def audited_commit(
    ctx: Context,
    actor: Actor,
    action: str,
    work: Callable[[UnitOfWork], T],
    *,
    subject: str | None = None,
    reason: str | None = None,
) -> T:
    """An operator's command and its audit record, committed together (or neither)."""

    def committed(uow: UnitOfWork) -> T:
        result = work(uow)
        audit.record(ctx, uow, actor, action, subject=subject, reason=reason)
        uow.commit()
        return result

    return run_in_transaction(ctx.engine, committed)


def read(ctx: Context, work: Callable[[UnitOfWork], T]) -> T:
    return run_in_transaction(ctx.engine, work, read_only=True)


def dry_run(ctx: Context, work: Callable[[UnitOfWork], T]) -> T:
    """Run a command and roll it back: the exact refusal it would meet, and nothing written."""
    return run_in_transaction(ctx.engine, work)
