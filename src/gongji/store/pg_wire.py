"""PostgreSQL statements sent as one libpq pipeline, past psycopg's cursors.

A psycopg cursor costs about 30 µs of Python a statement in pipeline mode (its query
conversion, preparation bookkeeping and result generators), more than the statement costs the
server: twenty statements cost the client 600 µs through cursors and 100 µs here, and a
settlement sends about twenty. What this module keeps of psycopg is what is written in C: its
libpq binding (:mod:`psycopg.pq`), its dumpers and loaders (``Transformer``) and its error
classes, so parameters and rows are the same Python values as through a cursor.

What it does itself:

- ``%s``, ``%(name)s`` and ``%%`` (psycopg's paramstyle) become ``$n``, once per statement text;
- each statement with parameters is prepared once per connection under a name of this module
  and executed by name after; the server plans it once. Only on a connection where psycopg's
  own preparing is off (as store/engine.py makes them): psycopg's rollback deallocates every
  prepared statement of a connection it prepared on, these included. Elsewhere, and behind a
  pooler that keeps no prepared statement (``?prepared_statements=off`` in the database URL),
  statements go unnamed, planned each time;
- a transaction's ``BEGIN`` goes at the front of its first trip, where psycopg would have sent
  it in a round trip of its own (with the isolation level, access mode and deferrability it
  would have asked for). psycopg reads the transaction's status from libpq, so its
  ``commit()`` and ``rollback()`` end it as ever;
- waiting for the server with ``poll``, the GIL released, as psycopg does.

The first statement that fails aborts the rest of the trip (PostgreSQL skips them up to the
trip's Sync); its error is raised as psycopg would have raised it, after the trip is read to
its end, so the connection is ready for the rollback.
"""

from __future__ import annotations

import re
import select
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from functools import lru_cache
from typing import Any, Final, TypeAlias

from psycopg import errors, pq
from psycopg.adapt import PyFormat, Transformer

Statement: TypeAlias = tuple[str, Any, bool]
"""(text in psycopg's paramstyle, its parameters or None, ``many``: a sequence of them)."""

Answer: TypeAlias = tuple[Sequence[Any], int]
"""A statement's rows (empty unless asked for) and its row count (-1: none reported)."""

PREPARED_MAX: Final = 1_000
"""Statements prepared on one connection at most; any more go unnamed (planned each time).
gongji's hot statements are a few hundred texts; the bound stops a statement built with a
varying text from filling the server's memory."""

TRIP_HOOK: Final = "gongji_trip_sent"
"""A DB-API connection (or a proxy of one) that has a method of this name is told of each
trip: ``hook(statements)``, the statements it carried, its ``BEGIN`` included
(sim/db_trips.py counts round trips so)."""

STATEMENT_UNKNOWN: Final = "26000"
"""SQLSTATE of a prepared statement the server does not know: something deallocated the
connection's statements (``DEALLOCATE ALL``, ``DISCARD ALL``). The names are forgotten, so the
transaction that met it may simply run again (store/uow.py retries it)."""

UNNAMED_ONLY: Final = "gongji_unnamed_only"
"""A connection that has this attribute set true prepares nothing: its statements all go unnamed
(store/engine.py sets it behind a pooler that keeps no prepared statement)."""

_STATE: Final = "_gongji_wire"
_SYNC: Final = pq.ExecStatus.PIPELINE_SYNC
_IDLE: Final = pq.TransactionStatus.IDLE
_PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?(.?)", re.DOTALL)


class _Wire:
    """What one connection keeps between trips: its adapters, the names it prepared, its
    socket's pollers, and what does not change for its life (read once: through the bench's
    counting proxy each read is a look-up more)."""

    __slots__ = (
        "hook",
        "lock",
        "may_prepare",
        "named",
        "pgconn",
        "readable",
        "transformer",
        "writable",
    )

    def __init__(self, dbapi: Any) -> None:
        self.pgconn: pq.abc.PGconn = dbapi.pgconn
        self.lock: Any = dbapi.lock
        self.hook: Callable[[int], None] | None = getattr(dbapi, TRIP_HOOK, None)
        self.may_prepare: bool = (  # both set at connect (store/engine.py)
            dbapi.prepare_threshold is None and not getattr(dbapi, UNNAMED_ONLY, False)
        )
        self.transformer = Transformer(dbapi)
        self.named: dict[tuple[str, tuple[int, ...]], bytes] = {}
        socket = self.pgconn.socket
        self.readable = select.poll()
        self.readable.register(socket, select.POLLIN)
        self.writable = select.poll()
        self.writable.register(socket, select.POLLIN | select.POLLOUT)


def send(dbapi: Any, statements: Sequence[Statement], keep: int, fetch: bool) -> list[Answer]:
    """``statements`` in one round trip on ``dbapi`` (a psycopg connection); the answers of the
    last ``keep``, in order. Raises the first failure as psycopg's error."""
    wire: _Wire | None = getattr(dbapi, _STATE, None)
    if wire is None:
        wire = _Wire(dbapi)
        setattr(dbapi, _STATE, wire)
    plan = [_bound(wire, text, params, many) for text, params, many in statements]
    begin = _begin(dbapi, wire.pgconn)
    with wire.lock:
        results = _exchange(wire, begin, plan)
    if wire.hook is not None:
        wire.hook(len(statements) + (begin is not None))
    return _answers(wire, results[len(results) - keep :], fetch)


_Set: TypeAlias = tuple[Sequence[Any], tuple[int, ...], tuple[int, ...]]
"""One parameter set, dumped: (values, their formats, their types)."""

_Bound: TypeAlias = tuple[str, bytes, list[_Set]]
"""(text, ``$n`` text, its parameter sets)."""


def _bound(wire: _Wire, text: str, params: Any, many: bool) -> _Bound:
    """The statement's parameters dumped, before anything is sent: a value psycopg cannot
    adapt fails here, with nothing of the trip on the wire. Each set keeps its own types
    (psycopg picks an integer's by its size)."""
    query, order = _converted(text)
    transformer = wire.transformer
    sets: list[_Set] = []
    for values in params if many else [params]:
        ordered = _ordered(values, order)
        if not ordered:
            sets.append(([], (), ()))
            continue
        count = len(ordered)
        formats = _AUTO[count] if count < len(_AUTO) else (PyFormat.AUTO,) * count
        dumped = transformer.dump_sequence(ordered, formats)
        sets.append((dumped, tuple(transformer.formats or ()), tuple(transformer.types or ())))
    return text, query, sets


_AUTO: Final = [(PyFormat.AUTO,) * n for n in range(64)]
"""psycopg's format for each of ``n`` parameters, made once."""


def _ordered(values: Any, order: tuple[str, ...] | int) -> Sequence[Any]:
    kind = type(values)
    if kind is tuple or kind is list:  # the common cases first: an ABC check costs
        if order == len(values):
            return values  # type: ignore[no-any-return]
    elif kind is dict and type(order) is tuple:
        try:
            return [values[name] for name in order]
        except KeyError as missing:
            raise errors.ProgrammingError(f"parameter {missing} missing") from None
    if isinstance(order, int):
        if order == 0 and (values is None or isinstance(values, Mapping) or not values):
            return ()  # nothing to bind (psycopg ignores a mapping a statement does not use)
        if isinstance(values, Mapping) or len(values) != order:
            raise errors.ProgrammingError(
                f"the statement takes {order} positional parameters, {_described(values)} given"
            )
        return values  # type: ignore[no-any-return]
    if not isinstance(values, Mapping):
        raise errors.ProgrammingError("the statement takes named parameters, a mapping")
    try:
        return [values[name] for name in order]
    except KeyError as missing:
        raise errors.ProgrammingError(f"parameter {missing} missing") from None


def _described(values: Any) -> str:
    return "a mapping" if isinstance(values, Mapping) else f"{len(values or ())}"


@lru_cache(maxsize=2048)
def _converted(text: str) -> tuple[bytes, tuple[str, ...] | int]:
    """The statement with ``$n`` placeholders, and its parameters: their names in ``$n`` order
    (a name used twice is one parameter) or how many positional ones. Any ``%`` other than
    ``%s``, ``%(name)s`` and ``%%`` is refused, as psycopg refuses it."""
    names: list[str] = []
    positional = 0
    parts: list[str] = []
    at = 0
    for match in _PLACEHOLDER.finditer(text):
        name, kind = match.group(1), match.group(2)
        parts.append(text[at : match.start()])
        at = match.end()
        if kind == "%" and name is None:
            parts.append("%")
            continue
        if kind != "s":
            raise errors.ProgrammingError(f"only %s, %(name)s and %% are placeholders: {text!r}")
        if name is None:
            positional += 1
            parts.append(f"${positional}")
            continue
        if name not in names:
            names.append(name)
        parts.append(f"${names.index(name) + 1}")
    if names and positional:
        raise errors.ProgrammingError(f"named and positional parameters mixed: {text!r}")
    parts.append(text[at:])
    return "".join(parts).encode(), tuple(names) if names else positional


def _begin(dbapi: Any, pgconn: pq.abc.PGconn) -> bytes | None:
    """The ``BEGIN`` psycopg would send before this trip, or None (begun already; autocommit)."""
    if pgconn.transaction_status != _IDLE or dbapi.autocommit:
        return None
    begin = ["BEGIN"]
    if dbapi.isolation_level is not None:
        begin.append(f"ISOLATION LEVEL {dbapi.isolation_level.name.replace('_', ' ')}")
    if dbapi.read_only is not None:
        begin.append("READ ONLY" if dbapi.read_only else "READ WRITE")
    if dbapi.deferrable is not None:
        begin.append("DEFERRABLE" if dbapi.deferrable else "NOT DEFERRABLE")
    return " ".join(begin).encode()


_Result: TypeAlias = list[pq.abc.PGresult]  # one statement's results: one per parameter set
_Key: TypeAlias = tuple[str, tuple[int, ...]]  # a prepared statement: its text and types
_Expected: TypeAlias = tuple[int, _Key | None, bytes]
"""A result the trip will read, in order: a statement's (its index, None, b"") or a
preparation's (-1, its key, its name)."""


def _exchange(wire: _Wire, begin: bytes | None, plan: list[_Bound]) -> list[_Result]:
    """Send the trip, read it to its Sync; each statement's results. Prepared names are kept
    only once the server confirmed them."""
    pgconn = wire.pgconn
    expected: list[_Expected] = []
    preparing: dict[_Key, bytes] = {}  # prepared in this trip, not yet confirmed
    pgconn.enter_pipeline_mode()
    try:
        if begin is not None:
            pgconn.send_query_params(begin, None)
            expected.append((-2, None, b""))
        for index, (text, query, sets) in enumerate(plan):
            for values, formats, types in sets:
                key = (text, types)
                name = _name_for(wire, key, query, expected, preparing) if values else None
                if name is None:
                    pgconn.send_query_params(query, values, types or None, formats or None)
                else:
                    pgconn.send_query_prepared(name, values, formats or None)
                expected.append((index, None, b""))
        pgconn.pipeline_sync()
        _flush(wire)
        received = _received(wire)
    except BaseException:
        # Cut off before the Sync was read (the connection lost, a signal): what the server
        # did of the trip is unknown, and libpq still waits for its answers. The connection is
        # closed, so that it is discarded (its next use fails as a lost connection does) rather
        # than pooled half-way through a trip.
        with suppress(Exception):
            pgconn.finish()
        raise
    pgconn.exit_pipeline_mode()
    return _dealt(wire, received, expected, len(plan))


def _name_for(
    wire: _Wire,
    key: _Key,
    query: bytes,
    expected: list[_Expected],
    preparing: dict[_Key, bytes],
) -> bytes | None:
    """The prepared statement's name, preparing it in this trip if new; None: sent unnamed
    (psycopg prepares on this connection, or the connection has prepared its share)."""
    if not wire.may_prepare:
        return None
    name = wire.named.get(key) or preparing.get(key)
    if name is not None:
        return name
    count = len(wire.named) + len(preparing)
    if count >= PREPARED_MAX:
        return None
    name = preparing[key] = f"gongji_{count}".encode()
    wire.pgconn.send_prepare(name, query, key[1])
    expected.append((-1, key, name))
    return name


def _flush(wire: _Wire) -> None:
    """Everything queued on its way, reading meanwhile what the server already answers (it
    stops reading when its own output is not read: a large trip would otherwise hang)."""
    pgconn = wire.pgconn
    while pgconn.flush():
        for _fd, event in wire.writable.poll():
            if event & select.POLLIN:
                pgconn.consume_input()


def _received(wire: _Wire) -> list[pq.abc.PGresult]:
    """Every result up to the trip's Sync."""
    pgconn = wire.pgconn
    results: list[pq.abc.PGresult] = []
    while True:
        while pgconn.is_busy():
            wire.readable.poll()
            pgconn.consume_input()
        result = pgconn.get_result()
        if result is None:  # between one statement's results and the next's
            continue
        if result.status == _SYNC:
            return results
        results.append(result)


def _dealt(
    wire: _Wire, received: list[pq.abc.PGresult], expected: list[_Expected], statements: int
) -> list[_Result]:
    """The results dealt to their statements (the ``BEGIN``'s and the preparations' set apart);
    the first error raised, once the names the server confirmed are kept."""
    if len(received) != len(expected):
        raise errors.InternalError(f"{len(expected)} results expected, {len(received)} read")
    dealt: list[_Result] = [[] for _ in range(statements)]
    failure: pq.abc.PGresult | None = None
    for result, (index, key, name) in zip(received, expected, strict=True):
        if failure is None and result.status == pq.ExecStatus.FATAL_ERROR:
            failure = result
        if key is not None:
            if result.status == pq.ExecStatus.COMMAND_OK:
                wire.named[key] = name
        elif index >= 0:
            dealt[index].append(result)
    if failure is not None:
        error = errors.error_from_result(failure, encoding="utf-8")
        if error.sqlstate == STATEMENT_UNKNOWN:
            wire.named.clear()  # deallocated behind our back: the next trips prepare again
        raise error
    return dealt


def _answers(wire: _Wire, kept: list[_Result], fetch: bool) -> list[Answer]:
    transformer = wire.transformer
    answers: list[Answer] = []
    for results in kept:
        rows: Sequence[Any] = ()
        if fetch and results:
            last = results[-1]
            transformer.set_pgresult(last)
            rows = transformer.load_rows(0, last.ntuples, tuple)
        if len(results) == 1:
            count = results[0].command_tuples
            answers.append((rows, -1 if count is None else count))
            continue
        counts = [result.command_tuples for result in results]
        answers.append((rows, sum(c for c in counts if c is not None) if counts else -1))
    return answers
