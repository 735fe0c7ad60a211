"""Imports of reference lists that change over time: institutions and the catalogue.

Unlike persons or injections (where a posted amount is never edited), a reference row may be
replaced: a catalogue price ceiling changes, an institution is suspended. So an import here is
an upsert, with the same promises as the other imports (gongji.people.service.imports):

- every line is checked first, against the file (a key twice is a line error) and by the
  caller's parser; any problem and nothing is written, each problem reported with its line;
- otherwise new keys are created, changed rows updated (their ``updated_at`` recorded) and equal
  rows left alone, so importing the same file twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from gongji.core.errors import GongjiError
from gongji.core.importing import CsvHeaderInvalid, CsvRow, LineError, read_csv_table

V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class UpsertResult:
    """What an import did, line by line: created, updated, or found exactly as stored."""

    kind: str
    lines: int
    created: int
    updated: int
    unchanged: int
    errors: list[LineError]

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True, slots=True)
class UpsertSpec(Generic[V]):
    """How one kind of row is read, keyed, found and written."""

    kind: str
    columns: Sequence[str]
    parse: Callable[[Mapping[str, str]], V]
    key: Callable[[V], str]
    duplicate: Callable[[str, int], GongjiError]
    stored: Callable[[list[str]], Mapping[str, V]]
    write: Callable[[V, bool], None]
    """Called with the value and whether it is new (insert) or changed (update)."""
    optional_columns: Sequence[str] = ()
    """Columns a file may add after ``columns`` (in this order); ``parse`` reads their absence."""


def upsert_csv(spec: UpsertSpec[V], text: str) -> UpsertResult:
    """Check the whole file, then write it; see the module docstring for the promises."""
    rows, errors = read_csv_table(text, spec.columns, spec.optional_columns)
    lines = len(rows) + sum(1 for error in errors if error.code != CsvHeaderInvalid.code)
    values = _parse_all(spec, rows, errors)
    if errors:
        return UpsertResult(spec.kind, lines, 0, 0, 0, sorted(errors, key=lambda e: e.line))
    return upsert_values(spec, values, lines)


def upsert_values(spec: UpsertSpec[V], values: Sequence[V], lines: int) -> UpsertResult:
    """Write checked values (keys unique): insert new ones, update changed ones."""
    stored = spec.stored([spec.key(value) for value in values])
    created = updated = 0
    for value in values:
        known = stored.get(spec.key(value))
        if known is None:
            spec.write(value, True)
            created += 1
        elif known != value:
            spec.write(value, False)
            updated += 1
    return UpsertResult(spec.kind, lines, created, updated, len(values) - created - updated, [])


def _parse_all(spec: UpsertSpec[V], rows: list[CsvRow], errors: list[LineError]) -> list[V]:
    values: list[V] = []
    first_line_of: dict[str, int] = {}
    for row in rows:
        try:
            value = spec.parse(row.cells)
            key = spec.key(value)
            if key in first_line_of:
                raise spec.duplicate(key, first_line_of[key])
        except GongjiError as error:
            errors.append(LineError.of(row.line, error))
            continue
        first_line_of[key] = row.line
        values.append(value)
    return values
