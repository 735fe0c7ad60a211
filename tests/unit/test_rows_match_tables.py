"""The typed rows use cases write are the tables' own columns: a column added to a ``Table``
without its row (or the reverse) fails here, so the schema stays the one source of truth."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Table

from gongji.store import rows
from gongji.store.tables_people import (
    authorizations,
    enrolments,
    grants,
    inheritance_payouts,
    kinship_records,
    persons,
    relationships,
    wallets,
)

NEW_ROWS = [
    (rows.PersonRow, persons, set()),
    (rows.EnrolmentRow, enrolments, {"id"}),
    (rows.WalletRow, wallets, set()),
    (rows.RelationshipRow, relationships, set()),
    (rows.GrantRow, grants, set()),
    (rows.AuthorizationRow, authorizations, set()),
    (rows.KinshipRow, kinship_records, {"id"}),
    (rows.InheritanceRow, inheritance_payouts, set()),
]
CHANGES = [
    (rows.EnrolmentChanges, enrolments, "id"),
    (rows.WalletChanges, wallets, "psn_no"),
    (rows.RelationshipChanges, relationships, "id"),
    (rows.GrantChanges, grants, "id"),
    (rows.AuthorizationChanges, authorizations, "id"),
]


@pytest.mark.parametrize(
    ("row", "table", "generated"), NEW_ROWS, ids=lambda v: getattr(v, "__name__", "")
)
def test_a_new_row_gives_every_column_but_the_generated_ones(
    row: Any, table: Table, generated: set[str]
) -> None:
    assert set(row.__annotations__) == {c.name for c in table.columns} - generated
    assert row.__total__


@pytest.mark.parametrize(
    ("changes", "table", "key"), CHANGES, ids=lambda v: getattr(v, "__name__", "")
)
def test_an_update_may_set_any_column_but_the_key(changes: Any, table: Table, key: str) -> None:
    assert set(changes.__annotations__) == {c.name for c in table.columns} - {key}
    assert not changes.__total__


@pytest.mark.parametrize(
    ("row", "table", "generated"), NEW_ROWS, ids=lambda v: getattr(v, "__name__", "")
)
def test_a_nullable_column_is_optional_in_its_row_and_only_then(
    row: Any, table: Table, generated: set[str]
) -> None:
    for column in table.columns:
        if column.name in generated:
            continue
        annotation = str(row.__annotations__[column.name])
        assert ("None" in annotation) == bool(column.nullable), column.name
