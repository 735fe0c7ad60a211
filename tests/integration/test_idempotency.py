"""Idempotent writes on both databases: one effect per key, the same answer every time, even
for twenty identical requests at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from gongji.core.clock import ManualClock
from gongji.core.errors import GongjiError
from gongji.kernel import idempotency
from gongji.kernel.context import Context
from gongji.people.store import people_repo
from gongji.store.tables_access import idempotency_keys
from gongji.store.tables_people import person_events
from gongji.store.uow import UnitOfWork, is_retryable, run_in_transaction

SCOPE = "person:P1"
Answer = tuple[int, dict[str, Any], bool]


class Refused(GongjiError):
    code = "test_refused"


def add_event(ctx: Context, uow: UnitOfWork, note: str) -> Mapping[str, Any]:
    """The trivial command: one event row, and an answer that tells which row."""
    people_repo.record_event(uow.connection, "P1", "test", "tester", ctx.now_us(), note=note)
    count = uow.connection.execute(select(func.count()).select_from(person_events)).scalar_one()
    return {"note": note, "events": int(count)}


def send(
    ctx: Context,
    key: str,
    body: Mapping[str, Any],
    command: Callable[[UnitOfWork], Mapping[str, Any]] | None = None,
    status_code: int = 201,
) -> Answer:
    """What api.writes.write does, without HTTP."""
    fingerprint = idempotency.request_hash("test.add", body)

    def work(uow: UnitOfWork) -> Answer:
        def produce() -> Mapping[str, Any]:
            if command is not None:
                return command(uow)
            return add_event(ctx, uow, str(body.get("note")))

        answer = idempotency.run_idempotent(ctx, uow, SCOPE, key, fingerprint, status_code, produce)
        uow.commit()
        return answer

    return run_in_transaction(ctx.engine, work)


def events(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(person_events)).scalar_one())


def keys(engine: Engine) -> int:
    with engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(idempotency_keys))
        return int(count.scalar_one())


def test_the_same_key_and_body_answer_the_stored_response(ctx: Context) -> None:
    first = send(ctx, "k1", {"note": "a"})
    again = send(ctx, "k1", {"note": "a"})
    assert first == (201, {"note": "a", "events": 1}, False)
    assert again == (201, {"note": "a", "events": 1}, True)
    assert events(ctx.engine) == 1


def test_the_same_key_with_another_body_is_refused(ctx: Context) -> None:
    send(ctx, "k1", {"note": "a"})
    with pytest.raises(idempotency.IdempotencyKeyReused) as refused:
        send(ctx, "k1", {"note": "b"})
    assert refused.value.code == "idempotency_key_reused"
    assert events(ctx.engine) == 1


def test_the_body_is_compared_canonically() -> None:
    one = idempotency.request_hash("c", {"a": 1, "b": [1, 2]})
    assert one == idempotency.request_hash("c", {"b": [1, 2], "a": 1})
    assert one != idempotency.request_hash("other", {"a": 1, "b": [1, 2]})


def test_keys_are_scoped_to_the_asker(ctx: Context) -> None:
    send(ctx, "k1", {"note": "a"})
    fingerprint = idempotency.request_hash("test.add", {"note": "a"})

    def other(uow: UnitOfWork) -> Answer:
        answer = idempotency.run_idempotent(
            ctx, uow, "person:P2", "k1", fingerprint, 201, lambda: add_event(ctx, uow, "a")
        )
        uow.commit()
        return answer

    assert run_in_transaction(ctx.engine, other)[2] is False
    assert events(ctx.engine) == 2


def test_a_refused_command_stores_nothing_and_changes_nothing(ctx: Context) -> None:
    def refuse(uow: UnitOfWork) -> Mapping[str, Any]:
        add_event(ctx, uow, "half done")
        raise Refused()

    with pytest.raises(Refused):
        send(ctx, "k1", {"note": "a"}, command=refuse)
    assert (events(ctx.engine), keys(ctx.engine)) == (0, 0)
    assert send(ctx, "k1", {"note": "a"})[2] is False  # the key is free to try again
    assert events(ctx.engine) == 1


@pytest.mark.parametrize("key", ["", "x" * 129, "clé", "tab\there", "new\nline", "\x7f"])
def test_a_key_is_one_to_128_printable_ascii_characters(ctx: Context, key: str) -> None:
    with pytest.raises(idempotency.IdempotencyKeyInvalid) as refused:
        send(ctx, key, {"note": "a"})
    assert refused.value.code == "idempotency_key_invalid"
    assert events(ctx.engine) == 0


def test_the_longest_key_and_a_uuid_are_fine(ctx: Context) -> None:
    assert send(ctx, "x" * 128, {"note": "a"})[2] is False
    assert send(ctx, "6f1c1c2e-8b0a-4d52-9a8e-0b1f1c2d3e4f", {"note": "b"})[2] is False


def test_twenty_identical_requests_at_once_have_one_effect(ctx: Context) -> None:
    barrier = threading.Barrier(20)
    answers: list[Answer] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def slow_add(uow: UnitOfWork) -> Mapping[str, Any]:
        time.sleep(0.05)  # keep the first transaction open while the others arrive
        return add_event(ctx, uow, "once")

    def client() -> None:
        barrier.wait()
        try:
            answer = send(ctx, "same-key", {"note": "once"}, command=slow_add)
        except BaseException as error:  # collected and reported by the main thread
            with lock:
                errors.append(error)
            return
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=client) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert len(answers) == 20
    assert {(status, tuple(sorted(body.items()))) for status, body, _ in answers} == {
        (201, (("events", 1), ("note", "once")))
    }
    assert sum(1 for *_, replayed in answers if not replayed) == 1
    assert events(ctx.engine) == 1


def test_keys_are_kept_at_least_48_hours(ctx: Context, clock: ManualClock) -> None:
    send(ctx, "k1", {"note": "a"})
    clock.advance(timedelta(hours=47))
    one_hour = 3600 * 1_000_000

    def purge(older_than_us: int) -> int:
        def work(uow: UnitOfWork) -> int:
            purged = idempotency.purge_idempotency_keys(ctx, uow, older_than_us)
            uow.commit()
            return purged

        return run_in_transaction(ctx.engine, work)

    assert purge(one_hour) == 0  # asked for 1 h, still kept 48 h
    clock.advance(timedelta(hours=1, microseconds=1))
    assert purge(one_hour) == 1
    assert send(ctx, "k1", {"note": "b"})[2] is False


def test_a_sqlite_unique_violation_is_retryable_like_23505(sqlite_engine: Engine) -> None:
    row = {
        "scope": "s",
        "key": "k",
        "request_hash": "h",
        "status_code": 200,
        "response_body": "{}",
        "created_at_us": 0,
    }
    with sqlite_engine.begin() as connection:
        connection.execute(insert(idempotency_keys), [row])
    with pytest.raises(IntegrityError) as duplicate, sqlite_engine.begin() as connection:
        connection.execute(insert(idempotency_keys), [row])
    assert is_retryable(duplicate.value)
    with pytest.raises(IntegrityError) as not_null, sqlite_engine.begin() as connection:
        connection.execute(insert(idempotency_keys), [{**row, "key": "k2", "scope": None}])
    assert not is_retryable(not_null.value)
