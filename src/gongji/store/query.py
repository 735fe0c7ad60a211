"""Helpers every area's SQL uses to read rows into typed records.

``lock=True`` takes PostgreSQL row locks (``FOR UPDATE``); on SQLite the whole write transaction
already holds the database's write lock from ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

from sqlalchemy import Connection, Select, Table

from gongji.store.engine import is_sqlite

R = TypeVar("R")


def record_columns(table: Table, record: type[Any]) -> list[Any]:
    """The columns a record type reads, by its field names."""
    return [table.c[item.name] for item in fields(record)]


def locked(connection: Connection, statement: Select[Any], lock: bool) -> Select[Any]:
    if lock and not is_sqlite(connection.engine):
        return statement.with_for_update()
    return statement


def equal_filters(**equal_to: str | None) -> tuple[list[str], dict[str, Any]]:
    """``column = :column`` for every given value (a column's name is its parameter's)."""
    given = {column: value for column, value in equal_to.items() if value is not None}
    return [f"{column} = :{column}" for column in given], dict(given)


def one(connection: Connection, statement: Select[Any], record: type[R]) -> R | None:
    row = connection.execute(statement).mappings().first()
    return None if row is None else record(**dict(row))


def all_rows(connection: Connection, statement: Select[Any], record: type[R]) -> list[R]:
    return [record(**dict(row)) for row in connection.execute(statement).mappings()]
