"""The desk's day: its settlements and reversals of one business date, gongji's totals for the
day, and, when the cashier types the institution's own totals, the reconciliation verdict
(对总账, ``stmt_rslt``) from the same service the national interface's 3201 uses.

It only reads, so it is a GET with the date and the institution's figures in the address: no
personal data travels there, and a verdict can be bookmarked or reloaded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

from gongji.core.errors import GongjiError
from gongji.kernel.context import Context
from gongji.settlement.service.reconciliation import ZERO, Totals, reconcile_totals
from gongji.settlement.store import settlements_repo as rows
from gongji.web import i18n
from gongji.web.forms import DateInvalid, FieldError, read, read_amount, required
from gongji.web.session import Form

DAY_ROWS_MAX: Final = 500
THEIR_FIELDS: Final = ("fixmedins_setl_cnt", "medfee_sumamt", "fund_pay_sumamt", "acct_pay")
_COUNT: Final = re.compile(r"-?[0-9]{1,9}")


class CountInvalid(GongjiError):
    code = "count_invalid"
    message_zh = "笔数应为整数"
    message_en = "A count is a whole number"


@dataclass(frozen=True, slots=True)
class DayQuery:
    on: date
    theirs: Totals | None


def read_query(params: Mapping[str, str], today: date) -> DayQuery:
    """The date (today when absent) and, when asked to check, the institution's totals."""
    text = params.get("date", "").strip()
    try:
        on = date.fromisoformat(text) if text else today
    except ValueError:
        raise FieldError("date", DateInvalid()) from None
    if not date.min < on < date.max:  # the page links the day before and the day after
        raise FieldError("date", DateInvalid())
    if params.get("check") != "1":
        return DayQuery(on, None)
    form = Form({name: params.get(name, "") for name in THEIR_FIELDS})
    count_text = required(form, "fixmedins_setl_cnt", "结算笔数", "the count")
    if _COUNT.fullmatch(count_text) is None:
        raise FieldError("fixmedins_setl_cnt", CountInvalid())
    theirs = Totals(
        int(count_text),
        _signed_amount(form, "medfee_sumamt"),
        _signed_amount(form, "fund_pay_sumamt"),
        _signed_amount(form, "acct_pay"),
    )
    return DayQuery(on, theirs)


def _signed_amount(form: Form, name: str) -> int:
    """A day's total may be negative (more reversed than settled): the sign is read apart."""
    text = form.get(name)
    if text.startswith("-"):
        return -read_amount(Form({name: text[1:]}), name)
    return read_amount(form, name)


def day_view(
    ctx: Context, institution_code: str, params: Mapping[str, str], lang: i18n.Lang
) -> dict[str, Any]:
    today = ctx.today()
    values = {name: params.get(name, "") for name in ("date", *THEIR_FIELDS)}
    try:
        asked = read_query(params, today)
        errors: dict[str, str] = {}
    except FieldError as problem:
        asked = DayQuery(today, None)
        errors = {problem.name: problem.error.message(lang)}
    day = asked.on.isoformat()
    values["date"] = day

    def work(uow: Any) -> tuple[list[rows.SettlementRow], Any]:
        found = rows.list_for_institution(
            uow.connection, institution_code, day, day, DAY_ROWS_MAX + 1
        )
        result = reconcile_totals(
            ctx, uow, institution_code, asked.on, asked.on, None, asked.theirs or ZERO
        )
        return found, result

    found, result = read(ctx, work)
    return {
        "day": day,
        "previous_day": (asked.on - timedelta(days=1)).isoformat(),
        "next_day": (asked.on + timedelta(days=1)).isoformat(),
        "is_today": asked.on == today,
        "settlements": found[:DAY_ROWS_MAX],
        "truncated": len(found) > DAY_ROWS_MAX,
        "result": result,
        "checked": asked.theirs is not None,
        "fields": THEIR_FIELDS,
        "values": values,
        "errors": errors,
    }
