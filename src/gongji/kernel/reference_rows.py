"""Reference rows kept in memory: the institutions, signing keys and catalogue items that
settlements read, each kept by a process with the generation it was read under.

Every settlement reads its institution, the key that signed it and its bill's catalogue items:
rows that change a few times a year, read thousands of times a day. Read each time, they cost a
settlement three statements and the building of their records; kept, one statement (the
generation) a transaction: on SQLite two statements of a signed settlement's twenty-three, on
PostgreSQL two of its first round trip's eleven (docs/benchmarks.md, step 17). Any change to
their tables gives the database's reference generation a new random number in the changing
transaction (store/tables_reference.py), and every read of such a row brings the number it was
read under with it. A transaction reads the generation once, and takes a row kept under that
very number instead of reading it: so it sees what it would have read, a suspension, a revoked
key or a new price from the first transaction that can see the change, in every process.

Only the reads of settling use it (``check_can_settle``, ``live_credential``, ``load_items``):
a transaction that changes reference rows and reads them back reads its own repositories, as
the generation it read first no longer names what it sees.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Final, TypeAlias, TypeVar, cast

from gongji.store import raw
from gongji.store.raw import Read
from gongji.store.tables_reference import GENERATION
from gongji.store.uow import UnitOfWork

T = TypeVar("T")

ROWS_KEPT_MAX: Final = 50_000
"""Rows a process keeps at most (a province's catalogue has tens of thousands of items); past
it, it forgets them all and keeps what it reads next."""

_LEARNED: Final = "reference_generation"
_GENERATION_READ: Final[Read] = (GENERATION, {})

Stamped: TypeAlias = tuple[T, int | None]
"""A row as read, with the generation it was read under (None where the schema has none)."""


class KeptRows:
    """One process's reference rows by (kind, key), each with its generation. Threads share
    it: each call is a single dictionary operation, whole under the interpreter's lock."""

    def __init__(self, rows_max: int = ROWS_KEPT_MAX) -> None:
        self._rows: dict[tuple[str, str], tuple[int, object]] = {}
        self._rows_max = rows_max

    def under(self, kind: str, key: str, generation: int | None) -> object | None:
        """The row kept under exactly ``generation``, else None."""
        kept = self._rows.get((kind, key))
        if kept is None or generation is None or kept[0] != generation:
            return None
        return kept[1]

    def holds(self, kind: str, key: str) -> bool:
        """Whether a row is kept under any generation: a transaction building its reads ahead
        skips it, and reads it alone in the rare case the generation has moved on."""
        return (kind, key) in self._rows

    def keep(self, kind: str, key: str, generation: int | None, row: object) -> None:
        if generation is None:
            return
        if len(self._rows) >= self._rows_max:
            self._rows.clear()
        self._rows[(kind, key)] = (generation, row)

    def __len__(self) -> int:
        return len(self._rows)


def transaction_generation(uow: UnitOfWork) -> int | None:
    """The generation this transaction sees, read once (ahead, if a caller asked for it with
    :func:`reads_ahead`)."""
    learned = uow.learned
    if _LEARNED not in learned:
        found = raw.fetch(uow.connection, *_GENERATION_READ)
        learned[_LEARNED] = found[0][0] if found else None
    return cast("int | None", learned[_LEARNED])


def kept_row(
    kept: KeptRows,
    uow: UnitOfWork,
    kind: str,
    key: str,
    read: Callable[[], Stamped[T] | None],
) -> T | None:
    """The row of ``key``: kept under this transaction's generation, else ``read()`` and kept
    under the generation it came with. None when there is no such row (not kept: an unknown key
    is asked again each time)."""

    def read_one(_: list[str]) -> dict[str, Stamped[T]]:
        fresh = read()
        return {} if fresh is None else {key: fresh}

    return kept_rows(kept, uow, kind, [key], read_one).get(key)


def kept_rows(
    kept: KeptRows,
    uow: UnitOfWork,
    kind: str,
    keys: Iterable[str],
    read: Callable[[list[str]], Mapping[str, Stamped[T]]],
) -> dict[str, T]:
    """The rows of ``keys`` there are: each kept under this transaction's generation, the
    others read together (``read``) and kept under the generation they came with. An unknown
    key is not kept: it is asked again each time."""
    wanted = list(keys)
    held = any(kept.holds(kind, key) for key in wanted)
    generation = transaction_generation(uow) if held else None  # read only where it may answer
    found: dict[str, T] = {}
    missing: list[str] = []
    for key in wanted:
        row = kept.under(kind, key, generation)
        if row is None:
            missing.append(key)
        else:
            found[key] = cast("T", row)
    if missing:
        for key, (row_read, read_under) in read(missing).items():
            kept.keep(kind, key, read_under, row_read)
            found[key] = row_read
    return found


def reads_ahead(
    kept: KeptRows,
    uow: UnitOfWork | None,
    kind: str,
    keys: Iterable[str],
    reads: Callable[[list[str]], list[Read]],
) -> list[Read]:
    """What a transaction about to look up ``keys`` should read ahead: the rows not kept, and
    the generation where a kept row may answer, unless ``uow`` has it already (a caller without
    the transaction at hand passes none: a second copy of the read in one prefetch is dropped)."""
    wanted = list(keys)
    missing = [key for key in wanted if not kept.holds(kind, key)]
    ahead = reads(missing) if missing else []
    if len(missing) < len(wanted) and (uow is None or _LEARNED not in uow.learned):
        return [_GENERATION_READ, *ahead]
    return ahead
