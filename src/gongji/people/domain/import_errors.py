"""The refusals of operators' file imports (docs/rules.md §3) and of the year-end rollover.

Imports report these as line errors (:class:`~gongji.core.importing.LineError`) so an operator
sees every problem of a file at once; the codes are stable, the messages are for people.
"""

from __future__ import annotations

from typing import ClassVar

from gongji.core.errors import GongjiError


class PsnNoInvalid(GongjiError):
    """A person number must be 1–32 ASCII letters or digits (it becomes part of ledger ids)."""

    code: ClassVar[str] = "psn_no_invalid"
    message_zh: ClassVar[str] = "人员编号 {psn_no} 无效，应为 1 到 {limit} 位字母或数字"
    message_en: ClassVar[str] = "Person number {psn_no} is invalid: 1 to {limit} letters or digits"


class PsnNoDuplicate(GongjiError):
    """The same person number twice in one file: which line is right cannot be guessed."""

    code: ClassVar[str] = "psn_no_duplicate"
    message_zh: ClassVar[str] = "人员编号 {psn_no} 在文件中重复（首次出现在第 {first_line} 行）"
    message_en: ClassVar[str] = "Person number {psn_no} is repeated (first on line {first_line})"


class IdNumberDuplicate(GongjiError):
    """The same ID number under two person numbers in one file."""

    code: ClassVar[str] = "id_number_duplicate"
    message_zh: ClassVar[str] = "身份证号码在文件中重复（首次出现在第 {first_line} 行）"
    message_en: ClassVar[str] = "The ID number is repeated (first on line {first_line})"


class NameInvalid(GongjiError):
    code: ClassVar[str] = "name_invalid"
    message_zh: ClassVar[str] = "姓名不能为空，且不超过 {limit} 个字符"
    message_en: ClassVar[str] = "The name must not be empty nor longer than {limit} characters"


class MobileInvalid(GongjiError):
    """A mainland mobile number: 11 ASCII digits starting with 1 (the SMS code goes there)."""

    code: ClassVar[str] = "mobile_invalid"
    message_zh: ClassVar[str] = "手机号码应为以 1 开头的 11 位数字"
    message_en: ClassVar[str] = "A mobile number has 11 digits and starts with 1"


class InsutypeUnknown(GongjiError):
    code: ClassVar[str] = "insutype_unknown"
    message_zh: ClassVar[str] = "险种类型 {insutype} 无效，应为 310（职工）或 390（居民）"
    message_en: ClassVar[str] = "Insurance type {insutype} is invalid: 310 or 390"


class EnrolmentStatusUnknown(GongjiError):
    code: ClassVar[str] = "enrolment_status_unknown"
    message_zh: ClassVar[str] = "参保状态 {status} 无效，应为 1（正常）、2（暂停）或 3（终止）"
    message_en: ClassVar[str] = "Enrolment status {status} is invalid: 1, 2 or 3"


class EmploymentUnknown(GongjiError):
    code: ClassVar[str] = "employment_unknown"
    message_zh: ClassVar[str] = "在职退休状态 {employment} 无效，应为 employed 或 retired"
    message_en: ClassVar[str] = "Employment {employment} is invalid: employed or retired"


class DateInvalid(GongjiError):
    code: ClassVar[str] = "date_invalid"
    message_zh: ClassVar[str] = "{field} 日期 {value} 无效，应为 YYYY-MM-DD"
    message_en: ClassVar[str] = "The {field} date {value} is invalid: YYYY-MM-DD expected"


class ResidentBalanceNotZero(GongjiError):
    """Resident enrolments (390) have no personal account, so nothing can be opened for them."""

    code: ClassVar[str] = "resident_balance_not_zero"
    message_zh: ClassVar[str] = "居民医保（390）没有个人账户，余额必须为 0"
    message_en: ClassVar[str] = (
        "Resident insurance (390) has no personal account: balances must be 0"
    )


class OpeningBalanceConflict(GongjiError):
    """The account was opened earlier with other opening balances; they are never edited."""

    code: ClassVar[str] = "opening_balance_conflict"
    message_zh: ClassVar[str] = "人员 {psn_no} 的个人账户已开立，期初余额与文件不一致"
    message_en: ClassVar[str] = (
        "Person {psn_no} already has a personal account with other opening balances"
    )


class PersonUnknown(GongjiError):
    code: ClassVar[str] = "person_unknown"
    message_zh: ClassVar[str] = "人员 {psn_no} 不存在"
    message_en: ClassVar[str] = "There is no person {psn_no}"


class InjectionMonthInvalid(GongjiError):
    code: ClassVar[str] = "injection_month_invalid"
    message_zh: ClassVar[str] = "月份 {month} 无效，应为 YYYY-MM"
    message_en: ClassVar[str] = "Month {month} is invalid: YYYY-MM expected"


class InjectionMonthFuture(GongjiError):
    code: ClassVar[str] = "injection_month_future"
    message_zh: ClassVar[str] = "月份 {month} 尚未到来，不能划入"
    message_en: ClassVar[str] = "Month {month} has not begun; nothing can be injected for it"


class InjectionMonthClosedYear(GongjiError):
    """This year's money of an earlier year has been (or will be) rolled over into earlier
    years' money; an injection posted now for that year would land in the wrong part."""

    code: ClassVar[str] = "injection_month_closed_year"
    message_zh: ClassVar[str] = "月份 {month} 所属年度已结束，只能划入本年度（{year} 年）的月份"
    message_en: ClassVar[str] = "Month {month} belongs to a closed year; only {year} is open"


class InjectionDuplicate(GongjiError):
    code: ClassVar[str] = "injection_duplicate"
    message_zh: ClassVar[str] = (
        "人员 {psn_no} 的 {month} 划入在文件中重复（首次出现在第 {first_line} 行）"
    )
    message_en: ClassVar[str] = (
        "The {month} injection of {psn_no} is repeated (first on line {first_line})"
    )


class InjectionConflict(GongjiError):
    """The month was injected already with another amount; a posted transfer is never edited."""

    code: ClassVar[str] = "injection_conflict"
    message_zh: ClassVar[str] = (
        "人员 {psn_no} 的 {month} 划入已入账 {recorded} 元，与文件中的 {amount} 元不一致"
    )
    message_en: ClassVar[str] = (
        "The {month} injection of {psn_no} was posted as {recorded}, not {amount}"
    )


class InjectionNoEmployeeEnrolment(GongjiError):
    code: ClassVar[str] = "injection_no_employee_enrolment"
    message_zh: ClassVar[str] = "人员 {psn_no} 没有有效的职工医保（310）参保，不能划入个人账户"
    message_en: ClassVar[str] = "Person {psn_no} has no current employee (310) enrolment"


class PersonalAccountClosed(GongjiError):
    code: ClassVar[str] = "personal_account_closed"
    message_zh: ClassVar[str] = "人员 {psn_no} 的个人账户已关闭"
    message_en: ClassVar[str] = "The personal account of {psn_no} is closed"


class KinshipWithSelf(GongjiError):
    code: ClassVar[str] = "kinship_with_self"
    message_zh: ClassVar[str] = "本人与亲属的身份证号码相同"
    message_en: ClassVar[str] = "The person and the relative have the same ID number"


class ImportFileUnreadable(GongjiError):
    """The file cannot be read as UTF-8 text within the size an import accepts."""

    code: ClassVar[str] = "import_file_unreadable"
    message_zh: ClassVar[str] = "无法读取导入文件 {source}：{reason}（请保存为 UTF-8 编码的 CSV）"
    message_en: ClassVar[str] = "Cannot read import file {source}: {reason} (save it as UTF-8 CSV)"


class RolloverYearNotEnded(GongjiError):
    """A year is rolled over once it has ended (on or after 1 January of the next year)."""

    code: ClassVar[str] = "rollover_year_not_ended"
    message_zh: ClassVar[str] = "{year} 年度尚未结束，不能结转"
    message_en: ClassVar[str] = "Year {year} has not ended; it cannot be rolled over yet"


class RolloverYearPast(GongjiError):
    """Only the year just ended is rolled over: this year's part now holds this year's money
    too, and rolling it over for an older year would move that as well."""

    code: ClassVar[str] = "rollover_year_past"
    message_zh: ClassVar[str] = "只能结转上一年度（{last} 年），不能结转 {year} 年"
    message_en: ClassVar[str] = "Only the year just ended ({last}) can be rolled over, not {year}"
