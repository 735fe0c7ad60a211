"""SQL for the medical-insurance catalogue (``catalogue_items``). No decisions.

Rows come back as the settlement rules' own :class:`~gongji.settlement.domain.items.CatalogueItem`
so an import compares a file's line with the stored item by plain equality. The self-pay ratio
is stored as decimal text: a binary float column could not hold 0.1 exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import Connection, insert, or_, select, update

from gongji.settlement.domain.initials import name_initials
from gongji.settlement.domain.items import CatalogueItem, ItemCategory, ItemClass
from gongji.store import raw
from gongji.store.tables_institutions import catalogue_items
from gongji.store.tables_reference import GENERATION_COLUMN

LOOKUP_CHUNK: Final = 1_000
"""Codes per ``IN (…)`` list: a bill may have thousands of lines, SQLite binds at most 32 766."""


_ITEM_COLUMNS = ", ".join(raw.table_columns(catalogue_items))


def _item(row: Sequence[Any]) -> CatalogueItem:
    """From a row of every column in table order (``select(catalogue_items)`` or text)."""
    (code, name, item_class, selfpay_prop, ceiling, account_payable, category, listed, _at, fixed,
     _initials) = row  # fmt: skip
    return CatalogueItem(
        code=code,
        name=name,
        item_class=ItemClass(item_class),
        category=ItemCategory(category),
        selfpay_prop=Decimal(selfpay_prop),
        price_ceiling_fen=ceiling,
        account_payable=bool(account_payable),
        in_catalogue=bool(listed),
        price_fixed=bool(fixed),
    )


def _columns(item: CatalogueItem) -> dict[str, Any]:
    return {
        "code": item.code,
        "name": item.name,
        "item_class": item.item_class.value,
        "selfpay_prop": str(item.selfpay_prop),
        "price_ceiling_fen": item.price_ceiling_fen,
        "account_payable": int(item.account_payable),
        "category": item.category.value,
        "in_catalogue": int(item.in_catalogue),
        "price_fixed": int(item.price_fixed),
        "name_initials": name_initials(item.name),
    }


def items_by_code(connection: Connection, codes: Iterable[str]) -> dict[str, CatalogueItem]:
    return {code: item for code, (item, _) in items_stamped(connection, codes).items()}


def items_stamped(
    connection: Connection, codes: Iterable[str]
) -> dict[str, tuple[CatalogueItem, int | None]]:
    """The items held of ``codes``, each with the reference generation it was read under
    (store/tables_reference.py)."""
    wanted = sorted(set(codes))
    found: dict[str, tuple[CatalogueItem, int | None]] = {}
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        for row in raw.fetch(connection, *_items_read(wanted[start : start + LOOKUP_CHUNK])):
            found[row[0]] = (_item(row[:-1]), row[-1])
    return found


def items_reads(codes: Iterable[str]) -> list[raw.Read]:
    """The reads :func:`items_by_code` makes for ``codes``, to make ahead (``raw.prefetch``)."""
    wanted = sorted(set(codes))
    return [
        _items_read(wanted[start : start + LOOKUP_CHUNK])
        for start in range(0, len(wanted), LOOKUP_CHUNK)
    ]


def _items_read(chunk: list[str]) -> raw.Read:
    params: dict[str, Any] = {}
    where = raw.in_list("code", chunk, params)
    return f"SELECT {_ITEM_COLUMNS}, {GENERATION_COLUMN} FROM catalogue_items WHERE {where}", params


def item_updated_at_us(connection: Connection, code: str) -> int | None:
    statement = select(catalogue_items.c.updated_at_us).where(catalogue_items.c.code == code)
    return connection.execute(statement).scalar_one_or_none()


def insert_item(connection: Connection, item: CatalogueItem, now_us: int) -> None:
    connection.execute(insert(catalogue_items), [{**_columns(item), "updated_at_us": now_us}])


def update_item(connection: Connection, item: CatalogueItem, now_us: int) -> None:
    statement = update(catalogue_items).where(catalogue_items.c.code == item.code)
    connection.execute(statement.values(**_columns(item), updated_at_us=now_us))


def search_items(connection: Connection, text: str, limit: int) -> list[CatalogueItem]:
    """Items whose code, name or the name's pinyin initials contain ``text`` in any case (all
    when empty), by code.

    ``%``, ``_`` and ``\\`` typed by a user are escaped, so they match only themselves."""
    statement = select(catalogue_items).order_by(catalogue_items.c.code).limit(limit)
    if text:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        statement = statement.where(
            or_(
                catalogue_items.c.code.ilike(pattern, escape="\\"),
                catalogue_items.c.name.ilike(pattern, escape="\\"),
                catalogue_items.c.name_initials.like(pattern.lower(), escape="\\"),
            )
        )
    return [_item(row) for row in connection.execute(statement)]
