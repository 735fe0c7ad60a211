"""Shared shape of file imports: per-line error values and a strict CSV table reader.

Imports (regions, enrolment, accounts, kinship registries) check a whole file and report every
problem with its line, instead of stopping at the first one: an operator fixes a file in one pass.
A refusal is therefore a value here (:class:`LineError`), built from the same
:class:`~gongji.core.errors.GongjiError` subclasses that commands raise, so codes stay stable.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from gongji.core.errors import GongjiError

if TYPE_CHECKING:
    from _csv import Reader

CSV_ROWS_MAX = 1_000_000
"""A bound on one import file, so a runaway file fails fast instead of filling memory."""


@dataclass(frozen=True)
class LineError:
    """One problem found on one line of an imported file (line numbers start at 1)."""

    line: int
    code: str
    message: str

    @classmethod
    def of(cls, line: int, error: GongjiError, language: str = "zh") -> LineError:
        """Turn a refusal into a line error, keeping its stable code."""
        return cls(line=line, code=error.code, message=error.message(language))


@dataclass(frozen=True)
class CsvRow:
    """A data row of a CSV table: its first physical line and its cells by column name."""

    line: int
    cells: dict[str, str]


class CsvHeaderInvalid(GongjiError):
    """The first line does not name the expected columns."""

    code: ClassVar[str] = "csv_header_invalid"
    message_zh: ClassVar[str] = "表头应为 {expected}，实际为 {actual}"
    message_en: ClassVar[str] = "The header must be {expected}, found {actual}"


class CsvColumnsInvalid(GongjiError):
    """A data row has more or fewer cells than the header."""

    code: ClassVar[str] = "csv_columns_invalid"
    message_zh: ClassVar[str] = "应有 {expected} 列，实际为 {actual} 列"
    message_en: ClassVar[str] = "Expected {expected} columns, found {actual}"


class CsvMalformed(GongjiError):
    """The text is not readable as CSV (for example an unterminated quote)."""

    code: ClassVar[str] = "csv_malformed"
    message_zh: ClassVar[str] = "CSV 格式错误：{reason}"
    message_en: ClassVar[str] = "Malformed CSV: {reason}"


class CsvTooLarge(GongjiError):
    """The file has more rows than one import accepts."""

    code: ClassVar[str] = "csv_too_large"
    message_zh: ClassVar[str] = "文件超过 {limit} 行"
    message_en: ClassVar[str] = "The file has more than {limit} rows"


def read_csv_table(
    text: str, columns: Sequence[str], optional_columns: Sequence[str] = ()
) -> tuple[list[CsvRow], list[LineError]]:
    """Read a CSV table whose header is ``columns`` followed by any prefix of ``optional_columns``.

    Blank lines are skipped; a UTF-8 byte-order mark (spreadsheet exports) is ignored. Cells are
    stripped of surrounding whitespace. Rows with the wrong number of cells become line errors.
    """
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")), strict=True)
    try:
        header = _read_header(reader, columns, optional_columns)
        if isinstance(header, LineError):
            return [], [header]
        return _read_rows(reader, header)
    except csv.Error as exc:
        return [], [LineError.of(reader.line_num, CsvMalformed(reason=str(exc)))]


def _read_header(
    reader: Reader, columns: Sequence[str], optional_columns: Sequence[str]
) -> list[str] | LineError:
    """The header, if it is ``columns`` plus a prefix of ``optional_columns``."""
    actual = [cell.strip() for cell in next(reader, [])]
    allowed = [*columns, *optional_columns]
    if len(actual) < len(columns) or actual != allowed[: len(actual)]:
        error = CsvHeaderInvalid(expected=",".join(columns), actual=",".join(actual))
        return LineError.of(max(reader.line_num, 1), error)
    return actual


def _read_rows(reader: Reader, header: list[str]) -> tuple[list[CsvRow], list[LineError]]:
    rows: list[CsvRow] = []
    errors: list[LineError] = []
    line = reader.line_num + 1
    for cells in reader:
        if len(rows) + len(errors) >= CSV_ROWS_MAX:
            errors.append(LineError.of(line, CsvTooLarge(limit=CSV_ROWS_MAX)))
            break
        if any(cell.strip() for cell in cells):
            if len(cells) == len(header):
                stripped = [cell.strip() for cell in cells]
                rows.append(CsvRow(line=line, cells=dict(zip(header, stripped, strict=True))))
            else:
                error = CsvColumnsInvalid(expected=len(header), actual=len(cells))
                errors.append(LineError.of(line, error))
        line = reader.line_num + 1
    return rows, errors
