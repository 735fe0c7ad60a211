"""The typed rows use cases write are the tables' own columns: a column added to a ``Table``
without its row (or the reverse) fails here, so the schema stays the one source of truth."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import pytest
from sqlalchemy import Table

from gongji.identity.store import access_repo
from gongji.notify.store import notify_repo
from gongji.settlement.store import settlements_repo
from gongji.store import rows
from gongji.store.tables_access import access_tokens, one_time_codes, operators
from gongji.store.tables_family import kinship_withdrawals, notifications, person_settings
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
from gongji.store.tables_settlements import settlement_draws, settlement_items

NEW_ROWS = [
    (rows.PersonRow, persons, set()),
    (rows.EnrolmentRow, enrolments, {"id"}),
    (rows.WalletRow, wallets, set()),
    (rows.RelationshipRow, relationships, set()),
    (rows.GrantRow, grants, set()),
    (rows.AuthorizationRow, authorizations, set()),
    (rows.KinshipRow, kinship_records, {"id"}),
    (rows.KinshipWithdrawalRow, kinship_withdrawals, {"id"}),
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


# Rows read and written whole as dataclasses: every field a column, every column a field.
WHOLE_RECORDS = [
    (access_repo.CodeRow, one_time_codes),
    (access_repo.TokenRow, access_tokens),
    (access_repo.OperatorRow, operators),
    (settlements_repo.ItemRow, settlement_items),
    (settlements_repo.DrawRow, settlement_draws),
    (notify_repo.NotificationRow, notifications),
    (notify_repo.SettingsRow, person_settings),
]


@pytest.mark.parametrize(
    ("record", "table"), WHOLE_RECORDS, ids=lambda v: getattr(v, "__name__", "")
)
def test_a_whole_record_is_its_tables_columns(record: Any, table: Table) -> None:
    assert [f.name for f in fields(record)] == [c.name for c in table.columns]
    for field in fields(record):
        assert ("None" in str(field.type)) == bool(table.c[field.name].nullable), field.name
